"""The verifiable draw: its written spec, weights, commitment, pool, Merkle proofs, record."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contest.draw.protocol import (
    MAX_WEIGHT,
    DrawRecord,
    EntryOutOfOrder,
    InvalidEntry,
    PoolDigest,
    PoolEntry,
    PoolSummary,
    Prize,
    RecordFormatError,
    attach_proofs,
    commitment,
    draw,
    draw_seed,
    find_receipt,
    inclusion_proof,
    inclusion_proofs,
    new_secret,
    pool_line,
    read_pool,
    receipt,
    receipt_in_tree,
    verify_inclusion,
    verify_record,
)

DETERMINISTIC = settings(database=None, derandomize=True, max_examples=60, deadline=None)
SECRET = hashlib.sha256(b"test secret").hexdigest()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "draw.md"

tickets = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=10)


def pools(min_size: int = 0, max_size: int = 40, max_weight: int = 6) -> st.SearchStrategy:
    weights = st.integers(1, max_weight)
    by_ticket = st.dictionaries(tickets, weights, min_size=min_size, max_size=max_size)
    return by_ticket.map(lambda d: [PoolEntry(t, d[t]) for t in sorted(d)])


def seed_for(entries: Sequence[PoolEntry], public_value: str = "") -> bytes:
    return draw_seed(SECRET, PoolDigest().add_all(entries).digest, public_value)


def reference_draw(entries: Sequence[PoolEntry], seed: bytes, m: int) -> list[tuple[str, float]]:
    """docs/draw.md, "The draw", written out as plainly as possible (lists, no heap)."""

    def uniform(j: int) -> float:
        block = hmac.new(seed, j.to_bytes(8, "big"), hashlib.sha256).digest()
        return (2 * (int.from_bytes(block[:8], "big") >> 12) + 1) / 2**53

    j, i, n, reservoir = 0, 0, len(entries), []
    while i < n and len(reservoir) < m:
        reservoir.append((math.log(uniform(j)) / entries[i].weight, i))
        j, i = j + 1, i + 1
    while i < n:
        worst = min(reservoir, key=lambda r: (r[0], -r[1]))
        threshold, reached = worst[0], 0
        need = math.ceil(math.log(uniform(j)) / threshold)
        j += 1
        while i < n and reached + entries[i].weight < need:
            reached += entries[i].weight
            i += 1
        if i == n:
            break
        w = entries[i].weight
        reservoir.remove(worst)
        reservoir.append((math.log1p(math.expm1(threshold * w) * uniform(j)) / w, i))
        j, i = j + 1, i + 1
    reservoir.sort(key=lambda r: (-r[0], r[1]))
    return [(entries[i].ticket, key) for key, i in reservoir]


def record_for(
    entries: Sequence[PoolEntry],
    *,
    public_value: str = "drand quicknet round 1234: 5f3a",
    prizes: int = 3,
    alternates: int = 2,
    listed: bool = True,
) -> DrawRecord:
    pool = PoolDigest().add_all(entries)
    result = draw(entries, draw_seed(SECRET, pool.digest, public_value), prizes, alternates)
    return DrawRecord(
        contest_id=7,
        contest_slug="summer",
        rules_version="sha256:" + "0" * 64,
        operator="organizer:1",
        closed_at="2026-06-30T22:00:00Z",
        drawn_at="2026-07-01T10:00:00Z",
        commitment=commitment(SECRET),
        secret=SECRET,
        public_value=public_value,
        public_value_source="drand quicknet round 1234",
        pool=PoolSummary.of(pool, entries if listed else None),
        exclusions={"duplicate": 2, "under_age": 1},
        prizes=tuple(Prize(rank, f"Prize {rank}") for rank in range(1, prizes + 1)),
        alternates_requested=alternates,
        winners=result.winners,
        alternates=result.alternates,
    )


def codes(record: DrawRecord, entries: Sequence[PoolEntry] | None = None) -> set[str]:
    return {problem.code for problem in verify_record(record, entries).problems}


# --- The draw -------------------------------------------------------------------------------


@DETERMINISTIC
@given(pools(), st.integers(1, 5), st.integers(0, 4), st.text(max_size=8))
def test_draw_follows_the_written_spec(entries, winners, alternates, public_value):
    seed = seed_for(entries, public_value)
    result = draw(entries, seed, winners, alternates)
    drawn = [(p.ticket, p.key) for p in result.winners + result.alternates]
    assert drawn == reference_draw(entries, seed, winners + alternates)


@DETERMINISTIC
@given(pools(), st.integers(1, 5), st.integers(0, 4))
def test_same_inputs_always_give_the_same_winners(entries, winners, alternates):
    seed = seed_for(entries)
    first = draw(entries, seed, winners, alternates)
    assert first == draw(iter(entries), seed, winners, alternates)


@DETERMINISTIC
@given(pools(), st.integers(1, 5), st.integers(0, 4))
def test_winners_are_distinct_and_as_many_as_the_pool_allows(entries, winners, alternates):
    result = draw(entries, seed_for(entries), winners, alternates)
    placed = result.winners + result.alternates
    assert len(result.winners) == min(winners, len(entries))
    assert len(result.alternates) == min(alternates, len(entries) - len(result.winners))
    assert len({p.ticket for p in placed}) == len(placed)
    assert [p.rank for p in result.winners] == list(range(1, len(result.winners) + 1))
    assert [p.key for p in placed] == sorted((p.key for p in placed), reverse=True)
    assert all(entries[p.index] == PoolEntry(p.ticket, p.weight) for p in placed)
    assert (result.count, result.total_weight) == (len(entries), sum(e.weight for e in entries))


@DETERMINISTIC
@given(pools(min_size=2).flatmap(lambda e: st.tuples(st.just(e), st.permutations(e))))
def test_a_pool_fed_out_of_ticket_order_is_refused(pool_and_shuffled):
    entries, shuffled = pool_and_shuffled
    if shuffled == entries:
        return
    with pytest.raises(EntryOutOfOrder):
        draw(shuffled, seed_for(entries), 1, 1)
    with pytest.raises(EntryOutOfOrder):
        PoolDigest().add_all(shuffled)


@pytest.mark.parametrize(
    "entries",
    [
        [PoolEntry("a", 1), PoolEntry("a", 1)],
        [PoolEntry("b", 1), PoolEntry("a", 1)],
    ],
)
def test_duplicate_or_unsorted_tickets_are_refused(entries):
    with pytest.raises(EntryOutOfOrder):
        PoolDigest().add_all(entries)
    with pytest.raises(EntryOutOfOrder):
        draw(entries, bytes(32), 1)


@pytest.mark.parametrize(
    "entry",
    [PoolEntry("a", 0), PoolEntry("a", -2), PoolEntry("a", MAX_WEIGHT + 1), PoolEntry("a b", 1)],
)
def test_bad_weights_and_tickets_are_refused(entry):
    with pytest.raises(InvalidEntry):
        PoolDigest().add(entry)


def test_a_weight_below_one_is_refused_by_the_draw_itself():
    entries = [PoolEntry(f"t{i}", 1) for i in range(5)] + [PoolEntry("t9", 0)]
    with pytest.raises(InvalidEntry):
        draw(entries, bytes(32), 1)


def test_draw_refuses_a_bad_seed_or_no_winners():
    with pytest.raises(ValueError, match="32-byte seed"):
        draw([], b"short", 1)
    with pytest.raises(ValueError, match="winners >= 1"):
        draw([], bytes(32), 0)


def test_an_empty_pool_draws_nobody():
    result = draw([], bytes(32), 3, 2)
    assert (result.winners, result.alternates, result.count) == ((), (), 0)


def test_draw_streams_a_generator_once():
    entries = (PoolEntry(f"{i:06d}", 1 + i % 3) for i in range(20_000))
    result = draw(entries, bytes(32), 10, 10)
    assert (result.count, result.total_weight) == (20_000, 39_999)
    assert len(result.winners + result.alternates) == 20


# --- Weights: chi-square, without scipy -----------------------------------------------------


def chi_square_sf(statistic: float, df: int) -> float:
    """P(X >= statistic) for chi-square: 1 - P(df/2, statistic/2), by the gamma series."""
    a, z = df / 2, statistic / 2
    if z <= 0:
        return 1.0
    term = total = 1 / a
    n = 0
    while term > total * 1e-17:
        n += 1
        term *= z / (a + n)
        total += term
    return 1 - math.exp(a * math.log(z) - z - math.lgamma(a)) * total


def chi_square(observed: Counter, expected: dict) -> float:
    return sum((observed[cell] - e) ** 2 / e for cell, e in expected.items())


def seeds(label: str, count: int) -> list[bytes]:
    return [hashlib.sha256(f"{label} {i}".encode()).digest() for i in range(count)]


def test_chi_square_survival_function_matches_published_critical_values():
    assert chi_square_sf(16.266, 3) == pytest.approx(0.001, rel=1e-3)
    assert chi_square_sf(31.264, 11) == pytest.approx(0.001, rel=1e-3)
    assert chi_square_sf(2.0, 2) == pytest.approx(math.exp(-1))


@pytest.mark.parametrize(("weights", "size"), [((1, 2, 3, 4, 2), 1), ((4, 1, 3, 2, 1, 4), 3)])
def test_first_winner_frequencies_follow_the_weights(weights, size):
    entries = [PoolEntry(f"t{i}", w) for i, w in enumerate(weights)]
    total, runs = sum(weights), 4000
    firsts = Counter(draw(entries, s, size).winners[0].ticket for s in seeds("first", runs))
    expected = {e.ticket: runs * e.weight / total for e in entries}
    assert chi_square_sf(chi_square(firsts, expected), len(entries) - 1) > 0.001


def test_second_winner_is_drawn_from_the_remaining_weight():
    entries = [PoolEntry(t, w) for t, w in zip("abcd", (1, 2, 3, 4), strict=True)]
    total, runs = 10, 4000
    pairs = Counter()
    for seed in seeds("pairs", runs):
        first, second = draw(entries, seed, 2).winners
        pairs[first.ticket, second.ticket] += 1
    expected = {
        (a.ticket, b.ticket): runs * a.weight / total * b.weight / (total - a.weight)
        for a in entries
        for b in entries
        if a != b
    }
    assert chi_square_sf(chi_square(pairs, expected), len(expected) - 1) > 0.001


def test_an_entry_with_weight_one_keeps_a_real_chance():
    entries = [PoolEntry("a", 1)] + [PoolEntry(t, 10) for t in "bcd"]
    runs, p = 3000, 1 / 31
    wins = sum(draw(entries, s, 1).winners[0].ticket == "a" for s in seeds("one", runs))
    sigma = math.sqrt(runs * p * (1 - p))
    assert abs(wins - runs * p) < 4 * sigma
    assert wins > 0


# --- Commitment and seed --------------------------------------------------------------------


def test_commitment_catches_a_swapped_secret():
    other = new_secret()
    assert commitment(SECRET) != commitment(other)
    record = record_for([PoolEntry(f"t{i}", 1) for i in range(8)])
    assert "commitment" in codes(replace(record, secret=other))


def test_new_secrets_are_64_hex_digits_and_differ():
    first, second = new_secret(), new_secret()
    assert re.fullmatch(r"[0-9a-f]{64}", first) and first != second


@pytest.mark.parametrize("secret", ["", "AB" * 32, "ab" * 31, "zz" * 32])
def test_a_malformed_secret_is_refused(secret):
    with pytest.raises(ValueError, match="64 lowercase hex"):
        commitment(secret)


def test_every_seed_input_matters():
    digest = "0" * 64
    base = draw_seed(SECRET, digest, "")
    assert base != draw_seed(new_secret(), digest, "")
    assert base != draw_seed(SECRET, "1" * 64, "")
    assert base != draw_seed(SECRET, digest, "x")
    assert len(base) == 32


# --- Pool serialisation, Merkle tree, receipts ----------------------------------------------


def mth(lines: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash, written recursively."""
    if not lines:
        return hashlib.sha256(b"").digest()
    if len(lines) == 1:
        return hashlib.sha256(b"\x00" + lines[0]).digest()
    k = 1 << ((len(lines) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(lines[:k]) + mth(lines[k:])).digest()


def numbered(n: int) -> list[PoolEntry]:
    return [PoolEntry(f"t{i:03d}", 1 + i % 4) for i in range(n)]


@pytest.mark.parametrize("n", range(0, 34))
def test_streamed_merkle_root_is_the_rfc6962_tree_hash(n):
    entries = numbered(n)
    pool = PoolDigest().add_all(entries)
    assert pool.merkle_root == mth([pool_line(e) for e in entries]).hex()
    assert pool.digest == hashlib.sha256(b"".join(pool_line(e) for e in entries)).hexdigest()


@pytest.mark.parametrize("n", range(1, 21))
def test_every_inclusion_proof_verifies_and_a_changed_leaf_fails(n):
    entries = numbered(n)
    root = PoolDigest().add_all(entries).merkle_root
    proofs = inclusion_proofs(entries, range(n))
    for index, entry in enumerate(entries):
        line, proof = pool_line(entry), proofs[index]
        assert verify_inclusion(root, line, proof)
        assert not verify_inclusion(root, pool_line(replace(entry, weight=entry.weight + 1)), proof)
        if n > 1:
            assert not verify_inclusion(root, line, replace(proof, index=(index + 1) % n))


def test_a_proof_outside_the_pool_is_refused():
    with pytest.raises(IndexError):
        inclusion_proof(numbered(3), 3)


@DETERMINISTIC
@given(pools(min_size=1))
def test_a_receipt_is_found_in_the_pool_and_in_the_tree(entries):
    root = PoolDigest().add_all(entries).merkle_root
    entry = entries[len(entries) // 2]
    mine = receipt(entry.ticket, entry.weight)
    assert find_receipt(mine, entries) == entry
    assert find_receipt(receipt(entry.ticket, entry.weight + 7), entries) is None
    assert receipt_in_tree(mine, root, inclusion_proof(entries, len(entries) // 2))


@DETERMINISTIC
@given(pools())
def test_the_published_pool_file_reads_back(entries):
    lines = [pool_line(e) for e in entries]
    assert list(read_pool(lines)) == entries


@pytest.mark.parametrize("line", [b"a\t01\n", b"a\t1", b"a\t1\r\n", b"a b\t1\n", b"\t1\n", b"a\n"])
def test_a_non_canonical_pool_line_is_refused(line):
    with pytest.raises(InvalidEntry, match="line 1"):
        list(read_pool([line]))


# --- The record -----------------------------------------------------------------------------


@DETERMINISTIC
@given(pools(), st.integers(1, 4), st.integers(0, 3), st.text(max_size=8))
def test_a_fresh_record_verifies_and_survives_json(entries, prizes, alternates, public_value):
    record = record_for(entries, prizes=prizes, alternates=alternates, public_value=public_value)
    assert verify_record(record).ok
    assert DrawRecord.from_json(record.to_json()) == record


TAMPERING = {
    "winner": lambda r, e: replace(r, winners=(replace(r.winners[0], ticket="~"), *r.winners[1:])),
    "order": lambda r, e: replace(r, winners=(r.winners[1], r.winners[0]) + r.winners[2:]),
    "key": lambda r, e: replace(
        r, winners=(replace(r.winners[0], key=r.winners[0].key * 1.01), *r.winners[1:])
    ),
    "alternate": lambda r, e: replace(r, alternates=r.alternates[1:]),
    "weight": lambda r, e: replace(
        r, pool=replace(r.pool, entries=(replace(e[0], weight=e[0].weight + 1),) + tuple(e[1:]))
    ),
    "entry removed": lambda r, e: replace(r, pool=replace(r.pool, entries=tuple(e[1:]))),
    "entry added": lambda r, e: replace(r, pool=replace(r.pool, entries=(PoolEntry("!", 1), *e))),
    "secret": lambda r, e: replace(r, secret=hashlib.sha256(b"other").hexdigest()),
    "public value": lambda r, e: replace(r, public_value=r.public_value + "0"),
    "count": lambda r, e: replace(r, pool=replace(r.pool, count=r.pool.count + 1)),
    "digest": lambda r, e: replace(r, pool=replace(r.pool, digest="f" * 64)),
}
EXPECTED = {
    "winner": {"winners"},
    "order": {"winners"},
    "key": {"winners"},
    "alternate": {"alternates"},
    "weight": {"pool.digest", "pool.total_weight", "pool.merkle_root"},
    "entry removed": {"pool.count", "pool.digest"},
    "entry added": {"pool.count", "pool.digest"},
    "secret": {"commitment"},
    "public value": {"winners"},
    "count": {"pool.count"},
    "digest": {"pool.digest"},
}


@pytest.mark.parametrize("change", list(TAMPERING))
@settings(DETERMINISTIC, max_examples=15)
@given(entries=pools(min_size=6, max_size=30).filter(lambda e: e[0].ticket != "!"))
def test_any_change_makes_verification_fail_with_a_named_problem(change, entries):
    record = record_for(entries)
    found = codes(TAMPERING[change](record, entries))
    assert EXPECTED[change] <= found, found


def test_a_record_without_its_entry_list_needs_the_published_pool():
    entries = numbered(40)
    record = record_for(entries, listed=False)
    assert codes(record) == {"pool.entries"}
    published = [pool_line(e) for e in entries]  # the pool file, read back as a stream
    assert codes(record, read_pool(iter(published))) == set()
    assert "pool.digest" in codes(record, entries[1:])


def test_inclusion_proofs_in_a_record_are_checked():
    entries = numbered(40)
    record = record_for(entries, listed=False)
    proven = attach_proofs(draw(entries, seed_for(entries, record.public_value), 3, 2), entries)
    record = replace(record, winners=proven.winners, alternates=proven.alternates)
    assert codes(record) == {"pool.entries"}  # proofs hold; the draw itself needs the pool
    forged = replace(proven.winners[0], weight=proven.winners[0].weight + 1)
    assert "proof" in codes(replace(record, winners=(forged, *record.winners[1:])))


def test_the_signature_needs_the_key_but_verification_does_not():
    record = record_for(numbered(10)).sign(b"server key", key_id="2026-1")
    assert record.signature_valid(b"server key")
    assert not record.signature_valid(b"another key")
    assert not replace(record, operator="someone else").signature_valid(b"server key")
    assert verify_record(record).ok and verify_record(replace(record, signature=None)).ok
    assert DrawRecord.from_json(record.to_json()).signature_valid(b"server key")


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"format": 1}', '{"contest": {"id": true, "slug": "x"}}']
)
def test_a_malformed_record_is_refused(text):
    with pytest.raises(RecordFormatError):
        DrawRecord.from_json(text)


@pytest.mark.parametrize("change", [{"prizes": ()}, {"alternates_requested": -1}])
def test_a_record_with_nothing_to_re_run_is_a_named_problem(change):
    assert codes(replace(record_for(numbered(5)), **change)) == {"prizes"}


def test_an_unknown_algorithm_is_a_named_problem():
    record = replace(record_for(numbered(5)), algorithm="A-ES/v0")
    assert codes(record) == {"format"}


# --- The worked example in docs/draw.md -----------------------------------------------------

EXAMPLE = [PoolEntry("Ax7Kp2", 1), PoolEntry("Mq9Rt4", 3), PoolEntry("Zc3Wn8", 2)]
EXAMPLE_SECRET = hashlib.sha256(b"worked example").hexdigest()
EXAMPLE_PUBLIC_VALUE = "drand quicknet round 1000"


def test_the_worked_example_in_the_docs_matches_the_code():
    text = DOCS.read_text()
    pool = PoolDigest().add_all(EXAMPLE)
    seed = draw_seed(EXAMPLE_SECRET, pool.digest, EXAMPLE_PUBLIC_VALUE)
    result = draw(EXAMPLE, seed, 1, 1)
    proof = inclusion_proof(EXAMPLE, 1)
    for value in [
        EXAMPLE_SECRET,
        commitment(EXAMPLE_SECRET),
        pool.digest,
        pool.merkle_root,
        receipt("Mq9Rt4", 3),
        *proof.path,
        seed.hex(),
        *(repr(p.key) for p in result.winners + result.alternates),
    ]:
        assert value in text, value
