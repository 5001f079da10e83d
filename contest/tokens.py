"""Signed, expiring tokens, one salt per purpose (itsdangerous).

A token signed for one purpose never verifies for another: a confirmation link cannot be
replayed as a participant-page link. Keys rotate: the first key signs, every key verifies.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes

from contest.clock import SYSTEM_CLOCK, Clock
from contest.settings import Secret

VERIFIED_KEPT = 1024  # verified tokens remembered by a signer (see Signer.verify)


class Purpose(Enum):
    # value: (salt, lifetime in seconds)
    CONFIRM = ("confirm", 7 * 24 * 3600)
    CONFIRM_INTEREST = ("confirm-interest", 7 * 24 * 3600)
    INTEREST = ("client-contests-interest", 7 * 24 * 3600)
    ME = ("me", 400 * 24 * 3600)
    ENTERED = ("entered", 3600)
    FORM = ("entry-form", 24 * 3600)
    UNSUBSCRIBE = ("unsubscribe", 5 * 365 * 24 * 3600)
    # Outlives the longest claim period (365 days): the award's own deadline decides.
    CLAIM = ("claim", 366 * 24 * 3600)
    SESSION = ("organizer-session", 12 * 3600)
    REFERRAL = ("referral", 365 * 24 * 3600)  # checked against the contest's own window
    SOURCE = ("source", 365 * 24 * 3600)
    INVITE_OPTOUT = ("invite-optout", 5 * 365 * 24 * 3600)
    CSRF = ("csrf", 12 * 3600)
    LOGIN_FORM = ("login-form", 3600)
    RESET = ("password-reset", 3600)
    JOIN = ("member-invitation", 7 * 24 * 3600)

    @property
    def salt(self) -> str:
        return self.value[0]

    @property
    def max_age(self) -> int:
        return self.value[1]


class TokenInvalid(Exception):
    """The token was tampered with, made for another purpose, or never issued by us."""


class TokenExpired(TokenInvalid):
    """The token was genuine but is too old."""


def _short_int_list(payload: Any) -> bytes | None:
    """The payload as itsdangerous writes it (compact JSON, base64) when it is a list of
    integers whose JSON is at most 11 bytes (which zlib cannot shorten); else None."""
    if type(payload) is not list or not all(type(n) is int for n in payload):
        return None
    text = b"[" + b",".join(b"%d" % n for n in payload) + b"]"
    return base64_encode(text) if len(text) <= 11 else None


def _timestamp_signer(clock: Clock) -> type[TimestampSigner]:
    """itsdangerous' signer, reading the time (to stamp and to check expiry) from ``clock``."""

    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return ClockedSigner


@dataclass(frozen=True)
class Signer:
    keys: Sequence[Secret]
    clock: Clock = SYSTEM_CLOCK
    _serializers: dict[Purpose, URLSafeTimedSerializer] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Tokens already verified whose payload is a string, with the second they were signed:
    # every entry of a contest carries the same form token, whose signature (a key derived
    # per key in the list, then an HMAC) need not be checked again. Their age still is.
    _verified: dict[tuple[Purpose, str], tuple[str, int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        """One serializer per purpose, made on first use (every entry verifies a token)."""
        serializer = self._serializers.get(purpose)
        if serializer is None:
            # itsdangerous signs with the last key and verifies with all of them.
            serializer = URLSafeTimedSerializer(
                [k.reveal() for k in reversed(self.keys)],
                salt=purpose.salt,
                signer=_timestamp_signer(self.clock),
            )
            self._serializers[purpose] = serializer
        return serializer

    def sign(self, purpose: Purpose, payload: Any) -> str:
        return self._serializer(purpose).dumps(payload)

    def sign_many(self, purpose: Purpose, payloads: Iterable[Any]) -> Iterator[str]:
        """Tokens for many payloads, each the same as :meth:`sign` would give at this second,
        with the key derived and the time read once (an export signs a link per row).

        A short list of integers (a person's ``[organizer, person]``) is written as its
        compact JSON at once: itsdangerous would try zlib on it and keep the original, since
        zlib adds 6 bytes and deflate at least 4 (a block's header alone is 10 to 29 bits),
        and it keeps the compressed form only when it is 2 bytes shorter. The signature is
        OpenSSL's one-shot HMAC when it is the same as itsdangerous' (SHA-1)."""
        serializer = self._serializer(purpose)
        signer = serializer.make_signer(serializer.salt)
        key = signer.derive_key()
        get_signature = signer.algorithm.get_signature
        one_shot = get_signature(key, b"probe") == hmac.digest(key, b"probe", "sha1")
        stamped = signer.sep + base64_encode(int_to_bytes(int(self.clock.now().timestamp())))
        for payload in payloads:
            value = (_short_int_list(payload) or serializer.dump_payload(payload)) + stamped
            mac = hmac.digest(key, value, "sha1") if one_shot else get_signature(key, value)
            signature = base64_encode(mac)
            yield (value + signer.sep + signature).decode("ascii")

    def verify(self, purpose: Purpose, token: str, max_age: int | None = None) -> Any:
        limit = max_age or purpose.max_age
        known = self._verified.get((purpose, token))
        if known is not None:
            payload, signed_at = known
            age = int(self.clock.now().timestamp()) - signed_at
            if not 0 <= age <= limit:  # as itsdangerous says it
                raise TokenExpired(f"Signature age {age} is outside 0 to {limit} seconds")
            return payload
        try:
            payload, signed = self._serializer(purpose).loads(
                token, max_age=limit, return_timestamp=True
            )
        except SignatureExpired as exc:
            raise TokenExpired(str(exc)) from exc
        except BadSignature as exc:
            raise TokenInvalid(str(exc)) from exc
        if isinstance(payload, str):  # immutable: safe to hand out again
            if len(self._verified) >= VERIFIED_KEPT:
                self._verified.clear()
            self._verified[(purpose, token)] = (payload, int(signed.timestamp()))
        return payload
