"""Every message shown to people exists in French: a missing translation fails the suite."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHODS = [
    ("contest/**.py", "python"),
    ("contest/templates/**.html", "jinja2"),
    ("contest/templates/**.txt", "jinja2"),
]
OPTIONS = {
    "contest/templates/**.html": {"extensions": "jinja2.ext.i18n"},
    "contest/templates/**.txt": {"extensions": "jinja2.ext.i18n"},
}


def messages_in_code() -> set[str]:
    keywords = {"_": None, "gettext": (2,), "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, options_map=OPTIONS, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_french_translation() -> None:
    with (ROOT / "contest/locale/fr/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(messages_in_code() - translated)
    assert not missing, f"run `make messages` and translate: {missing}"
