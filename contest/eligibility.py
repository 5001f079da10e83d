"""Who may enter: the contest's entry window and the legal eligibility rules, at entry time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from contest.contests import ContestView
from contest.forms import EntryForm


def check_entry(
    connection: Connection, contest: ContestView, form: EntryForm, key: str, now: datetime
) -> None:
    """Raises EntryRefused when the person may not enter the contest at ``now``."""
    from contest.entries import EntryRefused

    phase = contest.phase(now)
    if phase != "open":
        raise EntryRefused(
            "form",
            "Ce jeu n'accepte pas de participation en ce moment.",
            "This contest does not take entries at the moment.",
            rule_id="ALL-DATES-1",
        )
