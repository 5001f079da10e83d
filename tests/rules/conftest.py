"""Test set-up for the rules engine: a deterministic Hypothesis profile, no example database."""

import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# tests/ on sys.path (tests/conftest.py puts it there) makes this very directory importable as
# a namespace package called "rules", shadowing the real one, which the editable install only
# provides through a meta-path finder consulted last. Put the repository first, and drop a
# shadow imported before this file ran. The helpers beside this file (rules_examples,
# strategies) are imported by name whatever pytest's import mode is.
for path in (str(HERE), str(ROOT)):
    if path in sys.path:
        sys.path.remove(path)
    sys.path.insert(0, path)
if getattr(sys.modules.get("rules"), "__file__", "") is None:
    for name in [n for n in sys.modules if n == "rules" or n.startswith("rules.")]:
        del sys.modules[name]

settings.register_profile(
    "rules",
    database=None,
    derandomize=True,
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=False,
)
