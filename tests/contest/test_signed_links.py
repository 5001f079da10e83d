"""Links signed in bulk (one per exported row) are the very tokens signed one by one: the
preferences page opens from either."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.clock import FixedClock
from contest.settings import Secret
from contest.tokens import Purpose, Signer, TokenExpired, TokenInvalid

SIGNER = Signer(
    [Secret("old-key-" * 4), Secret("new-key-" * 4)], FixedClock(datetime(2026, 5, 4, tzinfo=UTC))
)


@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(1, 10**12)), max_size=20))
def test_bulk_tokens_equal_single_ones_and_verify(pairs: list[tuple[int, int]]) -> None:
    payloads = [list(pair) for pair in pairs]
    bulk = list(SIGNER.sign_many(Purpose.UNSUBSCRIBE, payloads))
    assert bulk == [SIGNER.sign(Purpose.UNSUBSCRIBE, payload) for payload in payloads]
    assert [SIGNER.verify(Purpose.UNSUBSCRIBE, token) for token in bulk] == payloads


def test_a_form_token_seen_before_still_expires_and_tampering_still_fails() -> None:
    """Verified tokens are remembered (every entry carries the same form token): the
    remembered ones age like the others, and a changed one is checked from scratch."""
    clock = FixedClock(datetime(2026, 5, 4, tzinfo=UTC))
    signer = Signer([Secret("form-key-" * 4)], clock)
    token = signer.sign(Purpose.FORM, "demo")
    assert signer.verify(Purpose.FORM, token) == "demo"
    assert signer.verify(Purpose.FORM, token) == "demo"  # remembered
    with pytest.raises(TokenInvalid):
        signer.verify(Purpose.FORM, token[:-2] + ("BB" if token.endswith("AA") else "AA"))
    with pytest.raises(TokenInvalid):  # another purpose, another salt
        signer.verify(Purpose.CONFIRM, token)
    clock.advance(timedelta(seconds=Purpose.FORM.max_age + 1))
    with pytest.raises(TokenExpired):
        signer.verify(Purpose.FORM, token)
