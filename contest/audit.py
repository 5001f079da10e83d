"""The organizer's audit log (EU-ACCOUNT-1): who did what, to what, when. Append-only; owners
read it page by page and download it as CSV. No HTTP here.

Events are written by the operations themselves (a draw, an export, a connection or member
change); who acted comes from contest.actors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.csvcells import csv_chunks
from contest.i18n import N_

# What each action is called on the audit page; an action without a label shows its code.
ACTIONS = {
    "contest.created": N_("Contest created"),
    "contest.updated": N_("Contest changed"),
    "contest.published": N_("Contest published"),
    "contest.closed": N_("Contest closed"),
    "contest.archived": N_("Contest archived"),
    "contest.duplicated": N_("Contest duplicated"),
    "contest.drawn": N_("Draw run"),
    "leads.exported": N_("Leads exported"),
    "leads.read": N_("Leads read through the API"),
    "entries.read": N_("Entries read through the API"),
    "vouchers.exported": N_("Vouchers exported"),
    "link.created": N_("Tracked link created"),
    "referral.decided": N_("Referral reviewed"),
    "referral.clear": N_("Referral cleared (credited)"),
    "referral.reject": N_("Referral rejected"),
    "organization.updated": N_("Organization changed"),
    "member.invited": N_("Member invited"),
    "member.joined": N_("Member joined"),
    "member.role_changed": N_("Member's role changed"),
    "member.removed": N_("Member removed"),
    "connection.saved": N_("Connection saved"),
    "connection.removed": N_("Connection removed"),
    "connection.tested": N_("Connection tested"),
    "sending_domain.saved": N_("Sending address changed"),
    "sending_domain.checked": N_("Sending domain's DNS records checked"),
    "token.created": N_("API token created"),
    "token.revoked": N_("API token revoked"),
    "person.erased": N_("Person erased"),
    "privacy.purged": N_("Personal data purged"),
}
PAGE_SIZE = 50


def audit(
    connection: Connection,
    organizer_id: int,
    action: str,
    detail: Mapping[str, Any],
    now: datetime,
    contest_id: int | None = None,
) -> None:
    """Writes one event in ``connection``'s transaction (it stands or falls with the change)."""
    connection.execute(
        sa.insert(tables.auditevent).values(
            organizer_id=organizer_id,
            contest_id=contest_id,
            action=action,
            detail=dict(detail),
            created_at=now,
        )
    )


@dataclass(frozen=True)
class AuditLine:
    id: int
    created_at: datetime
    actor: str
    action: str
    contest_slug: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditLine]
    total: int
    next: int | None  # the ``before`` of the next (older) page


def _query(organizer_id: int) -> sa.Select[Any]:
    event, contest = tables.auditevent, tables.contest
    return (
        sa.select(
            event.c.id,
            event.c.created_at,
            event.c.actor,
            event.c.action,
            contest.c.slug,
            event.c.detail,
        )
        .outerjoin(contest, contest.c.id == event.c.contest_id)
        .where(event.c.organizer_id == organizer_id)
        .order_by(event.c.id.desc())
    )


def _line(row: Any) -> AuditLine:
    return AuditLine(row.id, row.created_at, row.actor, row.action, row.slug, row.detail or {})


def audit_page(
    connection: Connection, organizer_id: int, before: int | None = None, limit: int = PAGE_SIZE
) -> AuditPage:
    """The newest events (older than event ``before`` when given), and the total."""
    event = tables.auditevent
    query = _query(organizer_id)
    if before is not None:
        query = query.where(event.c.id < before)
    rows = connection.execute(query.limit(limit + 1)).all()
    total = connection.execute(
        sa.select(sa.func.count()).where(event.c.organizer_id == organizer_id)
    ).scalar_one()
    items = [_line(row) for row in rows[:limit]]
    more = len(rows) > limit
    return AuditPage(items, int(total), items[-1].id if more and items else None)


def audit_csv(connection: Connection, organizer_id: int) -> Iterator[str]:
    """The whole log as CSV, newest first, streamed."""
    rows = (_line(row) for row in connection.execute(_query(organizer_id)))
    return csv_chunks(
        ["id", "created_at", "actor", "action", "contest", "detail"],
        (
            [
                line.id,
                line.created_at.astimezone(UTC).isoformat(),
                line.actor,
                line.action,
                line.contest_slug or "",
                json.dumps(line.detail, sort_keys=True, ensure_ascii=False),
            ]
            for line in rows
        ),
    )
