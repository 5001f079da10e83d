"""The ranking by the tie-breaker question: the closest answers win, ex aequo ordered by the
draw's seed so that nobody chooses among them, and anyone can recompute it from the record."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contest.draw.protocol import PoolEntry, PoolError, rank, tie_break

SEED = hashlib.sha256(b"seed").digest()


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[PoolEntry], dict[str, int]]:
    tickets = sorted(draw(st.sets(st.text("abcdef0123456789", min_size=4, max_size=8),
                                  min_size=1, max_size=60)))  # fmt: skip
    estimates = {t: draw(st.integers(min_value=0, max_value=40)) for t in tickets}
    weights = [draw(st.integers(min_value=1, max_value=5)) for _ in tickets]
    return [PoolEntry(t, w) for t, w in zip(tickets, weights, strict=True)], estimates


@settings(max_examples=200, deadline=None)
@given(pool=pools(), truth=st.integers(min_value=0, max_value=40),
       winners=st.integers(min_value=1, max_value=5), alternates=st.integers(0, 5))  # fmt: skip
def test_the_closest_answers_win_and_equals_are_ordered_by_the_seed(
    pool: tuple[list[PoolEntry], dict[str, int]], truth: int, winners: int, alternates: int
) -> None:
    entries, estimates = pool
    result = rank(entries, SEED, truth, estimates, winners, alternates)
    placed = result.winners + result.alternates
    assert len(placed) == min(len(entries), winners + alternates)
    distances = [abs(estimates[p.ticket] - truth) for p in placed]
    assert distances == sorted(distances), "closer answers always come first"
    assert [p.key for p in placed] == [float(d) for d in distances]
    for first, second in zip(placed, placed[1:], strict=False):
        if first.key == second.key:
            assert tie_break(SEED, first.ticket) < tie_break(SEED, second.ticket)
    left_out = {e.ticket for e in entries} - {p.ticket for p in placed}
    if left_out and placed:
        assert min(abs(estimates[t] - truth) for t in left_out) >= distances[-1]
    assert rank(entries, SEED, truth, estimates, winners, alternates) == result


def test_another_seed_orders_ex_aequo_otherwise_and_weights_do_not_count() -> None:
    entries = [PoolEntry(f"t{n:02d}", 1 + n % 3) for n in range(20)]
    estimates = {e.ticket: 100 for e in entries}  # all equally close
    orders = {
        tuple(p.ticket for p in rank(entries, hashlib.sha256(s).digest(), 90, estimates, 3).winners)
        for s in (b"a", b"b", b"c", b"d")
    }
    assert len(orders) > 1


def test_an_entry_without_an_answer_cannot_be_ranked() -> None:
    with pytest.raises(PoolError, match="no answer to the tie-breaker"):
        rank([PoolEntry("a1", 1), PoolEntry("b2", 1)], SEED, 10, {"a1": 3}, 1)
