"""A participant asks the platform to invite a friend, where the rules allow it at all.

By default the platform e-mails no friend's address (EU-REFER-NOSEND-1): participants share
their own link. Where a contest may send invitations, :func:`invite_friend` is the whole
operation, in four steps, each refusal an :class:`InvitationRefused` with nothing done:

1. the contest: client-only contests are never announced to prospects (FR-CLIENTS-2), the rules
   engine must allow platform invitations (EU-REFER-NOSEND-1), and the organizer must have
   turned them on;
2. the request: an address that looks right, and the participant's word that they know the
   person (ALL-REFER-INVITE-1);
3. the organizer's contact pressure (:mod:`contest.leads.pressure`): nobody it may not reach,
   nobody reached lately;
4. the invitation itself (:func:`viral.invitations.invite`: once per address and contest, the
   suppression list, the daily limits), its e-mail queued in the outbox, and the contact
   recorded against a person the organizer already knows.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from functools import partial

from sqlalchemy.engine import Connection

from contest import outbox
from contest.compliance import contest_facts
from contest.contests import ContestView
from contest.entries import EntryState, find_entry
from contest.leads import pressure
from contest.people import InvalidEmail, clean_email, email_key
from rules import evaluate_configuration
from viral import invitations
from viral.invitations import InvitationRefused

CLIENTS_ONLY = InvitationRefused(
    "CLIENTS_ONLY",
    "Les jeux réservés aux clients ne s'annoncent pas aux prospects.",
    "Client-only contests are not announced to prospects.",
    "FR-CLIENTS-2",
)
TURNED_OFF = InvitationRefused(
    "OFF",
    "Ce jeu n'envoie pas d'invitations : partagez votre lien vous-même.",
    "This contest sends no invitations: share your link yourself.",
    None,
)
BAD_ADDRESS = InvitationRefused(
    "EMAIL",
    "Cette adresse e-mail semble incorrecte.",
    "This e-mail address does not look right.",
    None,
)
NOT_ATTESTED = InvitationRefused(
    "ATTEST",
    "Confirmez que vous connaissez cette personne.",
    "Confirm that you know this person.",
    "ALL-REFER-INVITE-1",
)

NAMELESS = InvitationRefused(
    "NAME",
    "Votre ami doit savoir qui l'invite : les invitations portent le prénom donné en "
    "participant, et vous n'en avez pas donné. Partagez plutôt votre lien vous-même.",
    "Your friend must know who invites them: invitations carry the first name given when "
    "entering, and you gave none. Share your link yourself instead.",
    "ALL-REFER-INVITE-1",
)


class NoInvitingEntry(LookupError):
    """No confirmed entry with a share code behind the participant's link."""


def invitation_refusal(contest: ContestView, now: datetime) -> InvitationRefused | None:
    """Why this contest may not send invitations at all, from the rules engine, or None."""
    if contest.clients_only:
        return CLIENTS_ONLY
    facts = dataclasses.replace(contest_facts(contest), platform_invitations=True)
    for finding in evaluate_configuration(facts, now).refusals:
        if finding.rule_id == "EU-REFER-NOSEND-1":
            return InvitationRefused("EU", finding.message_fr, finding.message_en, finding.rule_id)
    if not contest.platform_invitations:
        return TURNED_OFF
    return None


def invite_friend(
    connection: Connection,
    contest: ContestView,
    public_id: str,
    friend: str,
    *,
    knows: bool,
    secret: bytes,
    network: str,
    now: datetime,
) -> int:
    """Invites ``friend`` on behalf of the entry ``public_id``; returns the invitation's id.

    Refuses (InvitationRefused) in the order of the module docstring, the contest and the
    request before anything is read; raises NoInvitingEntry when the entry is unknown, not
    confirmed, or has no share code. ``secret`` keys the hash the address is kept under.
    """
    refusal = invitation_refusal(contest, now)
    if refusal is not None:
        raise refusal
    try:
        key = email_key(clean_email(friend))
    except InvalidEmail:
        raise BAD_ADDRESS from None
    if not knows:
        raise NOT_ATTESTED
    entry = find_entry(connection, contest, public_id)
    if entry is None or entry.status != "confirmed" or not entry.referral_code:
        raise NoInvitingEntry(public_id)
    if not (entry.first_name or "").strip():  # never "Bonjour,   participe au jeu…"
        raise NAMELESS
    known = pressure.check_invitation(
        connection,
        organizer_id=contest.organizer_id,
        contest_id=contest.id,
        email_key=key,
        address_hash=invitations.address_hash(secret, key),
        now=now,
    )
    invitation_id = invitations.invite(
        connection,
        key=secret,
        contest_id=contest.id,
        referrer_entry_id=entry.id,
        friend_email_key=key,
        network=network,
        now=now,
        enqueue=partial(_enqueue, connection, contest, entry, friend, now=now),
    )
    if known is not None:
        pressure.record_contact(connection, contest.organizer_id, known, "invitation", now)
    return invitation_id


def _enqueue(
    connection: Connection,
    contest: ContestView,
    entry: EntryState,
    friend: str,
    *,
    invitation_id: int,
    hashed: str,
    now: datetime,
) -> None:
    """The invitation e-mail, in the contest's language, signed with the referrer's code."""
    outbox.enqueue(
        connection,
        key=f"invitation:{invitation_id}",
        template="invitation",
        recipient=friend,
        language=contest.language,
        payload={
            "slug": contest.slug,
            "code": entry.referral_code,
            "referrer_name": entry.first_name or "",
            "hashed": hashed,
        },
        now=now,
    )
