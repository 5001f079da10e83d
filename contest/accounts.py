"""Organizer accounts: signing in (throttled), password reset. No HTTP here.

An account is either the organizer's own (the first owner of the workspace) or a member's
(contest.members): both sign in here, and the identity says whose workspace it opens and
with which role.

Throttling lives in the database (contest.ratelimit), so it holds across app processes. It is
kept per account *and* network (/24 or /48): five failed attempts are free, then each failure
doubles the wait before the next try from that network (one minute, two, four... at most an
hour), so someone guessing from one network never locks the owner out of another; a network
also has at most 30 failures every 15 minutes, whatever the addresses. A sign-in clears its
network's failures for the account, a password reset all of them. Buckets name the address
by a keyed hash (:func:`address_tag`), never the address itself.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import outbox, tables
from contest.passwords import hash_password, verify_password
from contest.people import InvalidEmail, clean_email
from contest.ratelimit import (
    Backoff,
    Limit,
    backoff_failure,
    backoff_wait,
    exceeded,
    forget,
    forget_prefixed,
    hit,
    retry_after,
)
from contest.roles import Role
from rules import Refusal

LOGIN_PER_ACCOUNT_AND_NETWORK = Backoff(
    free=5,
    first_wait=timedelta(minutes=1),
    longest_wait=timedelta(hours=1),
    forget_after=timedelta(days=1),
)
LOGIN_PER_NETWORK = Limit(30, timedelta(minutes=15))
RESET_PER_ADDRESS = Limit(3, timedelta(hours=1))
_DUMMY_HASH = hash_password("a password nobody has, to spend the same time")


@dataclass(frozen=True)
class OrganizerIdentity:
    """Who is signed in: ``id`` is the workspace's organizer, ``email`` the person acting,
    ``member_id`` their membership (None for the organizer's own account)."""

    id: int
    email: str
    session_version: int
    role: Role = Role.OWNER
    member_id: int | None = None

    def may(self, needed: Role) -> bool:
        return self.role.allows(needed)


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


def address_tag(key: bytes, email: str) -> str:
    """How rate-limit buckets name an address: a keyed hash (HMAC-SHA256, 128 bits) of its
    normalized form, so that the table holds no address and any casing or spacing of one
    address counts as that address. ``key`` is the app's secret key."""
    message = b"rate-limit-address\x00" + _normalized(email).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _login_buckets(key: bytes, email: str) -> str:
    """The prefix of every sign-in bucket of one address (one bucket per network)."""
    return f"login:{address_tag(key, email)}:"


def find_by_email(connection: Connection, email: str) -> Any:
    """The account behind ``email``: the organizer's own, else a member who has joined.
    Rows have ``id`` (the organizer), ``member_id`` (None for the organizer's own account),
    ``email``, ``password_hash``, ``session_version`` and ``role``."""
    organizer, member = tables.organizer, tables.member
    wanted = _normalized(email)
    row = connection.execute(
        sa.select(
            organizer.c.id,
            sa.null().label("member_id"),
            organizer.c.email,
            organizer.c.password_hash,
            organizer.c.session_version,
            sa.literal(Role.OWNER.value).label("role"),
        ).where(sa.func.lower(organizer.c.email) == wanted)
    ).first()
    if row is not None:
        return row
    return connection.execute(
        sa.select(
            member.c.organizer_id.label("id"),
            member.c.id.label("member_id"),
            member.c.email,
            member.c.password_hash,
            member.c.session_version,
            member.c.role,
        )
        .where(sa.func.lower(member.c.email) == wanted, member.c.joined_at.is_not(None))
        .order_by(member.c.id)
    ).first()


def _identity(row: Any) -> OrganizerIdentity:
    return OrganizerIdentity(
        int(row.id),
        row.email,
        int(row.session_version),
        Role(row.role),
        None if row.member_id is None else int(row.member_id),
    )


def identity(
    connection: Connection, organizer_id: int, member_id: int | None = None
) -> OrganizerIdentity | None:
    """The signed-in identity, or None when the account or the membership is gone."""
    if member_id is None:
        organizer = tables.organizer
        own = connection.execute(
            sa.select(organizer.c.id, organizer.c.email, organizer.c.session_version).where(
                organizer.c.id == organizer_id
            )
        ).first()
        return OrganizerIdentity(own.id, own.email, own.session_version) if own else None
    member = tables.member
    row = connection.execute(
        sa.select(
            member.c.organizer_id.label("id"),
            member.c.id.label("member_id"),
            member.c.email,
            member.c.session_version,
            member.c.role,
        ).where(
            member.c.id == member_id,
            member.c.organizer_id == organizer_id,
            member.c.joined_at.is_not(None),
        )
    ).first()
    return _identity(row) if row else None


def authenticate(
    connection: Connection,
    email: str,
    password: str,
    network: str,
    now: datetime,
    *,
    key: bytes,
) -> OrganizerIdentity:
    """The organizer behind ``email`` and ``password``.

    Refuses (LoginRefused) a wrong pair without saying which part was wrong, and refuses even
    a right pair while this address has failed too often from this network (the wait grows
    with each failure: LOGIN_PER_ACCOUNT_AND_NETWORK) or this network too often for any
    address (LOGIN_PER_NETWORK). Failures elsewhere never refuse this network. A refusal has
    counted the failure in ``connection``'s transaction: commit it anyway. ``key`` hashes the
    address in the buckets' names (:func:`address_tag`).
    """
    account_bucket = _login_buckets(key, email) + network
    network_bucket = f"login:network:{network}"
    wait = backoff_wait(connection, account_bucket, LOGIN_PER_ACCOUNT_AND_NETWORK, now)
    if wait:
        raise throttled(wait)
    if exceeded(connection, network_bucket, LOGIN_PER_NETWORK, now):
        raise throttled(retry_after(now, LOGIN_PER_NETWORK))
    row = find_by_email(connection, email)
    if row is None:
        verify_password(_DUMMY_HASH, password)
    elif verify_password(row.password_hash, password):
        forget(connection, account_bucket)
        return _identity(row)
    backoff_failure(connection, account_bucket, LOGIN_PER_ACCOUNT_AND_NETWORK, now)
    hit(connection, network_bucket, LOGIN_PER_NETWORK, now)
    raise wrong_credentials()


def request_password_reset(
    connection: Connection, email: str, now: datetime, language: str = "fr", *, key: bytes
) -> bool:
    """Queues a reset link for an existing account, in the ``language`` of the page it was
    asked from; True when one was queued.

    Says nothing to the caller's audience either way (the page answers the same), and sends
    at most three links an hour to one address (its bucket named by :func:`address_tag`).
    """
    row = find_by_email(connection, email)
    bucket = f"reset:{address_tag(key, email)}"
    if row is None or exceeded(connection, bucket, RESET_PER_ADDRESS, now):
        return False
    hit(connection, bucket, RESET_PER_ADDRESS, now)
    outbox.enqueue(
        connection,
        key=f"reset:{row.id}:{now.timestamp():.6f}",
        template="password_reset",
        recipient=row.email,
        language=language,
        payload={
            "organizer": row.id,
            "version": row.session_version,
            "member": row.member_id or 0,
        },
        now=now,
    )
    return True


class ResetRefused(Refusal):
    """The reset link was already used (the password changed since) or the account is gone."""


def reset_password(
    connection: Connection,
    organizer_id: int,
    version: int,
    password: str,
    now: datetime,
    member_id: int | None = None,
    *,
    key: bytes,
) -> None:
    """Sets a new password, signs out every session, and forgets the account's failed
    sign-ins from every network (``key`` as for :func:`authenticate`); the link works once.

    Raises WeakPassword (from contest.passwords) for a short password, ResetRefused when the
    link's account version is no longer current.
    """
    hashed = hash_password(password)
    table = tables.organizer if member_id is None else tables.member
    account = (
        table.c.id == organizer_id
        if member_id is None
        else sa.and_(table.c.id == member_id, table.c.organizer_id == organizer_id)
    )
    changed = connection.execute(
        sa.update(table)
        .where(account, table.c.session_version == version)
        .values(password_hash=hashed, session_version=table.c.session_version + 1)
    ).rowcount
    if not changed:
        raise ResetRefused(
            "reset_link_used",
            "Ce lien a déjà servi : demandez-en un nouveau.",
            "This link was already used: ask for a new one.",
        )
    email = connection.execute(sa.select(table.c.email).where(account)).scalar_one()
    forget_prefixed(connection, _login_buckets(key, email))


def sign_in(
    connection: Connection,
    email: str,
    password: str,
    network: str,
    now: datetime,
    *,
    key: bytes,
) -> OrganizerIdentity | LoginRefused:
    """:func:`authenticate`, its refusal given back rather than raised, so that the transaction
    that counted the failed attempt commits (a raised refusal would roll the count back)."""
    try:
        return authenticate(connection, email, password, network, now, key=key)
    except LoginRefused as refused:
        return refused
