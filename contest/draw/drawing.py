"""Drawing a contest's winners: the pool from the database, the draw, the signed record.

``run_draw`` turns a closed contest into a signed ``contest.draw.protocol.DrawRecord`` (the pure
algorithm, docs/draw.md) and stores it with the placements, once (ALL-DRAW-ORDER-1):

1. **The pool** (ALL-DRAW-POOL-1): every confirmed entry of the contest, in ticket order
   (ticket = the entry's random ``public_id``, weight = its ``chances``), streamed from the
   database with a server-side cursor (``yield_per``), never loaded at once. Two passes over
   one snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite): the first
   re-checks eligibility and freezes the pool (``PoolDigest``); the second draws, since the
   seed depends on the pool's digest. A third pass computes the winners' Merkle proofs when
   the pool is too large to be listed in the record.
2. **Eligibility at draw time**: each entry goes through ``rules.evaluate_draw`` with the
   person's facts built as at entry (contest.eligibility): e-mail key, staff, date of birth
   from the answers, the client row for client-only contests (joined by ``email_key`` in the
   same streaming query). An entry with a refusal is left out of the pool and counted under
   the first refusing rule's id in ``exclusions``. Referral fraud is not a reason: it only
   withholds bonus chances, already reflected in ``chances``; unsubscribing from marketing
   never removes anyone.
3. **The seed** ``draw_seed(secret, pool digest, public value)``, the winners (one per prize
   unit, in prize order) and alternates, the record signed with the server's key.
4. **Storage** in one transaction: the ``drawrecord`` row (its unique ``contest_id`` makes a
   concurrent second draw fail and return the first record), the ``drawplacement`` rows, the
   contest's status ``drawn`` and an ``auditevent`` ``contest.drawn``.

**Cost of the eligibility re-check.** ``evaluate_draw`` costs about 40 µs per call (every rule
of the contest's packs), 400 s for 10 million entries. The verdict is therefore memoised on
the facts the draw-time rules can read, reduced to what they compare: staff or not; the
e-mail domain only when it is an excluded one; the age on the draw day (not the birth date);
for client-only contests whether the person was a client before the cutoff, their order
count and segments. Each distinct key is judged once with the first entry's real facts,
which leaves a few hundred rule evaluations per draw. Should a rule come to read something
else, one entry in ``CROSS_CHECK_EVERY`` (the first always) is also judged with its own full
facts, and any difference stops the draw (``EligibilityMemoError``) rather than drawing a
wrong pool. The US state an entrant gave (kept in the entry's answers) is part of the key:
US-GEO-1 and the state ages of majority (US-AGE-1) are judged again at the draw.

**Pool listing.** Pools of up to ``POOL_LISTING_LIMIT`` (100,000) entries are listed in the
record, so that ``verify-draw`` re-runs the draw from the record alone (a few MB of JSON).
Larger pools are published as a separate pool file (``contest-pool-tsv/1``, whose
``sha256sum`` is ``pool.digest``), written during the third pass and served at
``/c/{slug}/pool.tsv`` (``contest.draw.poolfile``); the record then carries only the Merkle root and
each placement's inclusion proof. Keeping the listing costs up to about 15 MB while drawing.

**Privacy** (ALL-DRAW-PRIVACY-1): the record names entries only by their random public ids
and weights. No e-mail, name or database id is in it, so the signed record is also the
published one (``public_record_json``); the link from ticket to entry stays private, in the
``drawplacement`` table. The operator is named by a role or a name, never an address.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import instantwin, tables
from contest.compliance import contest_facts
from contest.contests import ContestView, load_contest
from contest.contests.fields import RANKING
from contest.draw import beacon, blocks, poolfile
from contest.draw import protocol as core
from contest.models import ContestStatus, EntryStatus
from contest.officialrules import rules_version as computed_rules_version
from contest.people import email_key
from contest.storage import write_options
from rules import ContestFacts, PersonFacts, Refusal, age_on, evaluate_draw

log = logging.getLogger(__name__)
POOL_LISTING_LIMIT = 100_000
CROSS_CHECK_EVERY = 1000
STREAM_BATCH = 10_000
SORTER_THREADS = 1  # SQLite's auxiliary sorting threads for the pool's order (PRAGMA threads)
MEMO_LIMIT = 100_000
MARKED_SEARCHED = 64  # marked rows of a batch found by string search; past them, row by row
CONTEST_LEVEL_RULES = frozenset({"ALL-DRAW-POOL-1"})  # the moment, judged once per draw
# A contest published before its opening keeps the status "scheduled": its dates, judged by
# ALL-DRAW-POOL-1, say whether it has closed.
DRAWABLE = frozenset({ContestStatus.SCHEDULED, ContestStatus.OPEN, ContestStatus.CLOSED})
OFFLINE_SOURCE = "none: offline mode, the secret committed at publication alone seeds the draw"

_contest, _entry, _person = tables.contest, tables.entry, tables.person
_version, _referral, _freeze_t = tables.clientversion, tables.referral, tables.poolfreeze
_birth_date = _entry.c.answers["birth_date"].as_string()
_region = _entry.c.answers["region"].as_string()
_record, _placement = tables.drawrecord, tables.drawplacement
_rules_version, _audit = tables.rulesversion, tables.auditevent


class DrawRefused(Refusal):
    """The contest cannot be drawn (now); nothing was written. ``code`` names the reason."""


class EligibilityMemoError(RuntimeError):
    """A memoised eligibility verdict differs from the entry's own: the memo key misses a
    fact that a draw-time rule reads (see the module docstring). Nothing was written."""


@dataclass(frozen=True)
class DrawOutcome:
    """The contest's record; ``created`` is False when it had already been drawn."""

    record: core.DrawRecord
    created: bool


@dataclass(frozen=True)
class PlacementRow:
    """A winner or an alternate, linked to its entry (private: for the claim flow)."""

    kind: str  # winner | alternate
    rank: int
    prize_rank: int | None
    ticket: str
    entry_id: int


def signing_key(secret_key: str) -> tuple[bytes, str]:
    """The draw-record signing key derived from the server's secret key, and its key id (a
    short hash that tells which key signed, without revealing it)."""
    key = hmac.new(secret_key.encode(), b"contest-draw-record/v1", hashlib.sha256).digest()
    return key, "k-" + hashlib.sha256(key).hexdigest()[:12]


def run_draw(
    engine: Engine,
    slug: str,
    now: datetime,
    *,
    signing_key: bytes,
    key_id: str,
    operator: str = "",
    public_value: str = "",
    public_value_source: str = "",
    alternates: int | None = None,
    relays: tuple[str, ...] = (),
    client: Callable[[], httpx.Client] = httpx.Client,
) -> DrawOutcome:
    """Draws the contest's winners and alternates, once, and stores the signed record.

    A contest already drawn is not drawn again: its first record comes back with
    ``created=False`` (ALL-DRAW-ORDER-1), also when two draws race. Refuses (DrawRefused,
    nothing written) an unknown contest, a draft, a contest not closed at ``now`` or drawn
    before its announced draw date (ALL-DRAW-POOL-1), one without a committed secret
    (ALL-DRAW-COMMIT-1), without prizes or without any eligible entry, a pool that is not
    canonical, and an operator given as an e-mail address (the record is published).
    ``alternates`` defaults to as many as there are prize units, at least 3.

    The public value is the one announced at publication (``contest.draw.beacon``):
    ``public_value`` is what the operator gives for it (a drand round's signature, left empty
    to fetch it from ``relays`` through ``client``; a lottery's result; the bailiff's value),
    refused (DrawRefused) before the announced moment or when it is not the announced one.
    Only a contest published before values were announced takes ``public_value`` as it is,
    described by ``public_value_source``.
    """
    if "@" in operator:
        raise _refused("operator")
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # every pass reads one snapshot
            connection.execution_options(isolation_level="REPEATABLE READ")
        contest = load_contest(connection, slug, include_drafts=True)
        if contest is None:
            raise _refused("not_found", slug=slug)
        first = stored_record(connection, contest.id)
        if first is not None:
            return DrawOutcome(first, created=False)
        secret, committed = _check_drawable(connection, contest, now)
        randomness = None
        announced = contest.announcement
        if announced is not None:
            try:
                revealed = beacon.reveal(announced, public_value, now, relays=relays, client=client)
            except beacon.RandomnessRefused as refused:
                raise DrawRefused(refused.code, refused.message_fr, refused.message_en) from None
            public_value, public_value_source = revealed.value, revealed.source
            randomness = revealed.evidence
        prizes = _prize_units(contest, _instant_leftovers(connection, contest))
        wanted = max(len(prizes), 3) if alternates is None else max(alternates, 0)
        freeze, digest = _freeze(engine, contest, now)
        ranking = _ranking_facts(connection, contest) if contest.game == RANKING else None
        pool, result = _draw_frozen(
            engine, contest.id, freeze, secret, public_value, len(prizes), wanted, ranking, digest
        )
        assert contest.closes_at is not None  # ALL-DRAW-POOL-1 refused an unscheduled one
        record = core.DrawRecord(
            contest_id=contest.id,
            contest_slug=contest.slug,
            rules_version=_rules_version_of(connection, contest),
            operator=operator,
            closed_at=_rfc3339(contest.closes_at),
            drawn_at=_rfc3339(now),
            commitment=committed,
            secret=secret,
            public_value=public_value,
            public_value_source=public_value_source or ("" if public_value else OFFLINE_SOURCE),
            pool=pool,
            exclusions=freeze.exclusions,
            prizes=tuple(prize for prize, _ in prizes),
            alternates_requested=wanted,
            winners=result.winners,
            alternates=result.alternates,
            anomalies=_anomalies(result, len(prizes)),
            randomness=randomness,
            ranking=None if ranking is None else _published_ranking(ranking, pool.entries),
        ).sign(signing_key, key_id)
    if pool.entries is not None:  # before publishing, as docs/draw.md advises
        problems = core.verify_record(record).problems
        if problems:
            raise RuntimeError(f"the new draw record does not verify: {problems}")
    return _store(engine, contest, record, prizes, now)


@dataclass(frozen=True)
class RankingFacts:
    """What a ranking by the tie-breaker question compares: the value to come closest to (the
    number of entries confirmed before the close) and each confirmed entry's answer."""

    truth: int
    estimates: dict[str, int]


def _ranking_facts(connection: Connection, contest: ContestView) -> RankingFacts:
    """The tie-breaker's truth and answers of a ranked contest, read once at the draw."""
    assert contest.closes_at is not None
    answer = _entry.c.answers["tiebreaker"].as_string()
    rows = connection.execute(
        sa.select(_entry.c.public_id, answer).where(
            _entry.c.contest_id == contest.id,
            _entry.c.status == EntryStatus.CONFIRMED,
            _entry.c.confirmed_at < contest.closes_at,
        )
    ).all()
    estimates = {}
    for ticket, text in rows:
        try:
            estimates[ticket] = int(text)
        except (TypeError, ValueError):
            continue  # no answer: such an entry cannot be ranked (refused if in the pool)
    return RankingFacts(truth=len(rows), estimates=estimates)


def _published_ranking(
    facts: RankingFacts, listing: tuple[core.PoolEntry, ...] | None
) -> dict[str, Any]:
    """The ranking as the record publishes it: the truth and the pool's answers."""
    assert listing is not None  # a ranking reads its whole pool (refused above the limit)
    return {
        "truth": facts.truth,
        "truth_is": "entries confirmed before the close",
        "estimates": {e.ticket: facts.estimates[e.ticket] for e in listing},
    }


def _draw_frozen(
    engine: Engine,
    contest_id: int,
    freeze: FrozenPool,
    secret: str,
    public_value: str,
    winners: int,
    alternates: int,
    ranking: RankingFacts | None = None,
    digest: core.PoolDigest | None = None,
) -> tuple[core.PoolSummary, core.DrawResult]:
    """Draws from the pool frozen at the close, read back from its stored file, which must
    give the digest frozen then: the seed needs only that digest, so one pass over the file
    draws (in blocks, ``contest.draw.blocks``) while checking it, and keeps the listing of a
    pool small enough to list. The placements of a larger pool are proven against the Merkle
    root from the subtree roots of ``digest`` (the freeze of this same call, if it froze the
    pool) and the blocks the draw kept; without them, one more pass over the file."""
    if freeze.entries == 0:
        raise _refused("no_entries", excluded=sum(freeze.exclusions.values()))
    if ranking is not None:
        return _rank_frozen(
            engine, contest_id, freeze, secret, public_value, winners, alternates, ranking
        )
    seed = core.draw_seed(secret, freeze.digest, public_value)
    if digest is not None and (digest.digest, digest.count) != (freeze.digest, freeze.entries):
        digest = None  # not the freeze that was stored
    weights = digest.subtree_weights if digest is not None else []
    listing: list[core.PoolEntry] | None = [] if freeze.entries <= POOL_LISTING_LIMIT else None
    reader = poolfile.PoolReader(engine, contest_id)

    def read() -> Iterator[blocks.Block]:
        for number, lines in enumerate(reader.blocks(core.SUBTREE_LEAVES)):
            if listing is not None:
                listing.extend(map(_pool_entry, lines))
            yield blocks.Block(lines, weights[number] if number < len(weights) else None)

    try:
        drawn = blocks.draw(read(), seed, winners, alternates)
    except (ValueError, ArithmeticError, LookupError) as exc:  # not the pool file frozen?
        reader.finish()
        _check_read(reader, freeze)
        raise _refused("pool", detail=str(exc)) from exc
    _check_read(reader, freeze)
    result = drawn.result
    if result.total_weight != freeze.total_weight:
        raise RuntimeError("the stored pool does not match the digest frozen at the close")
    if listing is None:
        roots = digest.subtree_roots if digest is not None else None
        held = drawn.held
        if roots is None or held is None:
            roots, held = _subtrees(engine, contest_id, freeze, result, roots)
        result = blocks.prove(result, roots, held, freeze.entries)
    summary = core.PoolSummary(
        freeze.entries,
        freeze.total_weight,
        freeze.digest,
        freeze.merkle_root,
        None if listing is None else tuple(listing),
    )
    return summary, result


def _pool_entry(line: bytes) -> core.PoolEntry:
    ticket, _, weight = line.partition(b"\t")
    return core.PoolEntry(ticket.decode("ascii"), int(weight))


def _check_read(reader: poolfile.PoolReader, freeze: FrozenPool) -> None:
    if (reader.digest, reader.lines) != (freeze.digest, freeze.entries):
        raise RuntimeError("the stored pool does not match the digest frozen at the close")


def _subtrees(
    engine: Engine,
    contest_id: int,
    freeze: FrozenPool,
    result: core.DrawResult,
    roots: list[bytes] | None,
) -> tuple[list[bytes], dict[int, list[bytes]]]:
    """One more pass over the pool file: the roots of its subtrees (when not known, checked
    against the frozen Merkle root) and the lines of the blocks that hold the placements."""
    wanted = {p.index // core.SUBTREE_LEAVES for p in result.winners + result.alternates}
    found: list[bytes] = []
    held: dict[int, list[bytes]] = {}
    reader = poolfile.PoolReader(engine, contest_id)
    for number, lines in enumerate(reader.blocks(core.SUBTREE_LEAVES)):
        if number in wanted:
            held[number] = lines
        if roots is None:
            found.append(core.subtree_hash(blocks.leaf_hashes(lines)))
    _check_read(reader, freeze)
    if roots is None and core.subtree_hash(found).hex() != freeze.merkle_root:
        raise RuntimeError("the stored pool does not match the Merkle root frozen at the close")
    return (found if roots is None else roots), held


def _rank_frozen(
    engine: Engine,
    contest_id: int,
    freeze: FrozenPool,
    secret: str,
    public_value: str,
    winners: int,
    alternates: int,
    ranking: RankingFacts,
) -> tuple[core.PoolSummary, core.DrawResult]:
    """A ranking by the tie-breaker question, from the frozen pool file (listed: a ranking
    reads its whole pool, so it is limited to POOL_LISTING_LIMIT entries)."""
    if freeze.entries > POOL_LISTING_LIMIT:
        raise _refused("ranking_too_large", limit=POOL_LISTING_LIMIT)
    seed = core.draw_seed(secret, freeze.digest, public_value)
    checked = core.PoolDigest()
    try:
        listing = list(poolfile.entries(engine, contest_id))
        checked.add_all(listing)
        result = core.rank(listing, seed, ranking.truth, ranking.estimates, winners, alternates)
    except core.PoolError as exc:
        raise _refused("pool", detail=str(exc)) from exc
    if (checked.digest, checked.count) != (freeze.digest, freeze.entries):
        raise RuntimeError("the stored pool does not match the digest frozen at the close")
    return core.PoolSummary.of(checked, listing), result


def stored_record(connection: Connection, contest_id: int) -> core.DrawRecord | None:
    """The contest's draw record, or None if it has not been drawn."""
    text = connection.execute(
        sa.select(_record.c.record).where(_record.c.contest_id == contest_id)
    ).scalar()
    return None if text is None else core.DrawRecord.from_json(text)


def public_record_json(record: core.DrawRecord) -> str:
    """The record as published. It is the signed record itself: tickets are random public
    ids, weights are numbers of chances, and no e-mail, name or entry id is in it."""
    return record.to_json()


def receipt_of(public_id: str, chances: int) -> str:
    """The participant's receipt (their pool line's Merkle leaf hash), for their page."""
    return core.receipt(public_id, chances)


def placements(connection: Connection, contest_id: int) -> list[PlacementRow]:
    """Winners (by rank) then alternates (by rank), with their entry ids: private data."""
    rows = connection.execute(
        sa.select(
            _placement.c.kind,
            _placement.c.rank,
            _placement.c.prize_rank,
            _placement.c.ticket,
            _placement.c.entry_id,
        )
        .where(_placement.c.contest_id == contest_id)
        .order_by(sa.case((_placement.c.kind == "winner", 0), else_=1), _placement.c.rank)
    )
    return [PlacementRow(*row) for row in rows]


@dataclass(frozen=True)
class FileVerification(core.Verification):
    """The outcome of checking a record file; ``record`` is None when it could not be read."""

    record: core.DrawRecord | None = None


def verify_file(path: Path, pool: Path | None = None) -> FileVerification:
    """Recomputes a published draw from its record file alone, or with the separately
    published pool file (``contest-pool-tsv/1``) when the record does not list the pool.
    Checks as well that the public value is the one announced at publication (for drand, the
    round of the announced time and its signature, offline). Needs neither the database nor
    any key. No problem means the record matches."""
    try:
        record = core.DrawRecord.from_json(path.read_bytes())
    except OSError as exc:
        return FileVerification((core.Problem("file", f"{path}: {exc.strerror}"),))
    except core.RecordFormatError as exc:
        return FileVerification((core.Problem("format", str(exc)),))
    announced = beacon.check_record(record)
    if pool is None:
        problems = core.verify_record(record).problems
    else:
        try:
            with pool.open("rb") as lines:
                problems = core.verify_record(record, core.read_pool(lines)).problems
        except OSError as exc:
            problems = (core.Problem("file", f"{pool}: {exc.strerror}"),)
        except core.PoolError as exc:
            problems = (core.Problem("pool.entries", str(exc)),)
    return FileVerification((*announced, *problems), record)


# --- Refusals ------------------------------------------------------------------------------

REFUSALS = {
    "operator": (
        "Nommez l'opérateur par son rôle ou son nom, pas par une adresse e-mail : le procès-"
        "verbal est publié.",
        "Name the operator by role or name, not by an e-mail address: the record is published.",
    ),
    "not_found": ("Aucun jeu « {slug} ».", "No contest '{slug}'."),
    "draft": (
        "Ce jeu est un brouillon : il n'a jamais été publié et ne peut pas être tiré au sort.",
        "This contest is a draft: it was never published and cannot be drawn.",
    ),
    "status": (
        "Ce jeu ne peut pas être tiré au sort dans l'état « {status} ».",
        "This contest cannot be drawn while it is '{status}'.",
    ),
    "no_commitment": (
        "Ce jeu n'a pas de secret engagé à la publication : le tirage ne serait pas vérifiable.",
        "This contest has no secret committed at publication: its draw could not be verified.",
    ),
    "bad_commitment": (
        "Le secret enregistré ne correspond plus à l'engagement publié : tirage impossible.",
        "The stored secret no longer matches the published commitment: no draw is possible.",
    ),
    "no_prizes": ("Ce jeu n'a aucun lot à attribuer.", "This contest has no prize to award."),
    "ranking_too_large": (
        "Un classement par la question subsidiaire se limite à {limit} bonnes réponses.",
        "A ranking by the tie-breaker question is limited to {limit} right answers.",
    ),
    "instant_no_draw": (
        "Jeu à instants gagnants : son règlement ne prévoit pas de tirage des lots non gagnés.",
        "Instant-win contest: its rules award no prize left unwon by a draw.",
    ),
    "instant_all_won": (
        "Tous les lots ont été gagnés à un instant gagnant : il ne reste rien à tirer.",
        "Every prize was won at a winning moment: there is nothing left to draw.",
    ),
    "no_entries": (
        "Aucune participation confirmée et éligible ({excluded} exclue(s)) : rien à tirer.",
        "No confirmed, eligible entry ({excluded} excluded): there is nothing to draw.",
    ),
    "pool": (
        "Les participations ne forment pas un tirage valide : {detail}",
        "The entries do not make a valid pool: {detail}",
    ),
    "not_closed": (
        "Ce jeu n'est pas encore clos : ses participations ne sont pas arrêtées.",
        "This contest has not closed yet: its entries are not final.",
    ),
}


def _refused(code: str, **params: object) -> DrawRefused:
    message_fr, message_en = REFUSALS[code]
    return DrawRefused(code, message_fr.format(**params), message_en.format(**params))


def _check_drawable(connection: Connection, contest: ContestView, now: datetime) -> tuple[str, str]:
    """The committed secret and its commitment, once the contest may be drawn at ``now``."""
    if contest.status == ContestStatus.DRAFT:
        raise _refused("draft")
    if contest.status not in DRAWABLE:
        raise _refused("status", status=contest.status)
    # The moment (closed, announced draw date) is judged once, not as a per-entry exclusion.
    probe = PersonFacts(email_normalized="probe@draw.invalid", age_attested=True, confirmed=True)
    for finding in evaluate_draw(contest_facts(contest), probe, now).refusals:
        if finding.rule_id in CONTEST_LEVEL_RULES:
            raise DrawRefused(
                "not_closed", finding.message_fr, finding.message_en, rule_id=finding.rule_id
            )
    row = connection.execute(
        sa.select(_contest.c.draw_secret, _contest.c.draw_commitment).where(
            _contest.c.id == contest.id
        )
    ).one()
    if not row.draw_secret or not row.draw_commitment:
        raise _refused("no_commitment")
    try:
        matches = core.commitment(row.draw_secret) == row.draw_commitment
    except ValueError:
        matches = False
    if not matches:
        raise _refused("bad_commitment")
    return row.draw_secret, row.draw_commitment


# --- The pool --------------------------------------------------------------------------------


class _Pool:
    """The contest's pool as it stood at the close, streamed on each call: the entries
    confirmed before the close, weighted with the chances earned by then, that the rules admit
    (judged at the close, client facts as known at the cut-off)."""

    def __init__(self, connection: Connection, contest: ContestView) -> None:
        assert contest.closes_at is not None
        self._connection = connection
        self._contest = contest
        self._closed_at = contest.closes_at
        self._eligibility = _Eligibility(contest, contest_facts(contest), contest.closes_at)
        self.exclusions: Counter[str] = Counter()

    def batches(self) -> Generator[tuple[list[str], list[int]], None, None]:
        """The pool's entries in ticket order, in batches of (tickets, weights), each entry
        judged and each exclusion counted. Close the iterator (``contextlib.closing``) when not
        consuming it to the end."""
        refusals = self._eligibility.refusals
        for rows in self._rows(self._full_query()):
            verdicts = refusals(rows)
            if not any(verdicts):
                yield [row[0] for row in rows], [row[1] for row in rows]
                continue
            admitted = [row for row, refusal in zip(rows, verdicts, strict=True) if not refusal]
            self.exclusions.update(refusal[0][0] for refusal in verdicts if refusal)
            yield [row[0] for row in admitted], [row[1] for row in admitted]

    def _rows(self, query: sa.Select[Any]) -> Iterator[Sequence[Any]]:
        """The query's rows in batches of STREAM_BATCH, memory staying flat: on SQLite, the
        driver's own rows, as its cursor steps through the result (building SQLAlchemy rows
        costs as much as SQLite's work; the client-only query's dates and lists need them);
        elsewhere SQLAlchemy's rows from a server-side cursor."""
        if self._connection.dialect.name == "sqlite" and not self._contest.clients_only:
            result = self._connection.execute(query)
            try:
                while rows := result.cursor.fetchmany(STREAM_BATCH):
                    yield rows
            finally:
                result.close()
            return
        streamed = query.execution_options(yield_per=STREAM_BATCH)
        with self._connection.execute(streamed) as result:
            yield from result.partitions()

    def _select(self, *columns: Any) -> sa.Select[Any]:
        """The entries confirmed before the close, their weight as it stood then: today's
        chances less the bonuses credited since (a friend confirming, or a review cleared,
        after the close is recorded but earns nothing in this pool)."""
        late = (
            sa.select(
                _referral.c.referrer_entry_id.label("entry_id"),
                sa.func.sum(_referral.c.bonus).label("bonus"),
            )
            .where(
                _referral.c.contest_id == self._contest.id,
                _referral.c.status == "credited",
                _referral.c.decided_at >= self._closed_at,
            )
            .group_by(_referral.c.referrer_entry_id)
            .subquery()
        )
        weight = _entry.c.chances - sa.func.coalesce(late.c.bonus, 0)
        ticket = _entry.c.public_id
        in_bytes = ticket.collate("C") if self._connection.dialect.name == "postgresql" else ticket
        return (
            sa.select(_entry.c.public_id, weight, *columns)
            .select_from(_entry)
            .outerjoin(late, late.c.entry_id == _entry.c.id)
            .where(
                _entry.c.contest_id == self._contest.id,
                _entry.c.status == EntryStatus.CONFIRMED,
                _entry.c.confirmed_at < self._closed_at,
                # An instant win's final draw is among those who won nothing at a moment.
                ~instantwin.winners_clause() if instantwin.is_instant(self._contest) else sa.true(),
                # A contest question: only the right answers take part (the wrong ones are
                # counted in the exclusions).
                *_right_answer(self._contest),
            )
            .order_by(in_bytes)  # the canonical order: ticket bytes (SQLite compares bytes)
        )

    def _full_query(self) -> sa.Select[Any]:
        """The pool's rows: ticket, weight, the person's key, then what the eligibility memo
        looks verdicts up by (see ``_Eligibility``): the birth date and the US state given,
        and for a client-only contest the client facts as known at the cut-off."""
        memo_key = (_birth_date, _region)
        if not self._contest.clients_only:
            return self._select(_person.c.email_key, *memo_key).join(
                _person, _person.c.id == _entry.c.person_id
            )
        # The client facts as the shop had given them before the cut-off (contest.eligibility).
        cutoff = contest_facts(self._contest).eligibility_cutoff or self._closed_at
        known = (
            sa.select(_version.c.email_key, sa.func.max(_version.c.id).label("id"))
            .where(
                _version.c.organizer_id == self._contest.organizer_id,
                _version.c.learned_at < cutoff,
            )
            .group_by(_version.c.email_key)
            .subquery()
        )
        return (
            self._select(
                _person.c.email_key,
                *memo_key,
                _version.c.client_since,
                _version.c.orders_count,
                _version.c.segments,
            )
            .join(_person, _person.c.id == _entry.c.person_id)
            .outerjoin(known, known.c.email_key == _person.c.email_key)
            .outerjoin(_version, _version.c.id == known.c.id)
        )


# --- The pool frozen at the close ---------------------------------------------------------


@dataclass(frozen=True)
class FrozenPool:
    """A contest's pool as frozen at its close (``poolfreeze``): published from then on."""

    closed_at: datetime
    frozen_at: datetime
    digest: str
    merkle_root: str
    entries: int
    total_weight: int
    exclusions: dict[str, int]


_FROZEN_COLUMNS = [getattr(_freeze_t.c, name) for name in FrozenPool.__dataclass_fields__]


def frozen_pool(connection: Connection, contest_id: int) -> FrozenPool | None:
    """The contest's frozen pool, or None while it has not been frozen."""
    row = connection.execute(
        sa.select(*_FROZEN_COLUMNS).where(_freeze_t.c.contest_id == contest_id)
    ).first()
    return None if row is None else FrozenPool(**row._mapping)


def freeze_pool(engine: Engine, contest: ContestView, now: datetime) -> FrozenPool:
    """Freezes the contest's pool, once: the entries confirmed before the close, with the
    chances earned by then, that the rules admit at the close (client facts as known at the
    cut-off). Its digest and pool file are published from then on and the draw reads exactly
    them; nothing that happens after the close (a late confirmation or credit, a client
    re-import) changes them. The worker freezes each contest as it closes; the draw freezes
    first if it comes earlier. Refuses (DrawRefused) a contest not yet closed at ``now``."""
    return _freeze(engine, contest, now)[0]


def _freeze(
    engine: Engine, contest: ContestView, now: datetime
) -> tuple[FrozenPool, core.PoolDigest | None]:
    """``freeze_pool``, and the digest that froze it when this call did (None when the pool
    was frozen before, or by another process meanwhile)."""
    with engine.connect() as connection:
        existing = frozen_pool(connection, contest.id)
    if existing is not None:
        return existing, None
    if contest.status not in DRAWABLE or contest.closes_at is None or contest.closes_at > now:
        raise _refused("not_closed", status=contest.status)
    pool_file = poolfile.PoolFile()
    try:
        frozen, digest = _pool_at_close(engine, contest, now, pool_file)
    except BaseException:  # refused, or an eligibility memo error: nothing is kept
        pool_file.discard()
        raise
    try:
        with engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                first = frozen_pool(connection, contest.id)
                if first is not None:  # another process froze it meanwhile
                    return first, None
                _store_freeze(connection, contest, frozen, pool_file)
    except sa.exc.IntegrityError:  # ... at the same moment: theirs stands
        with engine.connect() as connection:
            first = frozen_pool(connection, contest.id)
        if first is None:
            raise
        return first, None
    finally:
        pool_file.discard()
    return frozen, digest


def pool_at_close(
    engine: Engine,
    contest: ContestView,
    now: datetime,
    pool_file: poolfile.PoolFile | None = None,
) -> FrozenPool:
    """The contest's pool as it stood at its close, computed from what is stored (the
    entries' confirmation times, the referral credits' times, the client versions learned
    before the cut-off): the same whenever it is computed after the close. Its lines go
    through ``pool_file`` when given. Nothing is written."""
    return _pool_at_close(engine, contest, now, pool_file)[0]


def _pool_at_close(
    engine: Engine,
    contest: ContestView,
    now: datetime,
    pool_file: poolfile.PoolFile | None = None,
) -> tuple[FrozenPool, core.PoolDigest]:
    """``pool_at_close``, and the digest that froze it (its subtrees' roots and weights)."""
    assert contest.closes_at is not None
    digest = core.PoolDigest()
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":  # one snapshot for the whole pass
                connection.execution_options(isolation_level="REPEATABLE READ")
            pool = _Pool(connection, contest)
            with _sorter_threads(connection), closing(pool.batches()) as batches:
                for tickets, weights in batches:
                    lines = digest.add_batch(tickets, weights)
                    if pool_file is not None:
                        pool_file.write(lines)
            wrong = _wrong_answers(connection, contest)
            if wrong:
                pool.exclusions[WRONG_ANSWER] += wrong
    except core.PoolError as exc:
        raise _refused("pool", detail=str(exc)) from exc
    frozen = FrozenPool(
        closed_at=contest.closes_at,
        frozen_at=now,
        digest=digest.digest,
        merkle_root=digest.merkle_root,
        entries=digest.count,
        total_weight=digest.total_weight,
        exclusions=dict(sorted(pool.exclusions.items())),
    )
    return frozen, digest


@contextmanager
def _sorter_threads(connection: Connection) -> Iterator[None]:
    """On SQLite, the pool's ticket order (a sort of the whole pool) merged on a worker thread
    of SQLite's own, a second core, while the pool is read: about a sixth of the query's time
    on a large pool. The connection goes back to the pool as it was."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql(f"PRAGMA threads={SORTER_THREADS}")
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA threads=0")


def weight_at_close(connection: Connection, contest: ContestView, ticket: str) -> int | None:
    """The ticket's weight in the pool as it stood at the close, or None when it is not in it
    (confirmed after the close, or never): what the participant's receipt must be made of once
    the contest has closed. The rules' exclusions are not judged here."""
    if contest.closes_at is None:
        return None
    pool = _Pool(connection, contest)
    row = connection.execute(pool._select().where(_entry.c.public_id == ticket)).first()
    return None if row is None else int(row[1])


def _store_freeze(
    connection: Connection, contest: ContestView, frozen: FrozenPool, pool_file: poolfile.PoolFile
) -> None:
    connection.execute(sa.insert(_freeze_t).values(contest_id=contest.id, **frozen.__dict__))
    poolfile.store(connection, contest.id, pool_file)
    connection.execute(
        sa.insert(_audit).values(
            organizer_id=contest.organizer_id,
            contest_id=contest.id,
            action="contest.pool_frozen",
            detail={
                "pool_digest": frozen.digest,
                "pool_count": frozen.entries,
                "excluded": sum(frozen.exclusions.values()),
            },
            created_at=frozen.frozen_at,
        )
    )


def freeze_closed(engine: Engine, now: datetime) -> int:
    """The worker's duty: freezes the pool of every published contest closed by ``now`` and
    neither frozen nor drawn yet. Returns how many it froze."""
    with engine.connect() as connection:
        slugs = (
            connection.execute(
                sa.select(_contest.c.slug).where(
                    _contest.c.status.in_(DRAWABLE),
                    _contest.c.closes_at <= now,
                    ~sa.exists().where(_freeze_t.c.contest_id == _contest.c.id),
                    ~sa.exists().where(_record.c.contest_id == _contest.c.id),
                )
            )
            .scalars()
            .all()
        )
    frozen = 0
    for slug in slugs:
        with engine.connect() as connection:
            contest = load_contest(connection, slug, include_drafts=True)
        if contest is None:
            continue
        try:
            freeze_pool(engine, contest, now)
        except (DrawRefused, EligibilityMemoError):  # the draw will say why; the others go on
            log.exception("the pool of contest %s could not be frozen", contest.id)
            continue
        frozen += 1
    return frozen


WRONG_ANSWER = "wrong_answer"  # the exclusion of entries that got the contest question wrong
_contest_answer = _entry.c.answers["question"].as_string()


def _right_answer(contest: ContestView) -> list[sa.ColumnElement[bool]]:
    """The pool's condition of a contest with a question: the right answer was given."""
    if not contest.question_answer:
        return []
    return [_contest_answer == contest.question_answer]


def _wrong_answers(connection: Connection, contest: ContestView) -> int:
    """How many entries confirmed before the close got the contest question wrong."""
    if not contest.question_answer:
        return 0
    assert contest.closes_at is not None
    return int(
        connection.execute(
            sa.select(sa.func.count()).where(
                _entry.c.contest_id == contest.id,
                _entry.c.status == EntryStatus.CONFIRMED,
                _entry.c.confirmed_at < contest.closes_at,
                sa.or_(_contest_answer.is_(None), _contest_answer != contest.question_answer),
            )
        ).scalar_one()
    )


Verdict = tuple[tuple[str, str], ...]  # the draw-time refusals: (rule id, variant), first first


_person_key = itemgetter(2)  # of a pool row


class _Eligibility:
    """``rules.evaluate_draw`` per entry, memoised (see the module docstring) on the row's
    memo columns as the database gives them (the birth date, the US state, the client facts),
    then on what the rules compare (staff or not, the excluded e-mail domain, the age on the
    draw day rather than the birth date); one entry in CROSS_CHECK_EVERY, the first always,
    is also judged on its own full facts.

    The few entries of the staff's address or of an excluded domain are found per batch by
    searching the batch's keys at once (``_marked``) and judged on their own key: comparing
    every key in the query cost a tenth of the freeze."""

    def __init__(self, contest: ContestView, facts: ContestFacts, now: datetime) -> None:
        self._facts, self._now, self._today = facts, now, now.date()
        contact = contest.organizer_contact
        self._staff = email_key(contact) if contact and "@" in contact else None
        self._domains = frozenset(d for d in facts.excluded_email_domains if "@" not in d)
        # Searched in "\n" + "\n".join(keys) + "\n": the staff's key whole, the domains after
        # the last "@" (a key is an address: it holds one, at least).
        self._needles = [f"\n{self._staff}\n"] if self._staff is not None else []
        self._needles += [f"@{domain}\n" for domain in sorted(self._domains)]
        self._memo: dict[tuple[Any, ...], Verdict] = {}  # what the rules compare -> verdict
        self._rows: dict[tuple[Any, ...], Verdict] = {}  # the row's memo columns -> verdict
        self._births: dict[str, date | None] = {}
        self._judged = 0
        self._row_key = self._client_row_key if contest.clients_only else itemgetter(slice(3, None))

    def refusals(self, rows: Sequence[Any]) -> list[Verdict]:
        """Each row's draw-time refusals, empty when the rules admit the entry. Raises
        EligibilityMemoError when a cross-checked row's own facts give another verdict."""
        memo, row_key = self._rows, self._row_key
        verdicts: list[Verdict | None] = [memo.get(row_key(row)) for row in rows]
        for at in self._marked(rows):  # not to be judged as their memo columns alone say
            verdicts[at] = self._verdict(rows[at], marked=True)
        if None in verdicts:
            for at, verdict in enumerate(verdicts):
                if verdict is None:
                    verdicts[at] = self._verdict(rows[at])
        for at in range(-self._judged % CROSS_CHECK_EVERY, len(rows), CROSS_CHECK_EVERY):
            own = self._judge(rows[at])
            if own != verdicts[at]:
                raise EligibilityMemoError(
                    f"ticket {rows[at][0]}: memoised verdict {verdicts[at]}, its own facts "
                    f"give {own}"
                )
        self._judged += len(rows)
        return cast(list[Verdict], verdicts)

    def _marked(self, rows: Sequence[Any]) -> list[int]:
        """The rows whose key is the staff's or in an excluded domain, found with one string
        search per needle over the whole batch (rare: checked row by row past a few)."""
        if not self._needles:
            return []
        text = "\n" + "\n".join(map(_person_key, rows)) + "\n"
        found: set[int] = set()
        for needle in self._needles:
            at = text.find(needle)
            while at != -1:
                if len(found) >= MARKED_SEARCHED:
                    keys = map(_person_key, rows)
                    return [i for i, key in enumerate(keys) if self._is_marked(key)]
                found.add(text.count("\n", 0, at + len(needle) - 1) - 1)  # the line's number
                at = text.find(needle, at + 1)
        return sorted(found)

    def _is_marked(self, key: str) -> bool:
        return key == self._staff or bool(self._excluded_domain(key))

    def _excluded_domain(self, key: str) -> str:
        """The key's domain (after the last "@") when it is an excluded one, else ""."""
        domain = key.rpartition("@")[2]
        return domain if domain in self._domains else ""

    def _verdict(self, row: Any, marked: bool = False) -> Verdict:
        key = self._key(row)
        verdict = self._memo.get(key)
        if verdict is None:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            verdict = self._memo[key] = self._judge(row)
        if not marked:  # the row memo holds the verdicts of keys neither staff nor excluded
            if len(self._rows) >= MEMO_LIMIT:
                self._rows.clear()
            self._rows[self._row_key(row)] = verdict
        return verdict

    @staticmethod
    def _client_row_key(row: Any) -> tuple[Any, ...]:
        *facts, segments = row[3:]
        return (*facts, tuple(segments or ()))

    def _key(self, row: Any) -> tuple[Any, ...]:
        _, _, person_key, birth, region, *client = row
        staff, excluded = person_key == self._staff, self._excluded_domain(person_key)
        born = self._birth(birth)
        key = (staff, excluded, None if born is None else age_on(born, self._today), region)
        if not client:
            return key
        since, orders, segments = client
        cutoff = self._facts.eligibility_cutoff
        before = None if since is None else cutoff is None or since < cutoff
        return (*key, before, orders or 0, tuple(sorted(segments or ())))

    def _birth(self, text: str | None) -> date | None:
        if not text:
            return None
        if text not in self._births:
            if len(self._births) >= MEMO_LIMIT:
                self._births.clear()
            try:
                self._births[text] = date.fromisoformat(text)
            except ValueError:
                self._births[text] = None
        return self._births[text]

    def _judge(self, row: Any) -> Verdict:
        _, _, person_key, birth, region, *client = row
        since, orders, segments = client or (None, 0, ())
        person = PersonFacts(
            email_normalized=person_key,
            birth_date=self._birth(birth),
            country="US" if region else None,  # as at entry (contest.eligibility.person_facts)
            region=region,
            age_attested=True,  # an entry exists only once "I am N or over" was ticked
            client_since=since,
            orders_count=orders or 0,
            segments=frozenset(segments or ()),
            is_staff=person_key == self._staff,
            confirmed=True,
        )
        verdict = evaluate_draw(self._facts, person, self._now)
        return tuple(
            (finding.rule_id, finding.variant)
            for finding in verdict.refusals
            if finding.rule_id not in CONTEST_LEVEL_RULES  # the moment: judged once, at the draw
        )


# --- The record and its storage -------------------------------------------------------------


def _instant_leftovers(connection: Connection, contest: ContestView) -> list[int] | None:
    """For an instant-win contest, the prize line ranks of the moments nobody won (what its
    final draw awards); None for a drawn contest. Refuses a contest whose rules say leftovers
    are not awarded, and one with nothing left."""
    if not instantwin.is_instant(contest):
        return None
    if contest.instant_leftover != "final_draw":
        raise _refused("instant_no_draw")
    ranks = instantwin.leftover_ranks(connection, contest.id)
    if not ranks:
        raise _refused("instant_all_won")
    return ranks


def _prize_units(
    contest: ContestView, ranks: list[int] | None = None
) -> tuple[tuple[core.Prize, int], ...]:
    """One (record prize, prize line rank) per prize unit: a line of quantity 2 gives two
    consecutive ranks, in the order of the prize lines; only the units of ``ranks`` (one per
    rank given) when given."""
    lines = {prize.rank: prize for prize in contest.prizes}
    units = (
        [
            prize
            for prize in sorted(contest.prizes, key=lambda p: p.rank)
            for _ in range(max(prize.quantity, 0))
        ]
        if ranks is None
        else [lines[rank] for rank in sorted(ranks) if rank in lines]
    )
    if not units:
        raise _refused("no_prizes")
    return tuple(
        (core.Prize(rank, prize.description), prize.rank)
        for rank, prize in enumerate(units, start=1)
    )


def _anomalies(result: core.DrawResult, prizes: int) -> tuple[str, ...]:
    if len(result.winners) >= prizes:
        return ()
    return (
        f"Only {len(result.winners)} eligible entries for {prizes} prizes: prizes "
        f"{len(result.winners) + 1} to {prizes} are not awarded.",
    )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rules_version_of(connection: Connection, contest: ContestView) -> str:
    latest = connection.execute(
        sa.select(_rules_version.c.version)
        .where(_rules_version.c.contest_id == contest.id)
        .order_by(_rules_version.c.published_at.desc(), _rules_version.c.id.desc())
        .limit(1)
    ).scalar()
    return latest or computed_rules_version(contest)


def _store(
    engine: Engine,
    contest: ContestView,
    record: core.DrawRecord,
    prizes: tuple[tuple[core.Prize, int], ...],
    now: datetime,
) -> DrawOutcome:
    """Writes the record, the placements, the status and the audit event in one transaction
    (the pool file was stored when the pool was frozen).
    The unique ``drawrecord.contest_id`` settles a race: the loser returns the first record."""
    try:
        with engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                first = stored_record(connection, contest.id)
                if first is not None:
                    return DrawOutcome(first, created=False)
                _write(connection, contest, record, prizes, now)
    except sa.exc.IntegrityError:
        with engine.connect() as connection:
            first = stored_record(connection, contest.id)
        if first is None:
            raise
        return DrawOutcome(first, created=False)
    return DrawOutcome(record, created=True)


def _write(
    connection: Connection,
    contest: ContestView,
    record: core.DrawRecord,
    prizes: tuple[tuple[core.Prize, int], ...],
    now: datetime,
) -> None:
    connection.execute(
        sa.insert(_record).values(
            contest_id=contest.id,
            record=record.to_json(),
            pool_digest=record.pool.digest,
            drawn_at=now,
            operator=record.operator,
        )
    )
    drawn = record.winners + record.alternates
    # By ticket alone (unique), so that the ticket's index serves rather than the contest's.
    found = connection.execute(
        sa.select(_entry.c.public_id, _entry.c.id, _entry.c.contest_id).where(
            _entry.c.public_id.in_([p.ticket for p in drawn])
        )
    )
    entry_ids = {ticket: id_ for ticket, id_, cid in found if cid == contest.id}
    rows = [
        {
            "contest_id": contest.id,
            "entry_id": entry_ids[p.ticket],
            "rank": p.rank,
            "kind": kind,
            "prize_rank": prizes[p.rank - 1][1] if kind == "winner" else None,
            "ticket": p.ticket,
        }
        for kind, placed in (("winner", record.winners), ("alternate", record.alternates))
        for p in placed
    ]
    connection.execute(sa.insert(_placement), rows)
    changed = connection.execute(
        sa.update(_contest)
        .where(_contest.c.id == contest.id, _contest.c.status.in_(DRAWABLE))
        .values(status=ContestStatus.DRAWN, updated_at=now)
    ).rowcount
    if not changed:  # its status changed since it was read: roll everything back
        raise _refused("status", status="changed")
    connection.execute(
        sa.insert(_audit).values(
            organizer_id=contest.organizer_id,
            contest_id=contest.id,
            action="contest.drawn",
            detail={
                "pool_digest": record.pool.digest,
                "pool_count": record.pool.count,
                "excluded": sum(record.exclusions.values()),
                "winners": len(record.winners),
                "alternates": len(record.alternates),
                "operator": record.operator,
            },
            created_at=now,
        )
    )
