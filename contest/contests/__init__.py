"""Contests: their fields declared once (:mod:`.fields`), and the snapshot the app reads
(:mod:`.view`)."""

from contest.contests.fields import ConsentOption, ContestSettings
from contest.contests.view import (
    PUBLIC_STATUSES,
    ContestCache,
    ContestView,
    load_contest,
)

__all__ = [
    "PUBLIC_STATUSES",
    "ConsentOption",
    "ContestCache",
    "ContestSettings",
    "ContestView",
    "load_contest",
]
