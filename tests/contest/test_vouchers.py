"""Voucher codes: unguessable, readable, and a check symbol that catches typing errors."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contest.prizes.vouchers import (
    ALPHABET,
    ENTROPY_BITS,
    RANDOM_SYMBOLS,
    InvalidCode,
    check_symbol,
    format_code,
    is_valid_code,
    new_code,
    normalize_code,
)

DETERMINISTIC = settings(database=None, derandomize=True, max_examples=80, deadline=None)
CODE = re.compile(rf"([A-Z0-9]+-)?[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}")

payloads = st.text(st.sampled_from(ALPHABET), min_size=RANDOM_SYMBOLS, max_size=RANDOM_SYMBOLS)
prefixes = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), max_size=8)


def body(code: str) -> str:
    return code.replace("-", "")[-(RANDOM_SYMBOLS + 1) :]


def test_the_alphabet_is_prime_sized_and_has_no_look_alikes():
    assert len(ALPHABET) == len(set(ALPHABET)) == 23
    assert all(len(ALPHABET) % d for d in range(2, len(ALPHABET)))
    for group in ["0OQD", "1IL", "5S", "8B", "2Z", "6G", "UV"]:
        assert len(set(group) & set(ALPHABET)) <= 1, group


def test_a_code_carries_at_least_60_bits_of_entropy():
    assert ENTROPY_BITS == pytest.approx(RANDOM_SYMBOLS * math.log2(len(ALPHABET)))
    assert ENTROPY_BITS >= 60


def test_new_codes_are_well_formed_valid_and_distinct():
    codes = [new_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    assert all(CODE.fullmatch(code) and is_valid_code(code) for code in codes)
    assert new_code("shop").startswith("SHOP-")


@DETERMINISTIC
@given(payloads, prefixes)
def test_every_generated_code_validates_and_is_its_own_normal_form(payload, prefix):
    code = format_code(payload, prefix)
    assert CODE.fullmatch(code)
    assert normalize_code(code) == code


@DETERMINISTIC
@given(payloads)
def test_any_single_substitution_is_detected(payload):
    symbols = body(format_code(payload))
    for position, original in enumerate(symbols):
        for other in ALPHABET.replace(original, ""):
            typo = symbols[:position] + other + symbols[position + 1 :]
            assert not is_valid_code(typo), (symbols, typo)


@DETERMINISTIC
@given(payloads)
def test_any_adjacent_transposition_of_distinct_symbols_is_detected(payload):
    symbols = body(format_code(payload))
    for position in range(len(symbols) - 1):
        a, b = symbols[position], symbols[position + 1]
        if a != b:
            swapped = symbols[:position] + b + a + symbols[position + 2 :]
            assert not is_valid_code(swapped), (symbols, swapped)


@DETERMINISTIC
@given(payloads, prefixes, st.lists(st.sampled_from([" ", "-", "  ", "", "."]), min_size=20))
def test_lowercase_and_spaced_input_normalizes_back(payload, prefix, separators):
    code = format_code(payload, prefix)
    compact = code.replace("-", "")
    typed = "".join(c + s for c, s in zip(compact.lower(), separators, strict=False))
    typed += compact[len(separators) :].lower()
    assert normalize_code(f"  {typed}  ") == code


@DETERMINISTIC
@given(payloads)
def test_typed_look_alikes_are_read_as_the_symbol_they_resemble(payload):
    code = format_code(payload)
    typed = code.replace("D", "0").replace("6", "g").replace("2", "z").replace("U", "v")
    assert normalize_code(typed) == code


def test_the_check_symbol_makes_the_weighted_sum_zero():
    payload = "K7MX3PCR9AFH2T"
    full = payload + check_symbol(payload)
    assert sum(i * ALPHABET.index(c) for i, c in enumerate(full, 1)) % 23 == 0


@pytest.mark.parametrize(
    "text", ["", "K7MX3-PCR9A", "K7MX3-PCR9A-FH2T!", "K7MX3-PCR9A-FH2TB", "SHOP!-" + "2" * 15]
)
def test_malformed_text_is_refused(text):
    assert not is_valid_code(text)
    with pytest.raises(InvalidCode):
        normalize_code(text)


@pytest.mark.parametrize(("payload", "prefix"), [("2" * 13, ""), ("0" * 14, ""), ("2" * 14, "A-B")])
def test_format_refuses_bad_payloads_and_prefixes(payload, prefix):
    with pytest.raises(ValueError, match="payload|prefix"):
        format_code(payload, prefix)
