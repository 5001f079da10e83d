"""The tables viral/ owns: referrals, link clicks, tracked source links, invitations.

They point at the contest engine's tables (contest, entry, organizer) by foreign key only;
``contest.models`` imports them so that the metadata always holds every table.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from contest.columns import UTCDateTime, utcnow


class ReferralStatus:
    PENDING = "pending"  # the invitee has not confirmed yet
    CREDITED = "credited"
    NOT_CREDITED = "not_credited"  # a rule or the cap: reasons say which
    REVIEW = "review"  # flagged by anti-fraud: earns nothing until an organizer clears it
    REJECTED = "rejected"  # confirmed as fraud by the organizer


class Referral(SQLModel, table=True):
    """One per referred entry: whom it came from and what it earned. Credits happen once."""

    __table_args__ = (sa.Index("ix_referral_contest_status", "contest_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id")
    referrer_entry_id: int = Field(foreign_key="entry.id", index=True)
    referred_entry_id: int = Field(foreign_key="entry.id", sa_column_kwargs={"unique": True})
    status: str = Field(default=ReferralStatus.PENDING, max_length=16)
    reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    score: int = 0
    bonus: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="organizer.id")


class LinkClick(SQLModel, table=True):
    """Append-only: a click on a referral link (/r/) or a source link (/s/)."""

    __table_args__ = (sa.Index("ix_linkclick_contest_kind", "contest_id", "kind", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id")
    kind: str = Field(max_length=16)  # referral | source
    code: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SourceLink(SQLModel, table=True):
    """A tracked link the organizer gives a partner, a newsletter, a poster or a campaign."""

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id", index=True)
    code: str = Field(max_length=16, sa_column_kwargs={"unique": True})
    label: str = Field(max_length=100)
    kind: str = Field(default="partner", max_length=16)  # partner | newsletter | poster | campaign
    utm_source: str = Field(default="", max_length=100)
    utm_medium: str = Field(default="", max_length=100)
    utm_campaign: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    """A platform-sent invitation (only where the rules allow it): the address only as a keyed
    hash, once per address and contest, ever."""

    __table_args__ = (sa.UniqueConstraint("contest_id", "address_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id")
    referrer_entry_id: int = Field(foreign_key="entry.id", index=True)
    address_hash: str = Field(max_length=64)
    ip_network: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InviteSuppression(SQLModel, table=True):
    """ "Never invite me again", honoured for every organizer of this installation."""

    address_hash: str = Field(max_length=64, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _table(model: type[SQLModel]) -> sa.Table:
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]


# Typed tables for queries written with SQLAlchemy Core.
referral = _table(Referral)
linkclick = _table(LinkClick)
sourcelink = _table(SourceLink)
invitation = _table(Invitation)
invitesuppression = _table(InviteSuppression)


def engine_table(name: str) -> sa.Table:
    """A table of the contest engine that viral reads (``entry``, ``person``, ``contest``),
    found by name: viral depends on those columns, not on the contest package."""
    return SQLModel.metadata.tables[name]
