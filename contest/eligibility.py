"""Who may enter, judged at entry time by the rules engine (rules/), with the shop's client data.

The person's facts come from the form (age attestation or birth date) and, for client-only
contests, from the history of the organizer's client imports (FR-CLIENTS-1): when they became a
client, how many orders, which segments, as the shop had said before the contest's cut-off.
A refusal carries the rule id and both languages' messages.
"""

from __future__ import annotations

import dataclasses
import hashlib
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
from rules import ContestFacts, PersonFacts, Refusal, Verdict, evaluate_entry

_version = tables.clientversion
# What the shop had told us before the cut-off: the latest version learned before it.
KNOWN_AT_CUTOFF = (
    sa.select(_version.c.id, _version.c.client_since, _version.c.orders_count, _version.c.segments)
    .where(
        _version.c.organizer_id == sa.bindparam("organizer_id"),
        _version.c.email_key == sa.bindparam("email_key"),
        _version.c.learned_at < sa.bindparam("cutoff"),
    )
    .order_by(_version.c.id.desc())  # the last one appended
    .limit(1)
)
# Where each kind of person fact is shown on the entry form.
FORM_FIELDS = {
    "email": "email",
    "birth_date": "birth_date",
    "email_normalized": "email",
    "region": "region",
}
CLIENT_RULE = "FR-CLIENTS-1"


def client_known_at_cutoff(
    connection: Connection, organizer_id: int, key: str, cutoff: datetime | None
) -> Any:
    """The client version the eligibility of a client-only contest is judged on (``id``,
    ``client_since``, ``orders_count``, ``segments``), or None: what the shop had said before
    the cut-off. A sync after it (more orders, a ``client_since`` moved earlier, a new client
    with a backdated date) is recorded but changes nothing for this contest."""
    if cutoff is None:
        return None
    return connection.execute(
        KNOWN_AT_CUTOFF, {"organizer_id": organizer_id, "email_key": key, "cutoff": cutoff}
    ).first()


def person_facts(
    contest: ContestView, form: EntryForm, key: str, client: Any | None
) -> PersonFacts:
    return PersonFacts(
        email_normalized=key,
        birth_date=form.birth_date,
        age_attested=form.accepted_rules,
        client_since=client.client_since if client else None,
        orders_count=client.orders_count if client else 0,
        segments=frozenset(client.segments or ()) if client else frozenset(),
        is_staff=bool(contest.organizer_contact) and key == email_key(contest.organizer_contact),
        marketing_consent=bool(form.consents),
        # A US state given, or a contest for US residents only: a US resident (US-GEO-1).
        country="US" if form.region or contest.asks_state == "required" else None,
        region=form.region,
    )


@dataclass(frozen=True)
class ClientSet:
    """The clients a client-only contest admits, as committed at publication."""

    cutoff: datetime
    clients: int
    digest: str  # SHA-256 of their identity keys, sorted, one per line
    committed_at: datetime


def commit_client_set(
    connection: Connection, contest_id: int, organizer_id: int, facts: ContestFacts, now: datetime
) -> ClientSet | None:
    """Commits, once, the set of clients a client-only contest admits: every client whose
    latest version learned before the cut-off passes FR-CLIENTS-1 (a client before the
    cut-off, in the segment if there is one). Its count and digest go on the official rules;
    entries are judged on the same versions, so the set cannot grow after publication.
    Returns the commitment (the first one if already made), or None for an open contest."""
    cutoff = facts.eligibility_cutoff
    if not facts.client_only or cutoff is None:
        return None
    stored = client_set(connection, contest_id)
    if stored is not None:
        return stored
    known = (
        sa.select(sa.func.max(_version.c.id))
        .where(_version.c.organizer_id == organizer_id, _version.c.learned_at < cutoff)
        .group_by(_version.c.email_key)
    )
    rows = connection.execute(
        sa.select(
            _version.c.email_key,
            _version.c.client_since,
            _version.c.orders_count,
            _version.c.segments,
        )
        .where(_version.c.id.in_(known))
        .order_by(_version.c.email_key)
    )
    digest, count = hashlib.sha256(), 0
    verdicts: dict[tuple[Any, ...], bool] = {}
    for row in rows:
        segments = frozenset(row.segments or ())
        memo = (row.client_since < cutoff, row.orders_count, segments)
        if memo not in verdicts:
            person = PersonFacts(
                email_normalized=row.email_key,
                age_attested=True,
                client_since=row.client_since,
                orders_count=row.orders_count,
                segments=segments,
            )
            findings = evaluate_entry(facts, person, now).refusals
            verdicts[memo] = not any(f.rule_id == CLIENT_RULE for f in findings)
        if verdicts[memo]:
            digest.update(row.email_key.encode() + b"\n")
            count += 1
    committed = ClientSet(cutoff, count, digest.hexdigest(), now)
    connection.execute(
        sa.insert(tables.clientset).values(contest_id=contest_id, **committed.__dict__)
    )
    return committed


def client_set(connection: Connection, contest_id: int) -> ClientSet | None:
    """The client set committed at publication, or None (an open contest, or not published)."""
    committed = tables.clientset
    row = connection.execute(
        sa.select(
            committed.c.cutoff, committed.c.clients, committed.c.digest, committed.c.committed_at
        ).where(committed.c.contest_id == contest_id)
    ).first()
    return None if row is None else ClientSet(**row._mapping)


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
) -> dict[str, Any]:
    """Raises EntryRefused (nothing written yet) when a refuse-level entry rule fails; else
    returns the evidence of the decision, kept with the entry: on a client-only contest, the
    client version read (or none), the cut-off and the rule's outcome."""
    facts = contest_facts(contest)
    client = None
    if contest.clients_only:
        cutoff = facts.eligibility_cutoff
        client = client_known_at_cutoff(connection, contest.organizer_id, key, cutoff)
    verdict = evaluate_entry(facts, person_facts(contest, form, key, client), now)
    if not verdict.ok:
        raise refusal_of(verdict)
    if not contest.clients_only:
        return {}
    assert facts.eligibility_cutoff is not None  # FR-CLIENTS-1 refuses a contest without one
    return {
        "rule": CLIENT_RULE,
        "outcome": "eligible",
        "client_version": client.id if client else None,
        "cutoff": facts.eligibility_cutoff.isoformat(),
    }


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
