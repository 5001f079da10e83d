"""Contact pressure: how often one organizer may reach one person with marketing.

One rule for everything the platform sends for a marketing purpose (campaigns, the "last
days" e-mails, invitations, which are the organizer's commercial e-mail, ALL-REFER-INVITE-1):
one organizer reaches one person at most ``limit`` times per ``period`` (the organizer's
:class:`ContactPolicy`, once a week by default; the platform never allows more than one
message a week on average). The check counts the marketing contacts recorded for a known person
(``contactevent``), and for an address no one entered with, the invitations sent to it (kept
as a keyed hash) by all the organizer's contests. A person the organizer knows and who
withdrew their marketing consent, whose address bounced for good or who was erased is never
invited again, from the moment of the withdrawal: the ledger is read at the time of sending,
not copied.

Capture pop-ins are paced in the visitor's own browser storage (``contest.web.embed``): the
server never learns who saw one, so they are not counted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.leads.consents import MARKETING_PURPOSES
from rules import Refusal
from viral.invitations import InvitationRefused

MARKETING_EVERY = timedelta(days=7)
MAX_LIMIT = 4  # messages per period an organizer may allow at most


@dataclass(frozen=True)
class ContactPolicy:
    """At most ``limit`` marketing messages to one person in ``days`` days."""

    limit: int = 1
    days: int = 7

    @property
    def period(self) -> timedelta:
        """The period, never shorter than a week per message allowed (the platform's floor)."""
        return max(timedelta(days=self.days), MARKETING_EVERY * self.limit)


class PolicyRefused(Refusal):
    """A contact limit the platform does not allow."""


def check_policy(limit: int, days: int) -> ContactPolicy:
    """The policy, or PolicyRefused when it allows more than the floor: 1 to 4 messages, and
    at least 7 days per message (4 in 28 days at most)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise PolicyRefused(
            "limit",
            f"Entre 1 et {MAX_LIMIT} messages par période.",
            f"Between 1 and {MAX_LIMIT} messages a period.",
        )
    if not 7 * limit <= days <= 365:
        raise PolicyRefused(
            "period",
            f"Au moins 7 jours par message ({7 * limit} jours pour {limit}), 365 au plus.",
            f"At least 7 days per message ({7 * limit} days for {limit}), 365 at most.",
        )
    return ContactPolicy(limit, days)


def policy_of(connection: Connection, organizer_id: int) -> ContactPolicy:
    organizer = tables.organizer
    row = connection.execute(
        sa.select(organizer.c.contact_limit, organizer.c.contact_period_days).where(
            organizer.c.id == organizer_id
        )
    ).first()
    return ContactPolicy() if row is None else ContactPolicy(row[0], row[1])


def set_policy(connection: Connection, organizer_id: int, limit: int, days: int) -> None:
    """Sets the organizer's contact limit; refuses (PolicyRefused) one above the floor."""
    policy = check_policy(limit, days)
    organizer = tables.organizer
    connection.execute(
        sa.update(organizer)
        .where(organizer.c.id == organizer_id)
        .values(contact_limit=policy.limit, contact_period_days=policy.days)
    )


def over_limit(
    person_id: sa.ColumnElement[int], policy: ContactPolicy, now: datetime
) -> sa.ColumnElement[bool]:
    """Whether the person (a column of the caller's query) was reached ``policy.limit`` times
    in the period: no marketing message may go to them now."""
    contact = tables.contactevent
    recent = (
        sa.select(sa.func.count())
        .where(contact.c.person_id == person_id, contact.c.created_at >= now - policy.period)
        .scalar_subquery()
    )
    return recent >= policy.limit


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
    policy = policy_of(connection, organizer_id)
    since = now - policy.period
    if person is not None:
        if person.undeliverable or person.erased_at is not None or _withdrew(connection, person.id):
            raise UNREACHABLE
        if connection.execute(sa.select(over_limit(sa.literal(person.id), policy, now))).scalar():
            raise RECENTLY_CONTACTED
    invitation, contest = tables.invitation, tables.contest
    invited = connection.execute(
        sa.select(sa.func.count())
        .select_from(invitation.join(contest, contest.c.id == invitation.c.contest_id))
        .where(
            contest.c.organizer_id == organizer_id,
            invitation.c.contest_id != contest_id,
            invitation.c.address_hash == address_hash,
            invitation.c.created_at >= since,
        )
    ).scalar_one()
    if invited >= policy.limit:
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
