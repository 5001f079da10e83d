"""What a person is subscribed to with one organizer, as the unsubscribe page shows it.

Read from the consent ledger at the time of asking (:func:`consents.consent_state`), never
from a copy; withdrawing is :func:`consents.withdraw`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.leads import consents
from contest.people import mask_email
from contest.tokens import Purpose, Signer

DEFAULT_LANGUAGE = "fr"
ONE_CLICK = "List-Unsubscribe=One-Click"


def unsubscribe_token(signer: Signer, organizer_id: int, person_id: int) -> str:
    """The signed token of a person's preferences page (five years: it travels in exports
    and CRM records, where it must keep working)."""
    return signer.sign(Purpose.UNSUBSCRIBE, [organizer_id, person_id])


def unsubscribe_url(base_url: str, token: str) -> str:
    """The person's preferences page: what they are subscribed to, withdrawn in one click."""
    return f"{base_url.rstrip('/')}/unsubscribe/{token}"


@dataclass(frozen=True)
class PreferenceLinks:
    """Each person's preferences link, for exports that carry one per row."""

    signer: Signer
    base_url: str

    def urls(self, organizer_id: int, person_ids: Iterable[int]) -> list[str]:
        prefix = unsubscribe_url(self.base_url, "")
        payloads = ([organizer_id, person_id] for person_id in person_ids)
        return [prefix + token for token in self.signer.sign_many(Purpose.UNSUBSCRIBE, payloads)]


def unsubscribe_headers(base_url: str, token: str) -> dict[str, str]:
    """The RFC 8058 headers every marketing e-mail carries."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(base_url, token)}>",
        "List-Unsubscribe-Post": ONE_CLICK,
    }


@dataclass(frozen=True)
class Subscriber:
    organizer: str
    email: str  # masked; empty when the person no longer exists (erased)
    language: str  # of the person's latest consent record
    subscribed: tuple[str, ...]  # marketing purposes granted or confirmed


def subscriber(connection: Connection, organizer_id: int, person_id: int) -> Subscriber:
    """The organizer's name, the person's masked address, language and marketing purposes
    still given. An unknown or other organizer's person is subscribed to nothing."""
    organizer, person, consent = tables.organizer, tables.person, tables.consentrecord
    who = connection.execute(
        sa.select(organizer.c.legal_name, organizer.c.contact_email, organizer.c.email).where(
            organizer.c.id == organizer_id
        )
    ).first()
    found = connection.execute(
        sa.select(person.c.email).where(
            person.c.id == person_id, person.c.organizer_id == organizer_id
        )
    ).first()
    language = connection.execute(
        sa.select(consent.c.language)
        .where(consent.c.person_id == person_id)
        .order_by(consent.c.id.desc())
        .limit(1)
    ).scalar()
    subscribed = tuple(
        purpose
        for purpose in consents.MARKETING_PURPOSES
        if found is not None and consents.consent_state(connection, person_id, purpose).granted
    )
    return Subscriber(
        organizer=(who.legal_name or who.contact_email or who.email) if who else "",
        email=mask_email(found.email) if found else "",
        language=language or DEFAULT_LANGUAGE,
        subscribed=subscribed,
    )
