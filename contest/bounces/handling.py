"""What a bounce or a complaint changes (no HTTP): the database side of
:mod:`contest.bounces.reports`, whichever door the report came in by (the bounce mailbox, the
relay's webhook, ``contest bounces``).

Which message it is about
    Every e-mail's Message-ID names its outbox row (``<outbox-{id}.{hash}@{domain}>``,
    :func:`contest.mail.message_id`). When the report returned the original's headers and the
    hash matches the row's idempotency key, the row says to whom the message went and for
    which organizer; otherwise the report's own addresses are all there is.

A hard bounce (EU-WITHDRAW-1's "processed at once" holds for the address too)
    The address is marked undeliverable, as a 5xx at sending time does
    (:func:`contest.mail.mark_undeliverable`): with every organizer, since the mailbox is gone
    for all of them. The row's recipient is marked along with the addresses the report names
    (a forward that no longer works makes the address written to undeliverable as well). Soft
    bounces change nothing.

A complaint (``Feedback-Type: abuse``)
    Someone marked the message as spam: an objection to direct marketing (GDPR Art. 21), so
    the person's marketing consents are withdrawn in the consent ledger (channel ``arf``,
    wording :data:`WORDING`), as the one-click unsubscribe would. The person is the row's (with
    the organizer whose message it was) when the row is found; without a row, every person
    with the complained-about address, with every organizer they are known to. A complaint
    about an invitation puts the friend's address on the "never invite me again" list.
    Complaints about an account's mail (a password reset, a team invitation) withdraw nothing.

Reports are applied idempotently: one received twice (a webhook retried, two workers) changes
nothing the second time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import tables
from contest.bounces.reports import Complaint, DeliveryReport, Report, parse_report
from contest.leads import consents
from contest.mail import mark_undeliverable, message_id
from contest.outbox import OutboxItem
from contest.people import email_key
from contest.transactions import reading, writing
from viral.invitations import suppress

CHANNEL = "arf"
# The withdrawal's wording in the ledger: what the person did, as the provider reported it.
WORDING = "Complaint reported by the mailbox provider (ARF)"
OUTBOX_MESSAGE_ID = re.compile(r"<outbox-(\d{1,18})\.[0-9a-f]{32}@[^<>\s]*>")


@dataclass(frozen=True)
class Outcome:
    """What a report was and what it changed."""

    kind: str  # "bounce", "complaint", or "none" (not a report)
    undeliverable: int = 0  # addresses marked undeliverable
    withdrawn: int = 0  # consent records appended (one per person and purpose)
    outbox_id: int | None = None  # the message it was about, when found
    reason: str = ""  # why nothing was done, when nothing was

    @property
    def report(self) -> bool:
        return self.kind != "none"


def handle_raw(engine: Engine, raw: bytes, now: datetime, *, door: str) -> Outcome:
    """Reads one returned message and applies it; ``door`` (``mailbox``, ``webhook``, ``cli``)
    is recorded with a withdrawal. A message that is not a report changes nothing."""
    return apply_report(engine, parse_report(raw), now, door=door)


def apply_report(engine: Engine, report: Report, now: datetime, *, door: str) -> Outcome:
    """Applies a parsed report (see the module's docstring)."""
    if isinstance(report, DeliveryReport):
        return _bounce(engine, report)
    if isinstance(report, Complaint):
        if not report.abuse:
            return Outcome("complaint", reason=f"feedback type {report.feedback_type}: ignored")
        return writing(engine, _complaint, report, now, door)
    return Outcome("none", reason=report.reason)


def _bounce(engine: Engine, report: DeliveryReport) -> Outcome:
    addresses = list(report.undeliverable)
    if not addresses:
        return Outcome("bounce", reason="no address refused for good (a soft bounce)")
    sent = reading(engine, sent_message, report.original_message_id)
    if sent is not None and sent.recipient:
        addresses.insert(0, sent.recipient)
    marked = list(dict.fromkeys(address.lower() for address in addresses))
    for address in marked:
        mark_undeliverable(engine, address)
    return Outcome("bounce", undeliverable=len(marked), outbox_id=sent.id if sent else None)


def _complaint(connection: Connection, report: Complaint, now: datetime, door: str) -> Outcome:
    sent = sent_message(connection, report.original_message_id)
    if sent is not None:
        people = _people_of_message(connection, sent)
        if sent.template == "invitation" and (sent.payload or {}).get("hashed"):
            suppress(connection, str(sent.payload["hashed"]), now)
        where = f"{door}; outbox:{sent.id}"
    else:
        people = _people_with(connection, report.recipients)
        where = door
    withdrawn = sum(
        consents.withdraw(
            connection,
            person_id,
            consents.MARKETING_PURPOSES,
            CHANNEL,
            now,
            WORDING,
            language="en",
            page_url=where,
        )
        for person_id in people
    )
    found = sent.id if sent is not None else None
    reason = "" if people else "no person found for the message or its recipient"
    return Outcome("complaint", withdrawn=withdrawn, outbox_id=found, reason=reason)


def sent_message(connection: Connection, original_message_id: str) -> Any:
    """The outbox row a Message-ID of ours names (its hash checked), or None."""
    match = OUTBOX_MESSAGE_ID.fullmatch(original_message_id)
    if match is None:
        return None
    box = tables.outboxmessage
    row = connection.execute(sa.select(box).where(box.c.id == int(match.group(1)))).first()
    if row is None:
        return None
    item = OutboxItem(
        id=row.id,
        idempotency_key=row.idempotency_key,
        kind=row.kind,
        template=row.template,
        recipient=row.recipient,
        language=row.language,
        payload=row.payload or {},
        attempts=row.attempts,
    )
    # The domain is the installation's name at sending time: only the local part must match.
    ours = message_id(item, "").partition("@")[0]
    return row if original_message_id.partition("@")[0] == ours else None


def _people_of_message(connection: Connection, row: Any) -> list[int]:
    """The person a message of ours was written to, as its payload names them; for messages
    naming only their contest, the organizer's person with the recipient's address."""
    person, entry, award = tables.person, tables.entry, tables.prizeaward
    payload: dict[str, Any] = row.payload or {}
    query: sa.Select[Any] | None = None
    if isinstance(payload.get("person"), int):
        query = sa.select(person.c.id).where(person.c.id == payload["person"])
    elif isinstance(payload.get("entry"), str):
        query = sa.select(entry.c.person_id).where(entry.c.public_id == payload["entry"])
    elif isinstance(payload.get("award"), int):
        query = (
            sa.select(entry.c.person_id)
            .join(award, award.c.entry_id == entry.c.id)
            .where(award.c.id == payload["award"])
        )
    elif isinstance(payload.get("consent"), int):  # an interest in a client-only contest
        consent = tables.consentrecord
        query = sa.select(consent.c.person_id).where(consent.c.id == payload["consent"])
    elif isinstance(payload.get("slug"), str) and row.recipient:
        contest = tables.contest
        query = (
            sa.select(person.c.id)
            .join(contest, contest.c.organizer_id == person.c.organizer_id)
            .where(
                contest.c.slug == payload["slug"],
                person.c.email_key == email_key(row.recipient),
            )
        )
    if query is None:  # an account's mail, an invitation or a campaign's test: no one's consent
        return []
    return [int(found) for found in connection.execute(query).scalars() if found is not None]


def _people_with(connection: Connection, addresses: tuple[str, ...]) -> list[int]:
    """Everyone known by one of these addresses, with every organizer."""
    if not addresses:
        return []
    person = tables.person
    keys = sorted({email_key(address) for address in addresses})
    query = sa.select(person.c.id).where(person.c.email_key.in_(keys)).order_by(person.c.id)
    return [int(found) for found in connection.execute(query).scalars()]
