"""Prospects refused by a client-only contest may ask to hear about client-only contests.

FR-CLIENTS-2: the only thing a prospecting message may promise is that, as a client, the person
could take part in contests reserved to clients. The opt-in is optional, unticked, and confirmed
by e-mail like any marketing consent (DE-DOI-1). Nothing here asks anyone to buy.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import outbox, tables
from contest.contests import ContestView
from contest.entries import UNSEALED, EntryContext, wording_hash
from contest.i18n import N_, gettext

PURPOSE = "client_contests"
WORDING = N_("Yes, tell me by e-mail about contests reserved to clients.")


def record_interest(
    connection: Connection, contest: ContestView, email: str, key: str, context: EntryContext
) -> int:
    """Records the consent (pending until confirmed) and queues its confirmation e-mail.

    Returns the consent record's id. Asking twice within a day queues no second e-mail.
    """
    person_t, consent_t = tables.person, tables.consentrecord
    now = context.now
    person = connection.execute(
        sa.select(person_t.c.id).where(
            person_t.c.organizer_id == contest.organizer_id, person_t.c.email_key == key
        )
    ).first()
    if person is None:
        person_id = connection.execute(
            sa.insert(person_t).values(
                organizer_id=contest.organizer_id,
                email=email,
                email_key=key,
                first_name="",
                created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    else:
        person_id = person.id
    wording = gettext(context.language, WORDING)
    consent_id = connection.execute(
        sa.insert(consent_t).values(
            organizer_id=contest.organizer_id,
            person_id=person_id,
            entry_id=None,
            purpose=PURPOSE,
            event="granted",
            wording=wording,
            wording_hash=wording_hash(wording),
            language=context.language,
            page_url=context.page_url[:500],
            channel="web",
            ip_truncated=context.ip_truncated,
            user_agent=context.user_agent[:300],
            created_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    mail_key = f"interest:{contest.organizer_id}:{key}:{now:%Y-%m-%d}"
    outbox_t = tables.outboxmessage
    queued = connection.execute(
        sa.select(outbox_t.c.id).where(outbox_t.c.idempotency_key == mail_key)
    ).first()
    if queued is None:
        outbox.enqueue(
            connection,
            key=mail_key,
            template="interest_confirm",
            recipient=email,
            language=context.language,
            payload={"consent": int(consent_id), "slug": contest.slug},
            now=now,
        )
    return int(consent_id)


def confirm_interest(connection: Connection, consent_id: int, now: datetime) -> bool:
    """Appends the 'confirmed' record for a granted interest; False when it no longer exists."""
    consent_t = tables.consentrecord
    granted = connection.execute(
        sa.select(consent_t).where(consent_t.c.id == consent_id, consent_t.c.purpose == PURPOSE)
    ).first()
    if granted is None:
        return False
    already = connection.execute(
        sa.select(consent_t.c.id).where(
            consent_t.c.person_id == granted.person_id,
            consent_t.c.purpose == PURPOSE,
            consent_t.c.event == "confirmed",
            consent_t.c.id > consent_id,
        )
    ).first()
    if already is None:
        values = {k: v for k, v in granted._mapping.items() if k not in UNSEALED}
        values.update(event="confirmed", channel="email", ip_truncated="", user_agent="")
        values["created_at"] = now
        connection.execute(sa.insert(consent_t).values(**values))
    return True
