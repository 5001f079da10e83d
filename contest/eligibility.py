"""Who may enter, judged at entry time by the rules engine (rules/), with the shop's client data.

The person's facts come from the form (age attestation or birth date) and, for client-only
contests, from the organizer's client table (FR-CLIENTS-1): when they became a client, how many
orders, which segments. A refusal carries the rule id and both languages' messages.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.compliance import contest_facts
from contest.contests import ContestView
from contest.forms import EntryForm
from contest.people import email_key
from rules import PersonFacts, Refusal, Verdict, evaluate_entry

_client = tables.client
FIND_CLIENT = sa.select(_client.c.client_since, _client.c.orders_count, _client.c.segments).where(
    _client.c.organizer_id == sa.bindparam("organizer_id"),
    _client.c.email_key == sa.bindparam("email_key"),
)
# Where each kind of person fact is shown on the entry form.
FORM_FIELDS = {"email": "email", "birth_date": "birth_date", "email_normalized": "email"}


def person_facts(
    connection: Connection, contest: ContestView, form: EntryForm, key: str
) -> PersonFacts:
    client = None
    if contest.clients_only:
        client = connection.execute(
            FIND_CLIENT, {"organizer_id": contest.organizer_id, "email_key": key}
        ).first()
    return PersonFacts(
        email_normalized=key,
        birth_date=form.birth_date,
        age_attested=form.accepted_rules,
        client_since=client.client_since if client else None,
        orders_count=client.orders_count if client else 0,
        segments=frozenset(client.segments or ()) if client else frozenset(),
        is_staff=bool(contest.organizer_contact) and key == email_key(contest.organizer_contact),
    )


RULE_REFUSED = "rule_refused"  # a legal rule refuses this person
RATE_LIMITED = "rate_limited"  # too many attempts: try again after ``retry_after`` seconds


@dataclass
class EntryRefused(Refusal):
    """The entry is refused; nothing was written. ``field`` is where to show the message."""

    field: str = "form"
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    retry_after: int | None = None


def check_entry(
    connection: Connection, contest: ContestView, form: EntryForm, key: str, now: datetime
) -> None:
    """Raises EntryRefused (nothing written yet) when a refuse-level entry rule fails."""
    verdict = evaluate_entry(
        contest_facts(contest), person_facts(connection, contest, form, key), now
    )
    if not verdict.ok:
        raise refusal_of(verdict)


def refusal_of(verdict: Verdict) -> EntryRefused:
    refusals = verdict.refusals
    first = refusals[0]
    return EntryRefused(
        code=RULE_REFUSED,
        field=FORM_FIELDS.get(first.field or "", "form"),
        message_fr=" ".join(dict.fromkeys(f.message_fr for f in refusals)),
        message_en=" ".join(dict.fromkeys(f.message_en for f in refusals)),
        rule_id=first.rule_id,
        extra={"rule_ids": [f.rule_id for f in refusals]},
    )
