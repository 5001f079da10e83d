"""Organizer accounts: signing in (throttled), password reset. No HTTP here.

Throttling lives in the database (contest.ratelimit), so it holds across app processes:
at most 5 failed attempts per address and 30 per network (/24 or /48) every 15 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import outbox, tables
from contest.passwords import hash_password, verify_password
from contest.people import InvalidEmail, clean_email
from contest.ratelimit import Limit, exceeded, hit, retry_after
from rules import Refusal

LOGIN_PER_ADDRESS = Limit(5, timedelta(minutes=15))
LOGIN_PER_NETWORK = Limit(30, timedelta(minutes=15))
RESET_PER_ADDRESS = Limit(3, timedelta(hours=1))
_DUMMY_HASH = hash_password("a password nobody has, to spend the same time")


@dataclass(frozen=True)
class OrganizerIdentity:
    id: int
    email: str
    session_version: int


@dataclass
class LoginRefused(Refusal):
    """Wrong address or password (never says which), or too many attempts (``retry_after``
    seconds to wait)."""

    retry_after: int = 0

    @property
    def throttled(self) -> bool:
        return self.code == THROTTLED


THROTTLED = "throttled"


def wrong_credentials() -> LoginRefused:
    return LoginRefused(
        "wrong_credentials",
        "Adresse e-mail ou mot de passe incorrect.",
        "Wrong e-mail address or password.",
    )


def throttled(seconds: int) -> LoginRefused:
    return LoginRefused(
        THROTTLED,
        "Trop de tentatives : réessayez plus tard ou réinitialisez votre mot de passe.",
        "Too many attempts: try again later, or reset your password.",
        retry_after=seconds,
    )


def _normalized(email: str) -> str:
    try:
        return clean_email(email).lower()
    except InvalidEmail:
        return email.strip().lower()


def find_by_email(connection: Connection, email: str) -> Any:
    organizer = tables.organizer
    return connection.execute(
        sa.select(
            organizer.c.id,
            organizer.c.email,
            organizer.c.password_hash,
            organizer.c.session_version,
        ).where(sa.func.lower(organizer.c.email) == _normalized(email))
    ).first()


def identity(connection: Connection, organizer_id: int) -> OrganizerIdentity | None:
    organizer = tables.organizer
    row = connection.execute(
        sa.select(organizer.c.id, organizer.c.email, organizer.c.session_version).where(
            organizer.c.id == organizer_id
        )
    ).first()
    return OrganizerIdentity(row.id, row.email, row.session_version) if row else None


def authenticate(
    connection: Connection, email: str, password: str, network: str, now: datetime
) -> OrganizerIdentity:
    """The organizer behind ``email`` and ``password``.

    Refuses (LoginRefused) a wrong pair without saying which part was wrong, and refuses even
    a right pair once the address or the network has failed too often: guessing is throttled.
    A refusal has counted the failure in ``connection``'s transaction: commit it anyway.
    """
    buckets = (
        (f"login:address:{_normalized(email)}", LOGIN_PER_ADDRESS),
        (f"login:network:{network}", LOGIN_PER_NETWORK),
    )
    for bucket, rule in buckets:
        if exceeded(connection, bucket, rule, now):
            raise throttled(retry_after(now, rule))
    row = find_by_email(connection, email)
    if row is None:
        verify_password(_DUMMY_HASH, password)
    elif verify_password(row.password_hash, password):
        return OrganizerIdentity(row.id, row.email, row.session_version)
    for bucket, rule in buckets:
        hit(connection, bucket, rule, now)
    raise wrong_credentials()


def request_password_reset(connection: Connection, email: str, now: datetime) -> bool:
    """Queues a reset link for an existing account; True when one was queued.

    Says nothing to the caller's audience either way (the page answers the same), and sends
    at most three links an hour to one address.
    """
    row = find_by_email(connection, email)
    bucket = f"reset:address:{_normalized(email)}"
    if row is None or exceeded(connection, bucket, RESET_PER_ADDRESS, now):
        return False
    hit(connection, bucket, RESET_PER_ADDRESS, now)
    outbox.enqueue(
        connection,
        key=f"reset:{row.id}:{now.timestamp():.6f}",
        template="password_reset",
        recipient=row.email,
        language="fr",
        payload={"organizer": row.id, "version": row.session_version},
        now=now,
    )
    return True


class ResetRefused(Refusal):
    """The reset link was already used (the password changed since) or the account is gone."""


def reset_password(
    connection: Connection, organizer_id: int, version: int, password: str, now: datetime
) -> None:
    """Sets a new password and signs out every session; the link works once.

    Raises WeakPassword (from contest.passwords) for a short password, ResetRefused when the
    link's account version is no longer current.
    """
    organizer = tables.organizer
    hashed = hash_password(password)
    changed = connection.execute(
        sa.update(organizer)
        .where(organizer.c.id == organizer_id, organizer.c.session_version == version)
        .values(password_hash=hashed, session_version=organizer.c.session_version + 1)
    ).rowcount
    if not changed:
        raise ResetRefused(
            "reset_link_used",
            "Ce lien a déjà servi : demandez-en un nouveau.",
            "This link was already used: ask for a new one.",
        )


def sign_in(
    connection: Connection, email: str, password: str, network: str, now: datetime
) -> OrganizerIdentity | LoginRefused:
    """:func:`authenticate`, its refusal given back rather than raised, so that the transaction
    that counted the failed attempt commits (a raised refusal would roll the count back)."""
    try:
        return authenticate(connection, email, password, network, now)
    except LoginRefused as refused:
        return refused
