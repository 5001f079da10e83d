"""Following a shared link: a participant's referral link (``/r/``) or an organizer's tracked
source link (``/s/``). Each visit is counted, then leads to its contest.

Where the visitor came from travels on in a signed token the web layer makes; no cookie is
set (EU-COOKIE-1), and nothing here knows about the visitor.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rules import Refusal
from viral import models, referrals
from viral.codes import new_code


@dataclass(frozen=True)
class SourceVisit:
    """Where a source link leads, and the source its entries will carry."""

    slug: str
    source: str  # ``utm:{campaign}`` for a campaign with one, else ``partner:{code}``


def follow_referral(
    connection: Connection, code: str, now: datetime, *, counted: bool = True
) -> str | None:
    """The slug of the contest a share code belongs to, the click counted unless ``counted``
    is False (the same network clicked it a moment ago); None (and nothing counted) for a
    code no confirmed participant holds."""
    found = referrals.find_code(connection, code)
    if found is None:
        return None
    contest_id, slug = found
    if counted:
        referrals.record_click(connection, contest_id, "referral", code, now)
    return slug


def follow_source(
    connection: Connection, code: str, now: datetime, *, counted: bool = True
) -> SourceVisit | None:
    """Where a source link leads, the click counted unless ``counted`` is False; None (and
    nothing counted) for an unknown code."""
    link, contest = models.sourcelink, models.engine_table("contest")
    row = connection.execute(
        sa.select(link.c.contest_id, link.c.kind, link.c.utm_campaign, contest.c.slug)
        .join(contest, contest.c.id == link.c.contest_id)
        .where(link.c.code == code)
    ).first()
    if row is None:
        return None
    if counted:
        referrals.record_click(connection, row.contest_id, "source", code, now)
    campaign = row.kind == "campaign" and row.utm_campaign
    source = f"utm:{row.utm_campaign}" if campaign else f"partner:{code}"
    return SourceVisit(slug=str(row.slug), source=source)


# --- The organizer's tracked links -------------------------------------------------------------

KINDS = frozenset({"partner", "newsletter", "poster", "campaign"})
CAMPAIGN = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")  # travels in a URL and in the entry's source


class LinkRefused(Refusal):
    """The tracked link cannot be made as described; nothing was written."""


@dataclass(frozen=True)
class LinkFields:
    """A tracked link as the organizer describes it, before it is checked."""

    label: str
    kind: str = "partner"
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""


@dataclass(frozen=True)
class NewSourceLink:
    code: str
    label: str


def create_source_link(
    connection: Connection, contest_id: int, fields: LinkFields, now: datetime
) -> NewSourceLink:
    """Makes a tracked link for the contest, with a fresh code (its ``/s/`` address).

    Refuses (LinkRefused) a link without a name, of a kind not in ``KINDS``, or with a
    campaign name other than letters, digits, hyphens, underscores and dots. The name and the
    campaign are trimmed, and every text cut to 100 characters.
    """
    label = fields.label.strip()[:100]
    kind = fields.kind or "partner"
    campaign = fields.utm_campaign.strip()[:100]
    if not label:
        raise LinkRefused("label", "Donnez un nom au lien.", "Give the link a name.")
    if kind not in KINDS:
        raise LinkRefused("kind", "Type de lien inconnu.", "Unknown kind of link.")
    if campaign and not CAMPAIGN.match(campaign):
        raise LinkRefused(
            "campaign",
            "Campagne : lettres, chiffres, tirets et points.",
            "Campaign: letters, digits, hyphens and dots.",
        )
    code = new_code()
    connection.execute(
        sa.insert(models.sourcelink).values(
            contest_id=contest_id,
            code=code,
            label=label,
            kind=kind,
            utm_source=fields.utm_source[:100],
            utm_medium=fields.utm_medium[:100],
            utm_campaign=campaign,
            created_at=now,
        )
    )
    return NewSourceLink(code, label)


@dataclass(frozen=True)
class SourceLinkResults:
    """A tracked link and what it brought."""

    code: str
    label: str
    kind: str
    utm_campaign: str
    clicks: int
    entries: int
    confirmed: int


def _link_source() -> sa.ColumnElement[str]:
    """The source a tracked link's entries carry, as :func:`follow_source` gives it."""
    link = models.sourcelink
    return sa.case(
        (
            sa.and_(link.c.kind == "campaign", link.c.utm_campaign != ""),
            sa.literal("utm:") + link.c.utm_campaign,
        ),
        else_=sa.literal("partner:") + link.c.code,
    )


@dataclass(frozen=True)
class LinkSource:
    """A tracked link by the source its entries carry, and the name the organizer gave it."""

    contest_id: int
    source: str  # ``partner:{code}`` or ``utm:{campaign}``, as :func:`follow_source` gives it
    label: str


def link_sources(connection: Connection, contest_ids: Collection[int]) -> list[LinkSource]:
    """The tracked links of these contests, oldest first, so that lists can show a link's name
    rather than its code."""
    link = models.sourcelink
    rows = connection.execute(
        sa.select(link.c.contest_id, _link_source(), link.c.label)
        .where(link.c.contest_id.in_(list(contest_ids)))
        .order_by(link.c.id)
    ).all()
    return [LinkSource(int(contest_id), source, label) for contest_id, source, label in rows]


def source_names(found: Iterable[LinkSource]) -> dict[str, str]:
    """The name of each source among ``found``: its link's name; the names of the campaign
    links sharing one campaign, together."""
    names: dict[str, list[str]] = {}
    for link in found:
        if link.label not in names.setdefault(link.source, []):
            names[link.source].append(link.label)
    return {source: ", ".join(labels) for source, labels in names.items()}


def source_links_report(connection: Connection, contest_id: int) -> list[SourceLinkResults]:
    """The contest's tracked links, oldest first, with their clicks, the entries that came
    through each (by the source :func:`follow_source` gives them) and how many are confirmed."""
    link, click, entry = models.sourcelink, models.linkclick, models.engine_table("entry")
    clicks = (
        sa.select(sa.func.count())
        .where(click.c.kind == "source", click.c.code == link.c.code)
        .scalar_subquery()
    )
    source = _link_source()
    came = sa.and_(entry.c.contest_id == link.c.contest_id, entry.c.source == source)
    entries = sa.select(sa.func.count()).where(came).scalar_subquery()
    confirmed = (
        sa.select(sa.func.count()).where(came, entry.c.status == "confirmed").scalar_subquery()
    )
    rows = connection.execute(
        sa.select(
            link.c.code,
            link.c.label,
            link.c.kind,
            link.c.utm_campaign,
            clicks.label("clicks"),
            entries.label("entries"),
            confirmed.label("confirmed"),
        )
        .where(link.c.contest_id == contest_id)
        .order_by(link.c.id)
    ).all()
    return [
        SourceLinkResults(
            code=row.code,
            label=row.label,
            kind=row.kind,
            utm_campaign=row.utm_campaign,
            clicks=int(row.clicks),
            entries=int(row.entries),
            confirmed=int(row.confirmed),
        )
        for row in rows
    ]
