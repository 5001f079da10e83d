"""Voucher codes: unguessable, easy to read aloud and type, with a check symbol.

A code is 14 random symbols and 1 check symbol, in three groups of five: ``K7MX3-PCR9A-FH2TW``.
It can have an uppercase campaign prefix: ``SUMMER-K7MX3-PCR9A-FH2TW``.

Alphabet: 23 symbols (a prime number), ``234679ACDEFHJKMNPRTUWXY``. It leaves out characters
that are easily confused with one another: 0 O Q, 1 I L, 5 S, 8 B, 2 Z, 6 G and U V. Of each
group of look-alikes, at most one is kept. Reading is forgiving: case and separators (spaces,
dashes, dots, underscores) are ignored, and a typed look-alike is read as the kept symbol
(0 O Q -> D, G -> 6, Z -> 2, V -> U).

Entropy: 14 symbols from ``secrets`` give 14 * log2(23) = 63.3 bits. Guessing a valid code
among a million issued takes about 2**43 tries, and rate limits apply on top of that. The
database's unique constraint still enforces uniqueness: two codes collide with probability
about n**2 / 2**64.

Check symbol: weighted sum mod 23. With the symbol values v1..v15 (v15 is the check), the sum
1*v1 + 2*v2 + ... + 15*v15 must be 0 mod 23. Because 23 is prime and the weights 1..15 are
non-zero and distinct mod 23, this detects:

- every single substitution: the sum changes by i*(b-a), which is non-zero mod 23;
- every transposition of two adjacent distinct symbols: the sum changes by a-b, non-zero;
- every transposition across one symbol (ab c -> cb a): the sum changes by 2*(a-c).

The prefix is not covered by the check: a wrong prefix simply matches no voucher.
Rule ALL-PRIZE-DESC-1: codes are unique, unguessable (CSPRNG), single-use and tied to the
winner. The last two are the integration's job (a unique constraint and a redemption record).
"""

from __future__ import annotations

import math
import re
import secrets

ALPHABET = "234679ACDEFHJKMNPRTUWXY"
RANDOM_SYMBOLS = 14
GROUP = 5
ENTROPY_BITS = RANDOM_SYMBOLS * math.log2(len(ALPHABET))
MAX_PREFIX = 16

_BASE = len(ALPHABET)  # 23, prime
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_LOOK_ALIKES = str.maketrans({"0": "D", "O": "D", "Q": "D", "G": "6", "Z": "2", "V": "U"})
_SEPARATORS = re.compile(r"[\s._\-\u2010-\u2015]+")
_PREFIX = re.compile(rf"[A-Z0-9]{{0,{MAX_PREFIX}}}")
_BODY = RANDOM_SYMBOLS + 1


class InvalidCode(ValueError):
    """The text is not a voucher code: wrong length or symbols, or the check symbol fails."""


def check_symbol(payload: str) -> str:
    """The symbol that makes the weighted sum of ``payload + symbol`` zero mod 23."""
    total = sum(weight * _VALUE[symbol] for weight, symbol in enumerate(payload, 1))
    return ALPHABET[-total * pow(len(payload) + 1, -1, _BASE) % _BASE]


def format_code(payload: str, prefix: str = "") -> str:
    """Add the check symbol to 14 alphabet symbols and group them, behind the prefix if any.

    Raises ValueError for a payload that is not 14 alphabet symbols, or for a prefix that is not
    up to 16 letters and digits.
    """
    if len(payload) != RANDOM_SYMBOLS or any(symbol not in _VALUE for symbol in payload):
        raise ValueError(f"a payload is {RANDOM_SYMBOLS} symbols from {ALPHABET}")
    prefix = prefix.upper()
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"a prefix is up to {MAX_PREFIX} letters and digits")
    body = payload + check_symbol(payload)
    groups = [body[start : start + GROUP] for start in range(0, _BODY, GROUP)]
    return "-".join([prefix, *groups] if prefix else groups)


def new_code(prefix: str = "") -> str:
    """A new random voucher code (63.3 bits from ``secrets``), e.g. ``SHOP-K7MX3-PCR9A-FH2TW``.

    Raises ValueError for a prefix that is not up to 16 letters and digits.
    """
    payload = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return format_code(payload, prefix)


def normalize_code(text: str) -> str:
    """The canonical form of a typed code: uppercase, grouped, look-alikes read as symbols.

    The code is the last 15 symbols; anything before them is the prefix. Raises InvalidCode
    when the text is too short, holds a symbol outside the alphabet, or fails the check.
    """
    compact = _SEPARATORS.sub("", text).upper()
    prefix, body = compact[:-_BODY], compact[-_BODY:].translate(_LOOK_ALIKES)
    if len(body) != _BODY or any(symbol not in _VALUE for symbol in body):
        raise InvalidCode(f"a code is {_BODY} symbols from {ALPHABET}")
    if not _PREFIX.fullmatch(prefix):
        raise InvalidCode(f"a prefix is up to {MAX_PREFIX} letters and digits")
    if sum(weight * _VALUE[symbol] for weight, symbol in enumerate(body, 1)) % _BASE:
        raise InvalidCode("the check symbol does not match: a symbol is mistyped or swapped")
    return format_code(body[:-1], prefix)


def is_valid_code(text: str) -> bool:
    """True if the text, once normalized, is a well-formed code with a matching check symbol."""
    try:
        normalize_code(text)
    except InvalidCode:
        return False
    return True
