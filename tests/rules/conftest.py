"""Test set-up for the rules engine: a deterministic Hypothesis profile, no example database."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "rules",
    database=None,
    derandomize=True,
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=False,
)
