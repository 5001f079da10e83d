"""Platform-sent invitations, only where the rules allow them (ALL-REFER-INVITE-1).

By default the platform never e-mails a friend's address (EU-REFER-NOSEND-1): participants
share their link themselves. Where a contest may send invitations (not open to EU residents,
or an EU contest with a logged legal override), each one is the organizer's own commercial
e-mail, so:

- at most one invitation per address and contest, ever;
- never to an address on the installation-wide "never invite me again" list;
- at most ``PER_REFERRER_PER_DAY`` invitations a day per participant and ``PER_NETWORK_PER_DAY``
  per network;
- the address is kept only as a keyed hash (for de-duplication and the suppression list), and
  the message goes through the outbox like every e-mail.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rules import Refusal
from viral import models

PER_REFERRER_PER_DAY = 5
PER_NETWORK_PER_DAY = 20

Enqueue = Callable[..., None]


def address_hash(key: bytes, email_key: str) -> str:
    """The keyed hash under which an invited address is remembered (never the address)."""
    return hmac.new(key, email_key.encode(), hashlib.sha256).hexdigest()


class InvitationRefused(Refusal):
    """Why an invitation is not sent: a code, both messages, and the rule id if any."""


SUPPRESSED = InvitationRefused(
    "SUPPRESSED",
    "Cette personne a demandé à ne plus recevoir d'invitations.",
    "This person asked not to receive invitations any more.",
    "ALL-REFER-INVITE-1",
)
ALREADY_INVITED = InvitationRefused(
    "ALREADY_INVITED",
    "Cette personne a déjà été invitée à ce jeu : une seule invitation par personne.",
    "This person was already invited to this contest: one invitation per person.",
    "ALL-REFER-INVITE-1",
)
DAILY_LIMIT = InvitationRefused(
    "DAILY_LIMIT",
    f"Vous avez envoyé {PER_REFERRER_PER_DAY} invitations aujourd'hui, le maximum. "
    "Réessayez demain, ou partagez votre lien vous-même.",
    f"You sent {PER_REFERRER_PER_DAY} invitations today, the most allowed. Try again "
    "tomorrow, or share your link yourself.",
    "ALL-REFER-INVITE-1",
)
NETWORK_LIMIT = InvitationRefused(
    "NETWORK_LIMIT",
    "Trop d'invitations sont parties de ce réseau aujourd'hui. Réessayez demain.",
    "Too many invitations left from this network today. Try again tomorrow.",
    "ALL-REFER-INVITE-1",
)


def invite(
    connection: Connection,
    *,
    key: bytes,
    contest_id: int,
    referrer_entry_id: int,
    friend_email_key: str,
    network: str,
    now: datetime,
    enqueue: Enqueue,
) -> int:
    """Records an invitation and queues its e-mail through ``enqueue``; returns its id.

    Refuses (InvitationRefused) a suppressed address, a second invitation of the same address
    to the same contest, and invitations beyond the daily limits. Whether the contest may send
    invitations at all is the rules engine's decision, taken by the caller before this.
    """
    invitation, suppression = models.invitation, models.invitesuppression
    hashed = address_hash(key, friend_email_key)
    if connection.execute(
        sa.select(suppression.c.address_hash).where(suppression.c.address_hash == hashed)
    ).first():
        raise SUPPRESSED
    if connection.execute(
        sa.select(invitation.c.id).where(
            invitation.c.contest_id == contest_id, invitation.c.address_hash == hashed
        )
    ).first():
        raise ALREADY_INVITED
    since = now - timedelta(days=1)
    sent_by_referrer = connection.execute(
        sa.select(sa.func.count()).where(
            invitation.c.referrer_entry_id == referrer_entry_id, invitation.c.created_at >= since
        )
    ).scalar_one()
    if sent_by_referrer >= PER_REFERRER_PER_DAY:
        raise DAILY_LIMIT
    if network:
        sent_by_network = connection.execute(
            sa.select(sa.func.count()).where(
                invitation.c.ip_network == network, invitation.c.created_at >= since
            )
        ).scalar_one()
        if sent_by_network >= PER_NETWORK_PER_DAY:
            raise NETWORK_LIMIT
    invitation_id = connection.execute(
        sa.insert(invitation).values(
            contest_id=contest_id,
            referrer_entry_id=referrer_entry_id,
            address_hash=hashed,
            ip_network=network,
            created_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    enqueue(invitation_id=int(invitation_id), hashed=hashed)
    return int(invitation_id)


def suppress(connection: Connection, hashed: str, now: datetime) -> None:
    """Adds an address (as its hash) to the "never invite me again" list, idempotently."""
    suppression = models.invitesuppression
    exists = connection.execute(
        sa.select(suppression.c.address_hash).where(suppression.c.address_hash == hashed)
    ).first()
    if exists is None:
        connection.execute(sa.insert(suppression).values(address_hash=hashed, created_at=now))


def invitations_sent(connection: Connection, contest_id: int) -> int:
    """How many invitations the platform sent for the contest, ever."""
    invitation = models.invitation
    return int(
        connection.execute(
            sa.select(sa.func.count()).where(invitation.c.contest_id == contest_id)
        ).scalar_one()
    )
