"""The consent ledger: sealing, verifying, current state, withdrawal and proof (no HTTP).

EU-CONSENT-PROOF-1: every consent event is an append-only ``consentrecord`` row. Entries insert
rows *unsealed* (``seq`` NULL) so that the entry writer's hot path stays cheap; :func:`seal`
runs off that path (the sender's once-a-minute maintenance) and chains each organizer's rows.

The chain, per organizer
    Records are numbered ``seq`` = 1, 2, 3, ... in the order the sealer sees them (id order
    within a pass). ``prev_hash`` is the previous record's ``record_hash`` (the empty string
    for seq 1) and ``consentchain`` holds the head (last seq and hash), so that deleting the
    last records is noticed too. ``record_hash`` is the SHA-256, in lowercase hex, of the
    UTF-8 (in fact ASCII) bytes of this JSON array, written with ``ensure_ascii`` and no
    spaces (``json.dumps(doc, ensure_ascii=True, separators=(",", ":"))``)::

        ["consent-chain/1", organizer_id, seq, person_id, entry_id, purpose, event,
         wording_hash, language, page_url, channel, ip_truncated, user_agent,
         created_at, prev_hash]

    Integers stay integers, a missing ``entry_id`` is ``null``, ``created_at`` is UTC as
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ``. The wording itself is covered by ``wording_hash`` (the
    SHA-256 of its UTF-8 bytes), which :func:`verify_chain` checks as well.

Current state
    Derived from the ledger, never stored apart: for a person and purpose, the records after the
    last ``withdrawn`` decide. A ``confirmed`` record there means the consent is given (double
    opt-in done, DE-DOI-1); a ``granted`` one alone means it waits for confirmation. Marketing
    counts as given only when confirmed and not withdrawn later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import tables
from contest.i18n import N_
from contest.storage import write_options

MARKETING_PURPOSES = ("marketing_email", "partners", "client_contests")
# What each marketing purpose is called on the participant's pages.
PURPOSE_LABELS = {
    "marketing_email": N_("Offers by e-mail"),
    "partners": N_("Offers from partners"),
    "client_contests": N_("Contests reserved to clients"),
}
PURPOSES = ("rules", *MARKETING_PURPOSES)
EVENTS = ("granted", "confirmed", "withdrawn")
HASH_VERSION = "consent-chain/1"
HASHED_FIELDS = (
    "organizer_id",
    "seq",
    "person_id",
    "entry_id",
    "purpose",
    "event",
    "wording_hash",
    "language",
    "page_url",
    "channel",
    "ip_truncated",
    "user_agent",
    "created_at",
)


# --- The hash --------------------------------------------------------------------------------


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(record: Mapping[Any, Any], prev_hash: str) -> bytes:
    """The bytes a record's hash is taken over (see the module's docstring)."""
    document: list[Any] = [HASH_VERSION]
    for name in HASHED_FIELDS:
        value = record[name]
        document.append(_utc_iso(value) if isinstance(value, datetime) else value)
    document.append(prev_hash)
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def record_hash(record: Mapping[Any, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical(record, prev_hash)).hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- Sealing ---------------------------------------------------------------------------------


def seal(engine: Engine, now: datetime, batch: int = 5000) -> int:
    """Chains every unsealed record created up to ``now``; returns how many were sealed.

    One transaction per organizer and batch holds the organizer's chain head locked (SELECT ...
    FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite), so two sealers running at once (two
    worker processes) queue instead of forking a chain. Records created after ``now`` wait for
    the next pass.
    """
    consent, organizer = tables.consentrecord, tables.organizer
    pending = sa.exists().where(
        consent.c.organizer_id == organizer.c.id,
        consent.c.seq.is_(None),
        consent.c.created_at <= now,
    )
    with engine.connect() as connection:
        organizers = connection.execute(
            sa.select(organizer.c.id).where(pending).order_by(organizer.c.id)
        ).scalars()
        organizer_ids = list(organizers)
    sealed = 0
    for organizer_id in organizer_ids:
        while True:
            with engine.connect().execution_options(**write_options()) as connection:
                with connection.begin():
                    count = _seal_batch(connection, organizer_id, now, batch)
            sealed += count
            if count < batch:
                break
    return sealed


def _seal_batch(connection: Connection, organizer_id: int, now: datetime, batch: int) -> int:
    consent = tables.consentrecord
    head = _lock_head(connection, organizer_id)
    rows = connection.execute(
        sa.select(consent)
        .where(
            consent.c.organizer_id == organizer_id,
            consent.c.seq.is_(None),
            consent.c.created_at <= now,
        )
        .order_by(consent.c.id)
        .limit(batch)
    ).all()
    if not rows:
        return 0
    seq, last = head
    updates = []
    for row in rows:
        seq += 1
        fields = {**row._mapping, "seq": seq}
        digest = record_hash(fields, last)
        updates.append({"_id": row.id, "_seq": seq, "_prev": last, "_hash": digest})
        last = digest
    result = connection.execute(
        sa.update(consent)
        .where(consent.c.id == sa.bindparam("_id"), consent.c.seq.is_(None))
        .values(
            seq=sa.bindparam("_seq"),
            prev_hash=sa.bindparam("_prev"),
            record_hash=sa.bindparam("_hash"),
        ),
        updates,
    )
    if connection.dialect.supports_sane_multi_rowcount and result.rowcount != len(updates):
        raise RuntimeError("consent records were sealed by someone else while locked")
    chain = tables.consentchain
    connection.execute(
        sa.update(chain)
        .where(chain.c.organizer_id == organizer_id)
        .values(last_seq=seq, last_hash=last)
    )
    return len(rows)


def _lock_head(connection: Connection, organizer_id: int) -> tuple[int, str]:
    """The organizer's chain head, locked until the transaction ends; created when missing."""
    chain = tables.consentchain
    query = sa.select(chain.c.last_seq, chain.c.last_hash).where(
        chain.c.organizer_id == organizer_id
    )
    head = connection.execute(query.with_for_update()).first()
    if head is None:
        # Two sealers may both find no head: the second insert does nothing, then waits.
        connection.execute(_insert_ignoring_duplicate(connection, organizer_id))
        head = connection.execute(query.with_for_update()).one()
    return int(head.last_seq), str(head.last_hash)


def _insert_ignoring_duplicate(connection: Connection, organizer_id: int) -> Any:
    chain = tables.consentchain
    values = {"organizer_id": organizer_id, "last_seq": 0, "last_hash": ""}
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(chain).values(values).on_conflict_do_nothing()
    if connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(chain).values(values).on_conflict_do_nothing()
    raise NotImplementedError(f"sealing on {connection.dialect.name}")


# --- Verifying -------------------------------------------------------------------------------


class BrokenLink(NamedTuple):
    """The first place the chain does not hold: the seq expected, the record, and why."""

    seq: int
    record_id: int | None
    reason: str


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int  # sealed records found intact before the first broken link
    first_broken: BrokenLink | None
    unsealed: int  # records still waiting for the sealer (not covered yet)
    last_seq: int = 0  # the head: publish (seq, hash) somewhere else to anchor the chain
    last_hash: str = ""


def verify_chain(connection: Connection, organizer_id: int) -> ChainReport:
    """Recomputes an organizer's chain in seq order; names the first broken link.

    A changed field or wording breaks the record's own hash; a deleted record leaves a gap in
    seq (or, at the end, a head that points past the last record); records reordered, replaced
    or inserted no longer link to the hash before them, and records sealed behind the sealer's
    back lie beyond the head. The head is read FOR SHARE (on PostgreSQL), so that a sealer
    working at the same time waits instead of moving the head under the check.
    """
    consent, chain = tables.consentrecord, tables.consentchain
    head = connection.execute(
        sa.select(chain.c.last_seq, chain.c.last_hash)
        .where(chain.c.organizer_id == organizer_id)
        .with_for_update(read=True)
    ).first()
    head_seq, head_hash = (int(head.last_seq), str(head.last_hash)) if head else (0, "")
    unsealed = connection.execute(
        sa.select(sa.func.count())
        .select_from(consent)
        .where(consent.c.organizer_id == organizer_id, consent.c.seq.is_(None))
    ).scalar_one()

    def report(checked: int, broken: BrokenLink | None) -> ChainReport:
        return ChainReport(broken is None, checked, broken, int(unsealed), head_seq, head_hash)

    rows = connection.execute(
        sa.select(consent)
        .where(consent.c.organizer_id == organizer_id, consent.c.seq.is_not(None))
        .order_by(consent.c.seq),
        execution_options={"yield_per": 1000},
    )
    checked, previous = 0, ""
    with rows:
        for row in rows:
            if checked == head_seq:
                reason = f"sealed beyond the chain head ({head_seq}): added behind the sealer"
                return report(checked, BrokenLink(row.seq, row.id, reason))
            broken = _broken_link(row, checked + 1, previous)
            if broken is not None:
                return report(checked, broken)
            checked, previous = checked + 1, str(row.record_hash)
    if head_seq > checked:
        reason = f"records {checked + 1} to {head_seq} are missing (deleted from the end)"
        return report(checked, BrokenLink(checked + 1, None, reason))
    if head_hash != previous:
        reason = "the chain head does not match the last record's hash"
        return report(checked, BrokenLink(checked, None, reason))
    return report(checked, None)


def _broken_link(row: Any, expected: int, previous: str) -> BrokenLink | None:
    if row.seq != expected:
        reason = f"record {expected} is missing (deleted): the chain jumps to {row.seq}"
        return BrokenLink(expected, row.id, reason)
    if row.prev_hash != previous:
        reason = "not linked to the record before it (records reordered, replaced or inserted)"
        return BrokenLink(row.seq, row.id, reason)
    erased = row.channel == "erased" and not (row.ip_truncated or row.user_agent or row.page_url)
    # An erasure (EU-RIGHTS-1) blanks a sealed record's personal fields on purpose: its hash
    # can no longer be recomputed, but its place in the chain and its wording still are.
    if not erased and record_hash(row._mapping, previous) != row.record_hash:
        return BrokenLink(row.seq, row.id, "a field was changed since sealing (hash mismatch)")
    if text_hash(row.wording) != row.wording_hash:
        return BrokenLink(row.seq, row.id, "the wording no longer matches its wording_hash")
    return None


# --- Current state ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentState:
    purpose: str
    granted: bool  # given, confirmed or still waiting for its confirmation
    confirmed: bool  # the double opt-in link was followed, and no withdrawal since
    since: datetime | None  # when the record the state rests on was written
    wording: str
    wording_hash: str  # the version of the wording
    record_id: int | None

    @property
    def given(self) -> bool:
        """Marketing counts only once confirmed (DE-DOI-1); the rules once accepted."""
        return self.confirmed if self.purpose in MARKETING_PURPOSES else self.granted


def consent_state(connection: Connection, person_id: int, purpose: str) -> ConsentState:
    """The person's consent for ``purpose`` as the ledger says it now (latest events by id).

    A new 'granted' after a confirmation (entering another contest) leaves the consent
    confirmed; only a 'withdrawn' ends it.
    """
    consent = tables.consentrecord
    rows = connection.execute(
        sa.select(
            consent.c.id,
            consent.c.event,
            consent.c.wording,
            consent.c.wording_hash,
            consent.c.created_at,
        )
        .where(consent.c.person_id == person_id, consent.c.purpose == purpose)
        .order_by(consent.c.id.desc())
    )
    latest = None
    with rows:
        for row in rows:
            if row.event == "withdrawn":
                latest = latest or row
                break
            if row.event == "confirmed":
                latest = row
                break
            latest = latest or row
    if latest is None:
        return ConsentState(purpose, False, False, None, "", "", None)
    given = latest.event != "withdrawn"
    return ConsentState(
        purpose,
        granted=given,
        confirmed=latest.event == "confirmed",
        since=latest.created_at,
        wording=latest.wording,
        wording_hash=latest.wording_hash,
        record_id=latest.id,
    )


def current_consents(
    connection: Connection | None, organizer_id: int, purposes: Sequence[str]
) -> sa.Subquery:
    """Every (person, purpose) of an organizer with its current state, computed in SQL.

    Columns: ``person_id``, ``purpose``, ``state`` ('granted' = waiting for its double opt-in,
    'confirmed', 'withdrawn'), ``record_id`` (the record the state rests on) and ``since``
    (its time). Same rule as :func:`consent_state`: per person and purpose, the largest id of
    each event decides. Join it in a lead export and keep ``state == 'confirmed'`` for
    marketing::

        cc = current_consents(connection, organizer_id, ["marketing_email"])
        sa.select(person.c.email).join(cc, cc.c.person_id == person.c.id)
          .where(cc.c.state == "confirmed")

    ``connection`` is not used (the query is built, not run); it may be None.
    """
    consent = tables.consentrecord

    def last(event: str) -> sa.ColumnElement[Any]:
        return sa.func.max(sa.case((consent.c.event == event, consent.c.id)))

    events = (
        sa.select(
            consent.c.person_id,
            consent.c.purpose,
            last("granted").label("granted_id"),
            last("confirmed").label("confirmed_id"),
            last("withdrawn").label("withdrawn_id"),
        )
        .where(consent.c.organizer_id == organizer_id, consent.c.purpose.in_(list(purposes)))
        .group_by(consent.c.person_id, consent.c.purpose)
        .subquery("consent_events")
    )
    withdrawn = sa.func.coalesce(events.c.withdrawn_id, 0)
    confirmed = events.c.confirmed_id > withdrawn
    pending = events.c.granted_id > withdrawn
    state = sa.case((confirmed, "confirmed"), (pending, "granted"), else_="withdrawn")
    record_id = sa.case(
        (confirmed, events.c.confirmed_id),
        (pending, events.c.granted_id),
        else_=events.c.withdrawn_id,
    )
    decisive = consent.alias("decisive")
    return (
        sa.select(
            events.c.person_id,
            events.c.purpose,
            state.label("state"),
            record_id.label("record_id"),
            decisive.c.created_at.label("since"),
        )
        .join(decisive, decisive.c.id == record_id)
        .subquery("current_consent")
    )


def person_consents(connection: Connection, person_id: int) -> list[ConsentState]:
    """The person's marketing consents that the ledger has a record of, each in its current
    state: what the own page's "my consents" panel lists."""
    states = (consent_state(connection, person_id, purpose) for purpose in MARKETING_PURPOSES)
    return [state for state in states if state.record_id is not None]


def give_again(
    connection: Connection,
    person_id: int,
    entry_id: int,
    purpose: str,
    channel: str,
    now: datetime,
    wording: str,
    *,
    language: str = "fr",
    page_url: str = "",
) -> bool:
    """Records a marketing consent given again from the person's own page, as confirmed: the
    page is reached only through the link e-mailed to the address, which proves it as the
    double opt-in does (DE-DOI-1). Appends nothing when it is given already (idempotent).
    Refuses (ValueError) a purpose that is not a marketing one or an empty wording."""
    if purpose not in MARKETING_PURPOSES:
        raise ValueError(f"not a marketing purpose: {purpose}")
    if not wording.strip():
        raise ValueError("a consent needs the wording the person agreed to")
    person, consent = tables.person, tables.consentrecord
    found = connection.execute(
        sa.select(person.c.organizer_id).where(person.c.id == person_id).with_for_update()
    ).first()
    if found is None or consent_state(connection, person_id, purpose).confirmed:
        return False
    connection.execute(
        sa.insert(consent).values(
            organizer_id=found.organizer_id,
            person_id=person_id,
            entry_id=entry_id,
            purpose=purpose,
            event="confirmed",
            wording=wording[:2000],
            wording_hash=text_hash(wording[:2000]),
            language=language[:5],
            page_url=page_url[:500],
            channel=channel[:16],
            ip_truncated="",
            user_agent="",
            created_at=now,
        )
    )
    return True


# --- Withdrawal ------------------------------------------------------------------------------


def withdraw(
    connection: Connection,
    person_id: int,
    purposes: Iterable[str],
    channel: str,
    now: datetime,
    wording: str,
    *,
    language: str = "fr",
    page_url: str = "",
) -> int:
    """Appends a 'withdrawn' record for each of ``purposes`` currently given (or pending).

    Returns how many were appended: withdrawing again appends nothing (idempotent). Run it in a
    write transaction (``contest.storage.write_options()``); on PostgreSQL the person's row is
    locked so two withdrawals at once append once. Refuses (ValueError) an unknown purpose.
    Returns 0 for a person who does not exist (erased).
    """
    wanted = list(dict.fromkeys(purposes))
    unknown = [p for p in wanted if p not in PURPOSES]
    if unknown:
        raise ValueError(f"unknown consent purpose(s): {', '.join(unknown)}")
    person, consent = tables.person, tables.consentrecord
    found = connection.execute(
        sa.select(person.c.organizer_id).where(person.c.id == person_id).with_for_update()
    ).first()
    if found is None:
        return 0
    rows = [
        {
            "organizer_id": found.organizer_id,
            "person_id": person_id,
            "entry_id": None,
            "purpose": purpose,
            "event": "withdrawn",
            "wording": wording[:2000],
            "wording_hash": text_hash(wording[:2000]),
            "language": language[:5],
            "page_url": page_url[:500],
            "channel": channel[:16],
            "ip_truncated": "",
            "user_agent": "",
            "created_at": now,
        }
        for purpose in wanted
        if consent_state(connection, person_id, purpose).granted
    ]
    if rows:
        connection.execute(sa.insert(consent), rows)
    return len(rows)


# --- Proof -----------------------------------------------------------------------------------


class PersonNotFound(LookupError):
    """No such person for this organizer (never existed, or erased)."""


def proof(connection: Connection, organizer_id: int, person_id: int) -> dict[str, Any]:
    """The printable proof of one person's consents, JSON-ready (EU-CONSENT-PROOF-1).

    Who (e-mail), every record with all its fields, its place in the chain and whether its own
    hash still holds, the current state per purpose, and the organizer's chain verification.
    Refuses (PersonNotFound) a person of another organizer.
    """
    person, consent = tables.person, tables.consentrecord
    entry, contest = tables.entry, tables.contest
    who = connection.execute(
        sa.select(person.c.id, person.c.email, person.c.created_at, person.c.erased_at).where(
            person.c.id == person_id, person.c.organizer_id == organizer_id
        )
    ).first()
    if who is None:
        raise PersonNotFound(person_id)
    rows = connection.execute(
        sa.select(consent, entry.c.public_id.label("entry_public_id"), contest.c.slug)
        .outerjoin(entry, entry.c.id == consent.c.entry_id)
        .outerjoin(contest, contest.c.id == entry.c.contest_id)
        .where(consent.c.person_id == person_id, consent.c.organizer_id == organizer_id)
        .order_by(consent.c.id)
    ).all()
    records = []
    for row in rows:
        fields = {k: _json(v) for k, v in row._mapping.items()}
        fields["hash_valid"] = (
            None
            if row.seq is None
            else record_hash(row._mapping, row.prev_hash or "") == row.record_hash
            and text_hash(row.wording) == row.wording_hash
        )
        records.append(fields)
    purposes = sorted({row.purpose for row in rows})
    states = {p: consent_state(connection, person_id, p) for p in purposes}
    chain = verify_chain(connection, organizer_id)
    return {
        "format": "consent-proof/1",
        "hash": f"SHA-256 over {HASH_VERSION}: see contest/leads/consents.py",
        "organizer_id": organizer_id,
        "person": {
            "id": who.id,
            "email": who.email,
            "created_at": _json(who.created_at),
            "erased_at": _json(who.erased_at),
        },
        "state": {
            p: {
                "given": s.given,
                "granted": s.granted,
                "confirmed": s.confirmed,
                "since": _json(s.since),
                "wording_hash": s.wording_hash,
                "record_id": s.record_id,
            }
            for p, s in states.items()
        },
        "records": records,
        "chain": {
            "ok": chain.ok,
            "checked": chain.checked,
            "unsealed": chain.unsealed,
            "first_broken": chain.first_broken._asdict() if chain.first_broken else None,
            "head": {"seq": chain.last_seq, "hash": chain.last_hash},
        },
    }


def _json(value: Any) -> Any:
    return _utc_iso(value) if isinstance(value, datetime) else value


def verify_organizers(
    connection: Connection, email: str | None = None
) -> list[tuple[str, ChainReport]]:
    """Each organizer's consent chain checked (only ``email``'s when given), by address."""
    organizer = tables.organizer
    query = sa.select(organizer.c.id, organizer.c.email).order_by(organizer.c.id)
    if email:
        query = query.where(organizer.c.email == email)
    return [(row.email, verify_chain(connection, row.id)) for row in connection.execute(query)]
