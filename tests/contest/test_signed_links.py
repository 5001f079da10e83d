"""Links signed in bulk (one per exported row) are the very tokens signed one by one: the
preferences page opens from either."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from contest.clock import FixedClock
from contest.settings import Secret
from contest.tokens import Purpose, Signer

SIGNER = Signer(
    [Secret("old-key-" * 4), Secret("new-key-" * 4)], FixedClock(datetime(2026, 5, 4, tzinfo=UTC))
)


@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(1, 10**12)), max_size=20))
def test_bulk_tokens_equal_single_ones_and_verify(pairs: list[tuple[int, int]]) -> None:
    payloads = [list(pair) for pair in pairs]
    bulk = list(SIGNER.sign_many(Purpose.UNSUBSCRIBE, payloads))
    assert bulk == [SIGNER.sign(Purpose.UNSUBSCRIBE, payload) for payload in payloads]
    assert [SIGNER.verify(Purpose.UNSUBSCRIBE, token) for token in bulk] == payloads
