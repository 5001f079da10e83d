"""Bearer tokens for the JSON API: one organizer each, with a role, shown once, stored as a
hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.audit import audit
from contest.roles import Role

PREFIX = "ctk_"
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is a hint, not a log: few writes


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    id: int
    token: str  # shown once, never stored


@dataclass(frozen=True)
class TokenHolder:
    organizer_id: int
    role: Role
    name: str


def create_token(
    connection: Connection,
    organizer_id: int,
    name: str,
    now: datetime,
    role: Role = Role.OWNER,
) -> NewToken:
    """A new token, audited (its name and role, never its value)."""
    token = PREFIX + secrets.token_urlsafe(32)
    tokens = tables.apitoken
    token_id = connection.execute(
        sa.insert(tokens).values(
            organizer_id=organizer_id,
            name=name.strip()[:100] or "API",
            token_hash=_hash(token),
            prefix=token[: len(PREFIX) + 6],
            role=role.value,
            created_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    audit(
        connection,
        organizer_id,
        "token.created",
        {"token": int(token_id), "name": name.strip()[:100] or "API", "role": role.value},
        now,
    )
    return NewToken(int(token_id), token)


def holder(connection: Connection, token: str, now: datetime) -> TokenHolder | None:
    """Whose a live token is and what it may do, or None (unknown, revoked or malformed)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    tokens = tables.apitoken
    row = connection.execute(
        sa.select(
            tokens.c.id, tokens.c.organizer_id, tokens.c.last_used_at, tokens.c.role, tokens.c.name
        ).where(tokens.c.token_hash == _hash(token), tokens.c.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        connection.execute(sa.update(tokens).where(tokens.c.id == row.id).values(last_used_at=now))
    return TokenHolder(int(row.organizer_id), Role(row.role), row.name)


def list_tokens(connection: Connection, organizer_id: int) -> list[sa.Row[tuple[object, ...]]]:
    tokens = tables.apitoken
    return list(
        connection.execute(
            sa.select(
                tokens.c.id,
                tokens.c.name,
                tokens.c.prefix,
                tokens.c.role,
                tokens.c.created_at,
                tokens.c.last_used_at,
                tokens.c.revoked_at,
            )
            .where(tokens.c.organizer_id == organizer_id)
            .order_by(tokens.c.id.desc())
        )
    )


def revoke_token(connection: Connection, organizer_id: int, token_id: int, now: datetime) -> bool:
    """Revokes one of the organizer's own tokens, audited; False when there is no such token."""
    tokens = tables.apitoken
    revoked = bool(
        connection.execute(
            sa.update(tokens)
            .where(
                tokens.c.id == token_id,
                tokens.c.organizer_id == organizer_id,
                tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        ).rowcount
    )
    if revoked:
        audit(connection, organizer_id, "token.revoked", {"token": token_id}, now)
    return revoked
