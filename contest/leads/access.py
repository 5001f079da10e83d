"""The right of access and portability (GDPR Art. 15 and 20): everything held about one
person, in one JSON document, and the request logged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.clock import SYSTEM_CLOCK
from contest.leads.privacy import jsonable, log_request, person_of
from contest.prizes import claims


def export_person(
    connection: Connection,
    organizer_id: int,
    person_id: int,
    *,
    now: datetime | None = None,
    channel: str = "web",
) -> dict[str, Any]:
    """Everything held about the person for this organizer, JSON-ready (Art. 15 and 20), and
    the request logged as answered. Third parties (referrers, invitees) appear only as counts
    and statuses. Raises PersonNotFound for a person of another organizer."""
    now = now or SYSTEM_CLOCK.now()
    person = person_of(connection, organizer_id, person_id)
    entry, contest, organizer = tables.entry, tables.contest, tables.organizer
    entries = connection.execute(
        sa.select(entry, contest.c.slug, contest.c.title)
        .join(contest, contest.c.id == entry.c.contest_id)
        .where(entry.c.person_id == person_id)
        .order_by(entry.c.id)
    ).all()
    ids = [row.id for row in entries]
    slug_of = {row.id: row.slug for row in entries}
    controller = connection.execute(
        sa.select(organizer.c.legal_name, organizer.c.contact_email).where(
            organizer.c.id == organizer_id
        )
    ).one()
    data = {
        "format": "contest-person-export/1",
        "exported_at": now,
        "controller": {"name": controller.legal_name, "contact": controller.contact_email},
        "person": {
            k: getattr(person, k)
            for k in ("id", "email", "first_name", "created_at", "last_activity_at", "erased_at")
        },
        "entries": [
            {
                "contest": row.slug,
                "contest_title": row.title,
                "ticket": row.public_id,
                "status": row.status,
                "chances": row.chances,
                "answers": row.answers,
                "source": row.source,
                "language": row.language,
                "rules_version": row.rules_version,
                "referral_code": row.referral_code,
                "ip_network": row.ip_network,
                "created_at": row.created_at,
                "confirmed_at": row.confirmed_at,
            }
            for row in entries
        ],
        "consents": _consents(connection, person_id, slug_of),
        **_referrals(connection, ids, slug_of),
        "prizes": _prizes(connection, ids, slug_of),
        "client": _client(connection, organizer_id, person.email_key),
        "contacts": [
            {"kind": row.kind, "at": row.created_at}
            for row in connection.execute(
                sa.select(tables.contactevent).where(tables.contactevent.c.person_id == person_id)
            )
        ],
        "data_requests": _requests(connection, organizer_id, person_id),
    }
    log_request(connection, organizer_id, person_id, "access", channel, now)
    result: dict[str, Any] = jsonable(data)
    return result


def _consents(connection: Connection, person_id: int, slug_of: dict[int, str]) -> list[Any]:
    consent = tables.consentrecord
    rows = connection.execute(
        sa.select(consent).where(consent.c.person_id == person_id).order_by(consent.c.id)
    )
    fields = ("purpose", "event", "wording", "wording_hash", "language", "page_url", "channel")
    return [
        {
            "contest": slug_of.get(row.entry_id),
            **{k: getattr(row, k) for k in fields},
            "ip_network": row.ip_truncated,
            "user_agent": row.user_agent,
            "at": row.created_at,
        }
        for row in rows
    ]


def _referrals(connection: Connection, ids: list[int], slug_of: dict[int, str]) -> dict[str, Any]:
    ref, invitation = tables.referral, tables.invitation
    made = connection.execute(
        sa.select(ref).where(ref.c.referrer_entry_id.in_(ids)).order_by(ref.c.id)
    ).all()
    received = connection.execute(
        sa.select(ref).where(ref.c.referred_entry_id.in_(ids)).order_by(ref.c.id)
    ).all()
    invited = connection.execute(
        sa.select(invitation.c.referrer_entry_id, sa.func.count())
        .where(invitation.c.referrer_entry_id.in_(ids))
        .group_by(invitation.c.referrer_entry_id)
    ).all()
    return {
        "referrals_made": [
            {
                "contest": slug_of[row.referrer_entry_id],
                "status": row.status,
                "bonus": row.bonus,
                "at": row.created_at,
            }
            for row in made
        ],
        "referred_by": [
            {"contest": slug_of[row.referred_entry_id], "status": row.status, "at": row.created_at}
            for row in received
        ],
        "invitations_sent": {slug_of[entry_id]: count for entry_id, count in invited},
    }


def _prizes(connection: Connection, ids: list[int], slug_of: dict[int, str]) -> list[Any]:
    placement = tables.drawplacement
    drawn = {
        row.entry_id: row
        for row in connection.execute(sa.select(placement).where(placement.c.entry_id.in_(ids)))
    }
    awards = {
        a.entry_id: a
        for contest_id in {row.contest_id for row in drawn.values()}
        for a in claims.awards(connection, contest_id)
        if a.entry_id in drawn
    }
    return [
        {
            "contest": slug_of[entry_id],
            "drawn_as": place.kind,
            "rank": place.rank,
            **(
                {
                    "prize": awards[entry_id].prize_description,
                    "status": awards[entry_id].status,
                    "deadline": awards[entry_id].deadline,
                    "claimed_at": awards[entry_id].claimed_at,
                    "delivered_at": awards[entry_id].delivered_at,
                    "voucher_code": awards[entry_id].voucher_code,
                }
                if entry_id in awards
                else {}
            ),
        }
        for entry_id, place in sorted(drawn.items())
    ]


def _client(connection: Connection, organizer_id: int, key: str) -> dict[str, Any] | None:
    client = tables.client
    row = connection.execute(
        sa.select(client.c.client_since, client.c.orders_count, client.c.segments).where(
            client.c.organizer_id == organizer_id, client.c.email_key == key
        )
    ).first()
    return dict(row._mapping) if row else None


def _requests(connection: Connection, organizer_id: int, person_id: int) -> list[Any]:
    request = tables.datarequest
    rows = connection.execute(
        sa.select(request)
        .where(request.c.organizer_id == organizer_id, request.c.person_id == person_id)
        .order_by(request.c.id)
    )
    fields = ("kind", "channel", "requested_at", "deadline", "completed_at")
    return [{k: getattr(row, k) for k in fields} for row in rows]
