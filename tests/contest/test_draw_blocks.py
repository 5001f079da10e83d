"""The fast paths of a large draw give what the reference gives: the pool digested in batches,
the Merkle tree hashed in subtrees, the draw and the proofs over the pool file's blocks."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contest.draw import blocks
from contest.draw import protocol as core
from contest.draw.protocol import (
    EntryOutOfOrder,
    InvalidEntry,
    PoolDigest,
    PoolEntry,
    draw,
    inclusion_proofs,
    pool_line,
    verify_inclusion,
)

DETERMINISTIC = settings(database=None, derandomize=True, max_examples=80, deadline=None)


def mth(lines: list[bytes]) -> bytes:
    """RFC 6962 MTH, written as the RFC writes it."""
    if not lines:
        return hashlib.sha256(b"").digest()
    if len(lines) == 1:
        return hashlib.sha256(b"\x00" + lines[0]).digest()
    k = 1 << ((len(lines) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(lines[:k]) + mth(lines[k:])).digest()


def numbered(n: int) -> list[PoolEntry]:
    return [PoolEntry(f"t{i:06d}", 1 + (i * 7) % 5) for i in range(n)]


@pytest.fixture(params=[4, 1 << 12], ids=["subtrees-of-4", "subtrees-of-4096"])
def subtree(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(core, "SUBTREE_LEAVES", request.param)
    return int(request.param)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 4095, 4096, 4097, 8193])
def test_batches_and_subtrees_give_the_rfc6962_root_and_the_same_digest(n, subtree):
    entries = numbered(n)
    one_by_one = PoolDigest().add_all(entries)
    batched, written = PoolDigest(), b""
    for start in range(0, n, 5):  # batches that do not line up with the subtrees
        part = entries[start : start + 5]
        written += batched.add_batch([e.ticket for e in part], [e.weight for e in part])
    lines = [pool_line(e) for e in entries]
    assert written == b"".join(lines)
    for pool in (one_by_one, batched):
        assert pool.merkle_root == mth(lines).hex()
        assert pool.digest == hashlib.sha256(b"".join(lines)).hexdigest()
        assert (pool.count, pool.total_weight) == (n, sum(e.weight for e in entries))
    assert sum(batched.subtree_weights) == batched.total_weight


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 9, 13, 21])
def test_proofs_from_subtrees_verify_for_every_leaf(n, subtree):
    entries = numbered(n)
    root = PoolDigest().add_all(entries).merkle_root
    proofs = inclusion_proofs(entries, range(n))
    for index, entry in enumerate(entries):
        assert verify_inclusion(root, pool_line(entry), proofs[index])
        assert not verify_inclusion(root, pool_line(PoolEntry(entry.ticket, 99)), proofs[index])


@pytest.mark.parametrize(
    ("tickets", "weights", "error"),
    [
        (["b", "a"], [1, 1], EntryOutOfOrder),
        (["a", "a"], [1, 2], EntryOutOfOrder),
        (["a", "b c"], [1, 1], InvalidEntry),
        (["a", "é"], [1, 1], InvalidEntry),
        (["a", "b"], [1, 0], InvalidEntry),
        (["a", "b"], [1, True], InvalidEntry),
        (["a", "b"], [1, 10**9 + 1], InvalidEntry),
        (["a", "b"], [1, 2.0], InvalidEntry),
        (["a", "b"], [1, "3"], InvalidEntry),
        # A ticket holding a whole line of its own would read as two entries in the file.
        (["a\t1\n\x00b"], [2], InvalidEntry),
    ],
)
def test_a_batch_is_refused_as_entry_by_entry_adding_refuses_it(tickets, weights, error):
    with pytest.raises(error):
        PoolDigest().add_batch(tickets, weights)
    with pytest.raises(error):
        PoolDigest().add_all(map(PoolEntry, tickets, weights))


def test_a_batch_must_come_after_the_previous_one():
    pool = PoolDigest()
    pool.add_batch(["b"], [1])
    with pytest.raises(EntryOutOfOrder):
        pool.add_batch(["a"], [1])


def pool_blocks(entries: list[PoolEntry], size: int, weighed: bool) -> list[blocks.Block]:
    lines = [pool_line(e)[:-1] for e in entries]
    cut = [lines[i : i + size] for i in range(0, len(lines), size)]
    return [
        blocks.Block(part, sum(int(x.split(b"\t")[1]) for x in part) if weighed else None)
        for part in cut
    ]


@DETERMINISTIC
@given(
    n=st.integers(1, 300),
    weights=st.lists(st.integers(1, 9), min_size=300, max_size=300),
    winners=st.integers(1, 5),
    alternates=st.integers(0, 5),
    weighed=st.booleans(),
    salt=st.binary(min_size=1, max_size=8),
)
def test_the_block_draw_gives_the_reference_draw(n, weights, winners, alternates, weighed, salt):
    entries = [PoolEntry(f"t{i:04d}", weights[i]) for i in range(n)]
    seed = hashlib.sha256(salt).digest()
    expected = draw(entries, seed, winners, alternates)
    for size in (1, 4, 16, 4096):
        drawn = blocks.draw(pool_blocks(entries, size, weighed), seed, winners, alternates)
        assert drawn.result == expected


@pytest.mark.parametrize("weighed", [True, False])
def test_the_block_draw_proves_its_placements_against_the_root(subtree, weighed):
    entries = numbered(3000)
    pool = PoolDigest().add_all(entries)
    seed = hashlib.sha256(b"blocks").digest()
    drawn = blocks.draw(pool_blocks(entries, subtree, weighed), seed, 5, 5)
    assert drawn.held is not None
    proven = blocks.prove(drawn.result, pool.subtree_roots, drawn.held, pool.count)
    placed = proven.winners + proven.alternates
    assert placed and all(
        verify_inclusion(
            pool.merkle_root,
            pool_line(PoolEntry(p.ticket, p.weight)),
            core.MerkleProof(p.index, pool.count, p.proof or ()),
        )
        for p in placed
    )
    assert proven == core.attach_proofs(draw(entries, seed, 5, 5), entries)
