"""Share codes for /r/{code} and /s/{code}: short, unguessable, easy to read aloud."""

from __future__ import annotations

import re
import secrets

# Upper case only, without the look-alikes 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V:
# 23 symbols, 11 of them = 49.8 bits.
ALPHABET = "34679ACDEFGHJKMNPQRTWXY"
LENGTH = 11
CODE = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    """A fresh code (about 47 bits from the operating system's CSPRNG)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def looks_like_code(text: str) -> bool:
    return bool(CODE.match(text))
