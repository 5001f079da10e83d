"""Contact pressure: how often one organizer may reach one person with marketing.

A contest invitation is the organizer's commercial e-mail (ALL-REFER-INVITE-1). Whatever the
contest and whoever asks for it, one organizer reaches one person at most once per
``MARKETING_EVERY``: the check counts the invitations sent to that address (kept as a keyed
hash) by all the organizer's contests, and the marketing contacts recorded for a known person
(``contactevent``). A person the organizer knows and who withdrew their marketing consent, whose
address bounced for good or who was erased is never invited again, from the moment of the
withdrawal: the ledger is read at the time of sending, not copied.

Capture pop-ins are paced in the visitor's own browser storage (``contest.web.embed``): the
server never learns who saw one, so they are not counted here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.leads.consents import MARKETING_PURPOSES
from viral.invitations import InvitationRefused

MARKETING_EVERY = timedelta(days=7)

UNREACHABLE = InvitationRefused(
    "UNREACHABLE",
    "Nous ne pouvons pas envoyer d'invitation à cette personne. Partagez votre lien vous-même.",
    "We cannot send this person an invitation. Share your link yourself.",
    "ALL-REFER-INVITE-1",
)
RECENTLY_CONTACTED = InvitationRefused(
    "RECENTLY_CONTACTED",
    "Cette personne a déjà reçu une invitation de notre part ces derniers jours. "
    "Partagez votre lien vous-même.",
    "This person already received an invitation from us in the last few days. "
    "Share your link yourself.",
    "ALL-REFER-INVITE-1",
)


def check_invitation(
    connection: Connection,
    *,
    organizer_id: int,
    contest_id: int,
    email_key: str,
    address_hash: str,
    now: datetime,
) -> int | None:
    """Raises UNREACHABLE or RECENTLY_CONTACTED; returns the known person's id, or None.

    An invitation to the same contest is left to :func:`viral.invitations.invite`, which
    refuses it for good (one invitation per address and contest, ever).
    """
    person_t = tables.person
    person = connection.execute(
        sa.select(person_t.c.id, person_t.c.undeliverable, person_t.c.erased_at).where(
            person_t.c.organizer_id == organizer_id, person_t.c.email_key == email_key
        )
    ).first()
    since = now - MARKETING_EVERY
    if person is not None:
        if person.undeliverable or person.erased_at is not None or _withdrew(connection, person.id):
            raise UNREACHABLE
        contact = tables.contactevent
        if connection.execute(
            sa.select(contact.c.id)
            .where(contact.c.person_id == person.id, contact.c.created_at >= since)
            .limit(1)
        ).first():
            raise RECENTLY_CONTACTED
    invitation, contest = tables.invitation, tables.contest
    if connection.execute(
        sa.select(invitation.c.id)
        .join(contest, contest.c.id == invitation.c.contest_id)
        .where(
            contest.c.organizer_id == organizer_id,
            invitation.c.contest_id != contest_id,
            invitation.c.address_hash == address_hash,
            invitation.c.created_at >= since,
        )
        .limit(1)
    ).first():
        raise RECENTLY_CONTACTED
    return None if person is None else int(person.id)


def record_contact(
    connection: Connection, organizer_id: int, person_id: int, kind: str, now: datetime
) -> None:
    """Records a marketing contact with a known person, for the cap above."""
    connection.execute(
        sa.insert(tables.contactevent).values(
            organizer_id=organizer_id, person_id=person_id, kind=kind, created_at=now
        )
    )


def _withdrew(connection: Connection, person_id: int) -> bool:
    """Whether the person's latest word on any marketing purpose is a withdrawal."""
    consent = tables.consentrecord
    latest = (
        sa.select(consent.c.purpose, sa.func.max(consent.c.id).label("id"))
        .where(consent.c.person_id == person_id, consent.c.purpose.in_(MARKETING_PURPOSES))
        .group_by(consent.c.purpose)
        .subquery()
    )
    return (
        connection.execute(
            sa.select(consent.c.id)
            .join(latest, latest.c.id == consent.c.id)
            .where(consent.c.event == "withdrawn")
            .limit(1)
        ).first()
        is not None
    )
