"""The people who work in an organizer's workspace: colleagues and agencies, each with a role
(contest.roles). No HTTP here.

The owner invites someone by e-mail; the invitation link (signed, seven days) lets them choose
a password and join. Only owners manage members. Changing someone's role or removing them
signs them out everywhere at once (their ``session_version`` moves on). The organizer's own
account is always an owner and cannot be removed, so a workspace never loses its last owner.
Every change is audited.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from secrets import token_hex
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import outbox, tables
from contest.accounts import OrganizerIdentity
from contest.audit import audit
from contest.passwords import hash_password
from contest.people import InvalidEmail, clean_email
from contest.roles import Role
from rules import Refusal


class MemberRefused(Refusal):
    """An invitation or change that cannot be made; the code says why."""


NOT_FOUND = MemberRefused("not_found", "Aucun membre de ce type.", "No such member.")


@dataclass(frozen=True)
class MemberLine:
    """A member as the workspace lists them; ``id`` None for the organizer's own account."""

    id: int | None
    email: str
    role: Role
    invited_by: str
    invited_at: datetime | None
    joined_at: datetime | None

    @property
    def pending(self) -> bool:
        return self.joined_at is None


def list_members(connection: Connection, organizer_id: int) -> list[MemberLine]:
    """The organizer's own account first, then the members in the order they were invited."""
    organizer, member = tables.organizer, tables.member
    own = connection.execute(
        sa.select(organizer.c.email, organizer.c.created_at).where(organizer.c.id == organizer_id)
    ).one()
    lines = [MemberLine(None, own.email, Role.OWNER, "", None, own.created_at)]
    rows = connection.execute(
        sa.select(member).where(member.c.organizer_id == organizer_id).order_by(member.c.id)
    )
    lines += [
        MemberLine(row.id, row.email, Role(row.role), row.invited_by, row.invited_at, row.joined_at)
        for row in rows
    ]
    return lines


def _address_taken(connection: Connection, email: str) -> bool:
    organizer, member = tables.organizer, tables.member
    lowered = email.lower()
    return (
        connection.execute(
            sa.select(organizer.c.id).where(sa.func.lower(organizer.c.email) == lowered)
        ).first()
        is not None
        or connection.execute(
            sa.select(member.c.id).where(sa.func.lower(member.c.email) == lowered)
        ).first()
        is not None
    )


def invite_member(
    connection: Connection,
    inviter: OrganizerIdentity,
    email: str,
    role: Role,
    language: str,
    now: datetime,
) -> MemberLine:
    """Invites ``email`` with ``role`` and queues the invitation e-mail (in the same
    transaction). Refuses a malformed address, or one that already has an account here or in
    another workspace (one address, one account)."""
    try:
        address = clean_email(email)
    except InvalidEmail:
        raise MemberRefused(
            "invalid_email",
            "Cette adresse e-mail n'est pas valide.",
            "This e-mail address is not valid.",
        ) from None
    if _address_taken(connection, address):
        raise MemberRefused(
            "address_taken",
            "Cette adresse a déjà un compte.",
            "This address already has an account.",
        )
    member = tables.member
    member_id = connection.execute(
        sa.insert(member).values(
            organizer_id=inviter.id,
            email=address,
            role=role.value,
            password_hash="",
            session_version=1,
            invited_by=inviter.email,
            invited_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    _send_invitation(connection, int(member_id), inviter, address, role, 1, language, now)
    audit(connection, inviter.id, "member.invited", {"member": address, "role": role.value}, now)
    return MemberLine(int(member_id), address, role, inviter.email, now, None)


def _send_invitation(
    connection: Connection,
    member_id: int,
    inviter: OrganizerIdentity,
    address: str,
    role: Role,
    version: int,
    language: str,
    now: datetime,
) -> None:
    organizer = tables.organizer
    workspace = connection.execute(
        sa.select(organizer.c.legal_name, organizer.c.email).where(organizer.c.id == inviter.id)
    ).one()
    outbox.enqueue(
        connection,
        # A removed member's id may be given again (SQLite): the nonce keeps keys apart.
        key=f"member-invitation:{member_id}:{version}:{now.timestamp():.6f}:{token_hex(4)}",
        template="member_invitation",
        recipient=address,
        language=language,
        payload={
            "member": member_id,
            "version": version,
            "inviter": inviter.email,
            "role": role.value,
            "workspace": workspace.legal_name or workspace.email,
        },
        now=now,
    )


def _member(connection: Connection, organizer_id: int, member_id: int) -> Any:
    member = tables.member
    row = connection.execute(
        sa.select(member).where(member.c.id == member_id, member.c.organizer_id == organizer_id)
    ).first()
    if row is None:
        raise NOT_FOUND
    return row


def resend_invitation(
    connection: Connection, inviter: OrganizerIdentity, member_id: int, language: str, now: datetime
) -> None:
    """Sends a pending invitation again (a new link; the earlier ones stop working)."""
    row = _member(connection, inviter.id, member_id)
    if row.joined_at is not None:
        raise MemberRefused(
            "already_joined", "Ce membre a déjà rejoint.", "This member has already joined."
        )
    member = tables.member
    version = int(row.session_version) + 1
    connection.execute(
        sa.update(member).where(member.c.id == member_id).values(session_version=version)
    )
    role = Role(str(row.role))
    _send_invitation(connection, member_id, inviter, str(row.email), role, version, language, now)


def change_role(
    connection: Connection, organizer_id: int, member_id: int, role: Role, now: datetime
) -> None:
    """Gives a member another role; they are signed out, to sign in again with it."""
    row = _member(connection, organizer_id, member_id)
    member = tables.member
    connection.execute(
        sa.update(member)
        .where(member.c.id == member_id)
        .values(role=role.value, session_version=member.c.session_version + 1)
    )
    detail = {"member": row.email, "from": row.role, "to": role.value}
    audit(connection, organizer_id, "member.role_changed", detail, now)


def remove_member(connection: Connection, organizer_id: int, member_id: int, now: datetime) -> None:
    """Removes a member (or withdraws an invitation): their sessions end at once."""
    row = _member(connection, organizer_id, member_id)
    member, signed_in = tables.member, tables.organizersession
    connection.execute(sa.delete(signed_in).where(signed_in.c.member_id == member_id))
    connection.execute(sa.delete(member).where(member.c.id == member_id))
    audit(connection, organizer_id, "member.removed", {"member": row.email}, now)


@dataclass(frozen=True)
class Invitation:
    member_id: int
    email: str
    workspace: str


def invitation_key(address: str) -> str:
    """What an invitation link carries of the invited address. SQLite may give a removed
    member's id to the next one invited: the link of the removed one must not open it."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]


def invitation(connection: Connection, member_id: int, version: int, key: str) -> Invitation | None:
    """The pending invitation a link names; None once used, withdrawn, sent again, or given
    to another address since."""
    member, organizer = tables.member, tables.organizer
    row = connection.execute(
        sa.select(member.c.id, member.c.email, organizer.c.legal_name, organizer.c.email)
        .join(organizer, organizer.c.id == member.c.organizer_id)
        .where(
            member.c.id == member_id,
            member.c.session_version == version,
            member.c.joined_at.is_(None),
        )
    ).first()
    if row is None or not hmac.compare_digest(invitation_key(row[1]), key):
        return None
    return Invitation(row[0], row[1], row[2] or row[3])


def accept_invitation(
    connection: Connection, member_id: int, version: int, key: str, password: str, now: datetime
) -> OrganizerIdentity:
    """Joins with the chosen password (WeakPassword for a short one); the link works once."""
    found = invitation(connection, member_id, version, key)
    if found is None:
        raise MemberRefused(
            "invitation_used",
            "Cette invitation a déjà servi ou a été retirée.",
            "This invitation was already used or withdrawn.",
        )
    hashed = hash_password(password)
    member = tables.member
    connection.execute(
        sa.update(member)
        .where(member.c.id == member_id)
        .values(password_hash=hashed, joined_at=now, session_version=version + 1)
    )
    row = connection.execute(sa.select(member).where(member.c.id == member_id)).one()
    audit(connection, row.organizer_id, "member.joined", {"member": row.email}, now)
    return OrganizerIdentity(
        row.organizer_id, row.email, row.session_version, Role(row.role), row.id
    )
