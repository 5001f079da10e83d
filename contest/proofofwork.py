"""A self-hosted proof of work (ALTCHA, the ``altcha`` package): a form's challenge, issued by
this server and checked by it, no third party.

1. **Issue.** :func:`issue` signs a fresh challenge (PBKDF2/SHA-256: the browser's widget
   searches a counter whose derived key starts with ``KEY_PREFIX``, a fraction of a second)
   with a key derived from ``CONTEST_SECRET_KEY``. Its ``data`` names what it is for (a
   contest's entry form or its invitation form: a solution is good for that form only) and
   when it expires, ``LIFETIME`` after ``now``, judged by the app's clock (the library's own
   ``expires_at`` would be judged by the machine's).
2. **Check.** :func:`check` verifies the signature (under any configured key: keys rotate),
   the work, the purpose and the expiry, and refuses with a :class:`ChallengeFailed`.
3. **Spend.** The same call records the challenge's signature in ``spentchallenge`` in the
   caller's transaction: the database refuses it a second time, whichever process sees it
   (a solution is good once). :func:`purge_spent` forgets the expired ones.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import altcha
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.settings import Secret

ALGORITHM = "PBKDF2/SHA-256"
COST = 5_000  # PBKDF2 iterations per try: about a millisecond in a browser
KEY_PREFIX = "00"  # one try in 256 succeeds: a fraction of a second with the widget's workers
# Enough to fill in the form after the widget solved the challenge (it starts on the form's
# first focus); a solution older than this is refused and the form comes back with a new one.
LIFETIME = timedelta(minutes=10)
MAX_PAYLOAD = 4_000  # characters of the form field: a real payload is under 1,000

# What a challenge is for: one contest's entry form, or its invitation form.
ENTRY, INVITATION = "entry", "invite"


class ChallengeFailed(Exception):
    """A proof of work that does not prove anything: unreadable, forged, for another form,
    expired, wrong, or already used. ``reason`` says which (for the log and the tests)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def challenge_key(secret: Secret) -> str:
    """The HMAC key of challenges, derived from one ``CONTEST_SECRET_KEY`` (never the key
    itself: a key per purpose)."""
    return hmac.new(
        secret.reveal().encode(), b"contest proof of work v1", hashlib.sha256
    ).hexdigest()


def purpose_of(form: str, contest_id: int) -> str:
    return f"{form}:{contest_id}"


def issue(secret: Secret, purpose: str, now: datetime) -> dict[str, Any]:
    """A new challenge for the form ``purpose``, as the widget fetches it (JSON)."""
    expires = int((now + LIFETIME).timestamp())
    challenge = altcha.create_challenge(
        algorithm=ALGORITHM,
        cost=COST,
        key_prefix=KEY_PREFIX,
        data={"for": purpose, "expires": expires},
        hmac_secret=challenge_key(secret),
    )
    return challenge.to_dict()


@dataclass(frozen=True)
class Proof:
    """A verified solution, not spent yet: its signature and when its challenge expires."""

    signature: str
    expires_at: datetime


def verify(secrets: Sequence[Secret], payload: str, purpose: str, now: datetime) -> Proof:
    """Checks a solution without touching storage; raises ChallengeFailed."""
    if not payload or len(payload) > MAX_PAYLOAD:
        raise ChallengeFailed("unreadable")
    for secret in secrets:
        result = altcha.verify_solution(payload, challenge_key(secret))
        if result.error:
            raise ChallengeFailed("unreadable")
        if result.invalid_signature:
            continue  # signed under another of the keys, or forged
        if not result.verified:
            raise ChallengeFailed("wrong")
        parameters = altcha.Payload.from_base64(payload).challenge
        data = parameters.parameters.data or {}
        if data.get("for") != purpose:
            raise ChallengeFailed("other_form")
        expires = data.get("expires")
        if not isinstance(expires, int) or now.timestamp() >= expires:
            raise ChallengeFailed("expired")
        return Proof(str(parameters.signature), datetime.fromtimestamp(expires, UTC))
    raise ChallengeFailed("forged")


def spend(connection: Connection, proof: Proof) -> None:
    """Records a verified solution as used, in the caller's transaction; raises
    ChallengeFailed("replayed") when it was used before (by any process)."""
    spent = tables.spentchallenge
    statement = sa.text(
        "INSERT INTO spentchallenge (signature, expires_at) VALUES (:signature, :expires_at) "
        "ON CONFLICT (signature) DO NOTHING"
    ).bindparams(sa.bindparam("expires_at", type_=spent.c.expires_at.type))
    params = {"signature": proof.signature[:128], "expires_at": proof.expires_at}
    if connection.execute(statement, params).rowcount != 1:
        raise ChallengeFailed("replayed")


def check(
    connection: Connection,
    secrets: Sequence[Secret],
    payload: str,
    purpose: str,
    now: datetime,
) -> None:
    """Verifies a solution for the form ``purpose`` and spends it; raises ChallengeFailed
    (nothing written) when it is unreadable, forged, for another form, expired, wrong or
    already used."""
    spend(connection, verify(secrets, payload, purpose, now))


def purge_spent(connection: Connection, now: datetime) -> int:
    """Forgets the spent challenges that have expired (their solutions are refused anyway);
    returns how many."""
    spent = tables.spentchallenge
    return connection.execute(sa.delete(spent).where(spent.c.expires_at <= now)).rowcount
