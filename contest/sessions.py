"""Organizer sessions kept server-side, so that they can be ended (no HTTP here).

The workspace cookie (contest.web.auth) is signed and carries a random nonce; this table holds
the nonce's SHA-256 with who signed in, when, until when, and from what kind of device and
network (never the address). A cookie counts only while its row is neither revoked nor past its
end: signing out ends the session for a copied cookie too, an owner can end any session of the
organization, and a password change still ends them all (the cookie's ``session_version``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables

_session = tables.organizersession


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def device_of(user_agent: str) -> str:
    """A short, non-identifying summary of a User-Agent: the browser and the system."""
    agent = user_agent.lower()
    browser = next(
        (name for key, name in (("edg/", "Edge"), ("firefox/", "Firefox"), ("chrome/", "Chrome"),
                                ("safari/", "Safari")) if key in agent),
        "",
    )  # fmt: skip
    system = next(
        (name for key, name in (("android", "Android"), ("iphone", "iOS"), ("ipad", "iOS"),
                                ("windows", "Windows"), ("mac os", "macOS"), ("linux", "Linux"))
         if key in agent),
        "",
    )  # fmt: skip
    return " · ".join(part for part in (browser, system) if part) or "?"


def open_session(
    connection: Connection,
    organizer_id: int,
    member_id: int | None,
    nonce: str,
    now: datetime,
    lifetime: timedelta,
    user_agent: str,
    network: str,
) -> None:
    connection.execute(
        sa.insert(_session).values(
            organizer_id=organizer_id,
            member_id=member_id,
            nonce_hash=_hash(nonce),
            created_at=now,
            expires_at=now + lifetime,
            device=device_of(user_agent)[:120],
            network=network[:64],
        )
    )


def is_alive(connection: Connection, organizer_id: int, nonce: str, now: datetime) -> bool:
    """Whether the session of this cookie's nonce is still on: not revoked, not ended."""
    row = connection.execute(
        sa.select(_session.c.revoked_at, _session.c.expires_at).where(
            _session.c.nonce_hash == _hash(nonce), _session.c.organizer_id == organizer_id
        )
    ).first()
    return row is not None and row.revoked_at is None and row.expires_at > now


def end(connection: Connection, nonce: str, now: datetime) -> None:
    """Signs this cookie's session out."""
    connection.execute(
        sa.update(_session)
        .where(_session.c.nonce_hash == _hash(nonce), _session.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def end_one(connection: Connection, organizer_id: int, session_id: int, now: datetime) -> bool:
    """Ends one of the organization's sessions (the owner's "sign out"); False if unknown."""
    return bool(
        connection.execute(
            sa.update(_session)
            .where(
                _session.c.id == session_id,
                _session.c.organizer_id == organizer_id,
                _session.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        ).rowcount
    )


@dataclass(frozen=True)
class SessionLine:
    id: int
    who: str
    created_at: datetime
    expires_at: datetime
    device: str
    network: str
    current: bool


def open_sessions(
    connection: Connection, organizer_id: int, now: datetime, current_nonce: str = ""
) -> list[SessionLine]:
    """The organization's sessions still on, the newest first, each with who signed in."""
    member, organizer = tables.member, tables.organizer
    rows = connection.execute(
        sa.select(
            _session.c.id,
            sa.func.coalesce(member.c.email, organizer.c.email).label("who"),
            _session.c.created_at,
            _session.c.expires_at,
            _session.c.device,
            _session.c.network,
            _session.c.nonce_hash,
        )
        .select_from(
            _session.join(organizer, organizer.c.id == _session.c.organizer_id).outerjoin(
                member, member.c.id == _session.c.member_id
            )
        )
        .where(
            _session.c.organizer_id == organizer_id,
            _session.c.revoked_at.is_(None),
            _session.c.expires_at > now,
        )
        .order_by(_session.c.created_at.desc(), _session.c.id.desc())
    ).all()
    mine = _hash(current_nonce) if current_nonce else ""
    return [
        SessionLine(r.id, r.who, r.created_at, r.expires_at, r.device, r.network,
                    r.nonce_hash == mine)
        for r in rows
    ]  # fmt: skip


def forget_ended(connection: Connection, now: datetime) -> int:
    """Deletes the sessions ended a day ago or more (the worker's maintenance)."""
    return int(
        connection.execute(
            sa.delete(_session).where(
                sa.or_(
                    _session.c.expires_at < now - timedelta(days=1),
                    _session.c.revoked_at < now - timedelta(days=1),
                )
            )
        ).rowcount
    )
