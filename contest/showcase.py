"""What a contest's public page shows beside its form: the top referrers, when the organizer
shows them, and the draw's result once drawn. Names are shortened (``viral.stats``); nothing
else identifies anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from contest.contests import ContestView
from contest.draw.results import DRAWN, DrawResult, draw_result
from viral.stats import LeaderboardRow, leaderboard

LEADERS = 5


@dataclass(frozen=True)
class Board:
    leaders: tuple[LeaderboardRow, ...] = ()
    result: DrawResult | None = None


NOTHING = Board()


def shows_leaders(contest: ContestView) -> bool:
    """A leaderboard only where referrals earn chances, and never for a client-only contest."""
    return contest.leaderboard and contest.referral_bonus > 0 and not contest.clients_only


def has_board(contest: ContestView) -> bool:
    """Whether :func:`board` has anything to read: without, the page needs no database."""
    return shows_leaders(contest) or contest.status in DRAWN


def board(connection: Connection, contest: ContestView) -> Board:
    """The leaders and the draw's result, as far as the contest shows them."""
    return Board(
        leaders=leaderboard(connection, contest.id, limit=LEADERS)
        if shows_leaders(contest)
        else (),
        result=draw_result(connection, contest),
    )
