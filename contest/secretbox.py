"""Secrets an organizer hands us (shop keys, CRM keys, webhook signing secrets), sealed at rest
with the app's key.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key derived with HKDF
from each ``CONTEST_SECRET_KEY``: the first key seals, every key opens, so keys rotate as the
signed links' keys do: put the new key first and keep the old one while connections sealed
under it remain (saving a connection seals it again under the first key). A database dump
alone reveals no secret.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from contest.settings import Secret

INFO = b"contest connection secrets v1"


class SealBroken(Exception):
    """The sealed secrets cannot be opened: sealed under a key no longer configured, or
    damaged. The organizer types the secrets again."""


def _fernet(key: Secret) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(
        key.reveal().encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


class SecretBox:
    """Seals and opens a small mapping of secret settings."""

    def __init__(self, keys: Sequence[Secret]) -> None:
        if not keys:
            raise ValueError("a secret box needs at least one key")
        self._fernet = MultiFernet([_fernet(key) for key in keys])

    def __repr__(self) -> str:
        return "SecretBox(**********)"

    def seal(self, secrets: Mapping[str, str]) -> str:
        if not secrets:
            return ""
        return self._fernet.encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()

    def open(self, sealed: str) -> dict[str, str]:
        if not sealed:
            return {}
        try:
            opened = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError) as exc:
            raise SealBroken(
                "the connection's secrets cannot be opened with the app's keys"
            ) from exc
        if not isinstance(opened, dict):
            raise SealBroken("the connection's secrets are damaged")
        return {str(name): str(value) for name, value in opened.items()}
