"""What owners manage through the API, as in the workspace: the shop and CRM connections
(``/shop-connections``, ``/crm-connections``), the members and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from contest import audit, connections, members
from contest.accounts import OrganizerIdentity, identity
from contest.connections import KINDS, ConnectionView, Family
from contest.roles import ROLES, Role
from contest.transactions import reading, writing
from contest.web.api.base import (
    CSV,
    MAX_ID,
    ApiSection,
    BadRequest,
    Caller,
    Handler,
    csv_stream,
    error,
    iso,
    json_object,
    path_id,
    query_int,
    query_parameter,
)
from contest.web.base import now_of, refusal_json, state_of
from rules import Refusal

STRINGS = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 2000}}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
ROLE = {"type": "string", "enum": [role.value for role in ROLES]}

FLAT_OR_NESTED = (
    "The settings go inside `settings` or beside `kind`, as in "
    '`{"kind": "webhook", "url": "https://…", "secret": "…"}`; a secret left empty keeps the '
    "stored one."
)


def _setting_properties(families: list[Family]) -> dict[str, Any]:
    names = {name for family in families for spec in KINDS[family].values() for name in spec.fields}
    return {name: {"type": "string"} for name in sorted(names)}


SETTING_PROPERTIES: dict[Family | None, dict[str, Any]] = {
    None: _setting_properties(list(Family)),
    **{family: _setting_properties([family]) for family in Family},
}

SCHEMAS: dict[str, Any] = {
    "Connection": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "settings": STRINGS,
            "secrets": {**STRINGS, "description": "Masked: never shown again in full."},
            "updated_at": DATETIME,
        },
        "required": ["id", "kind", "settings", "secrets", "updated_at"],
    },
    "Connections": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Connection"}}
        },
        "required": ["items"],
    },
    "ConnectionChange": {
        "type": "object",
        "additionalProperties": False,
        "description": FLAT_OR_NESTED,
        "properties": {"settings": STRINGS, **SETTING_PROPERTIES[None]},
    },
    "ConnectionTest": {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}, "message": {"type": "string"}},
        "required": ["ok", "message"],
    },
    "Member": {
        "type": "object",
        "properties": {
            "id": {"type": ["integer", "null"]},
            "email": {"type": "string"},
            "role": ROLE,
            "invited_by": {"type": "string"},
            "invited_at": NULLABLE_DATETIME,
            "joined_at": NULLABLE_DATETIME,
        },
        "required": ["id", "email", "role", "invited_at", "joined_at"],
    },
    "Members": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Member"}}
        },
        "required": ["items"],
    },
    "MemberInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "email": {"type": "string", "format": "email", "minLength": 3, "maxLength": 254},
            "role": ROLE,
            "language": {
                "type": "string",
                "enum": ["fr", "en"],
                "description": "The language of the invitation e-mail (default fr).",
            },
        },
        "required": ["email", "role"],
    },
    "MemberChange": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"role": ROLE},
        "required": ["role"],
    },
    "AuditPage": {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "created_at": DATETIME,
                        "actor": {"type": "string"},
                        "action": {"type": "string"},
                        "contest": {"type": ["string", "null"]},
                        "detail": {"type": "object"},
                    },
                    "required": ["id", "created_at", "actor", "action", "contest", "detail"],
                },
            },
            "total": {"type": "integer"},
            "next": {"type": ["integer", "null"]},
        },
        "required": ["items", "total", "next"],
    },
}
for _family in Family:
    SCHEMAS[f"{_family.value.capitalize()}ConnectionInput"] = {
        "type": "object",
        "additionalProperties": False,
        "description": FLAT_OR_NESTED,
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS[_family])},
            "settings": STRINGS,
            **SETTING_PROPERTIES[_family],
        },
        "required": ["kind"],
    }

section = ApiSection(schemas=SCHEMAS)


def connection_json(view: ConnectionView) -> dict[str, Any]:
    return {
        "id": view.id,
        "kind": view.kind,
        "settings": view.settings,
        "secrets": view.secrets,
        "updated_at": iso(view.updated_at),
    }


def _settings_of(data: dict[str, Any]) -> dict[str, str]:
    """The settings sent beside ``kind`` and inside ``settings`` (those inside win)."""
    flat = {k: v for k, v in data.items() if k not in {"kind", "settings"}}
    nested = data.get("settings", {})
    if not isinstance(nested, dict):
        raise BadRequest(422, "invalid", "settings is an object of strings.")
    merged = {**flat, **nested}
    wrong = sorted(str(k) for k, v in merged.items() if not isinstance(v, str))
    if wrong:
        raise BadRequest(422, "invalid", f"{', '.join(wrong)}: a string is expected.")
    return {str(k): v for k, v in merged.items()}


def _refused(refusal: Refusal) -> Response:
    if refusal.code == "not_found":
        return error(404, "not_found", refusal.message_en)
    if refusal.code in {"invalid", "invalid_email"}:
        return error(422, refusal.code, refusal.message_en)
    return refusal_json(refusal)


def _connection_operations(family: Family) -> None:
    """The five operations on one family of connections, under ``/{family}-connections``."""
    base, name = f"/{family.value}-connections", family.value.capitalize()
    item = base + "/{connection_id}"

    def connection_id(request: Request) -> int:
        found = path_id(request, "connection_id")
        if found is None:
            raise BadRequest(404, "not_found", "No such connection.")
        return found

    async def listed(request: Request, caller: Caller) -> Response:
        state = state_of(request)
        view = await run_in_threadpool(
            reading, state.engine, connections.connection_of, state.box, family, caller.organizer_id
        )
        return JSONResponse({"items": [connection_json(view)] if view else []})

    async def created(request: Request, caller: Caller) -> Response:
        data = await json_object(request)
        kind, settings = data.get("kind"), _settings_of(data)
        if not isinstance(kind, str):
            return error(422, "invalid", "kind is one of " + ", ".join(KINDS[family]) + ".")
        return await _save(request, caller, kind, settings, None, 201)

    async def changed(request: Request, caller: Caller) -> Response:
        wanted = connection_id(request)
        state = state_of(request)
        view = await run_in_threadpool(
            reading, state.engine, connections.connection_of, state.box, family, caller.organizer_id
        )
        if view is None or view.id != wanted:  # before the body: another's id says nothing more
            return error(404, "not_found", "No such connection.")
        settings = _settings_of(await json_object(request))
        return await _save(request, caller, view.kind, settings, wanted, 200)

    async def _save(
        request: Request,
        caller: Caller,
        kind: str,
        settings: dict[str, str],
        wanted: int | None,
        status: int,
    ) -> Response:
        state = state_of(request)
        try:
            view = await run_in_threadpool(
                writing,
                state.engine,
                connections.save_connection,
                state.box,
                family,
                caller.organizer_id,
                kind,
                settings,
                now_of(request),
                wanted,
            )
        except Refusal as refusal:
            return _refused(refusal)
        return JSONResponse(connection_json(view), status_code=status)

    async def removed(request: Request, caller: Caller) -> Response:
        state = state_of(request)
        try:
            await run_in_threadpool(
                writing,
                state.engine,
                connections.remove_connection,
                family,
                caller.organizer_id,
                connection_id(request),
                now_of(request),
            )
        except Refusal as refusal:
            return _refused(refusal)
        return Response(status_code=204)

    async def tested(request: Request, caller: Caller) -> Response:
        state = state_of(request)
        try:
            outcome = await run_in_threadpool(
                connections.try_connection,
                state.engine,
                state.box,
                family,
                caller.organizer_id,
                connection_id(request),
                state.outbound,
                now_of(request),
            )
        except Refusal as refusal:
            return _refused(refusal)
        return JSONResponse({"ok": outcome.ok, "message": outcome.message})

    operations: list[tuple[str, str, str, str, dict[str, Any], Handler]] = [
        (
            "GET",
            base,
            f"list{name}Connections",
            "The connection, if any (0 or 1 item)",
            {"ok": {"200": ("Connections", "The connection.")}},
            listed,
        ),
        (
            "POST",
            base,
            f"create{name}Connection",
            "Add the connection (one per organization)",
            {
                "body": f"{name}ConnectionInput",
                "ok": {"201": ("Connection", "Saved; secrets masked.")},
                "errors": {
                    "409": "A connection exists: change or remove it.",
                    "422": "A setting is missing, unknown or not well formed.",
                },
            },
            created,
        ),
        (
            "PATCH",
            item,
            f"update{name}Connection",
            "Change the settings sent (an empty secret keeps the stored one)",
            {
                "body": "ConnectionChange",
                "ok": {"200": ("Connection", "Saved; secrets masked.")},
                "errors": {"422": "A setting is unknown or not well formed."},
            },
            changed,
        ),
        (
            "DELETE",
            item,
            f"delete{name}Connection",
            "Remove the connection",
            {"ok": {"204": (None, "Removed.")}},
            removed,
        ),
        (
            "POST",
            item + "/test",
            f"test{name}Connection",
            "Make a harmless real call and say what came back",
            {"ok": {"200": ("ConnectionTest", "The outcome (ok false with the reason).")}},
            tested,
        ),
    ]
    for method, path, operation_id, summary, options, handler in operations:
        handler.__name__ = operation_id
        section.operation(method, path, operation_id, summary, role=Role.OWNER, **options)(handler)


for _family in Family:
    _connection_operations(_family)


def member_json(line: members.MemberLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "email": line.email,
        "role": line.role.value,
        "invited_by": line.invited_by,
        "invited_at": iso(line.invited_at),
        "joined_at": iso(line.joined_at),
    }


def _role(data: dict[str, Any]) -> Role:
    try:
        return Role(str(data.get("role")))
    except ValueError:
        raise BadRequest(422, "invalid", "role is owner, editor or viewer.") from None


def _member_id(request: Request) -> int:
    found = path_id(request, "member_id")
    if found is None:
        raise BadRequest(404, "not_found", "No such member.")
    return found


@section.operation(
    "GET",
    "/members",
    "listMembers",
    "The workspace's members and their roles",
    role=Role.OWNER,
    ok={"200": ("Members", "The account holder first, then the members.")},
)
async def list_members(request: Request, caller: Caller) -> Response:
    engine = state_of(request).engine
    lines = await run_in_threadpool(reading, engine, members.list_members, caller.organizer_id)
    return JSONResponse({"items": [member_json(line) for line in lines]})


async def _inviter(request: Request, caller: Caller) -> OrganizerIdentity:
    """The account the invitation names as its sender: the organization's own."""

    def own(connection: Connection) -> OrganizerIdentity:
        found = identity(connection, caller.organizer_id)
        assert found is not None
        return found

    return await run_in_threadpool(reading, state_of(request).engine, own)


@section.operation(
    "POST",
    "/members",
    "inviteMember",
    "Invite someone by e-mail with a role",
    role=Role.OWNER,
    body="MemberInput",
    ok={"201": ("Member", "Invited; the invitation is e-mailed.")},
    errors={"409": "The address already has an account.", "422": "The address is not valid."},
)
async def invite_member(request: Request, caller: Caller) -> Response:
    data = await json_object(request)
    role, state = _role(data), state_of(request)
    inviter = await _inviter(request, caller)
    language = str(data.get("language") or "fr")  # the schema admits fr and en only
    try:
        line = await run_in_threadpool(
            writing,
            state.engine,
            members.invite_member,
            inviter,
            str(data.get("email") or "")[:254],
            role,
            language,
            now_of(request),
        )
    except members.MemberRefused as refusal:
        return _refused(refusal)
    state.sender.wake.set()
    return JSONResponse(member_json(line), status_code=201)


@section.operation(
    "PATCH",
    "/members/{member_id}",
    "updateMember",
    "Change a member's role (signs them out)",
    role=Role.OWNER,
    body="MemberChange",
    ok={"200": ("Member", "The member with the new role.")},
)
async def update_member(request: Request, caller: Caller) -> Response:
    member_id, engine = _member_id(request), state_of(request).engine
    lines = await run_in_threadpool(reading, engine, members.list_members, caller.organizer_id)
    if all(line.id != member_id for line in lines):  # before the body, as for a connection
        return error(404, "not_found", "No such member.")
    data = await json_object(request)
    try:
        await run_in_threadpool(
            writing,
            engine,
            members.change_role,
            caller.organizer_id,
            member_id,
            _role(data),
            now_of(request),
        )
    except members.MemberRefused as refusal:
        return _refused(refusal)
    lines = await run_in_threadpool(reading, engine, members.list_members, caller.organizer_id)
    return JSONResponse(next(member_json(line) for line in lines if line.id == member_id))


@section.operation(
    "DELETE",
    "/members/{member_id}",
    "removeMember",
    "Remove a member or withdraw an invitation",
    role=Role.OWNER,
    ok={"204": (None, "Removed; their sessions end at once.")},
)
async def remove_member(request: Request, caller: Caller) -> Response:
    member_id, engine = _member_id(request), state_of(request).engine
    try:
        await run_in_threadpool(
            writing, engine, members.remove_member, caller.organizer_id, member_id, now_of(request)
        )
    except members.MemberRefused as refusal:
        return _refused(refusal)
    return Response(status_code=204)


@section.operation(
    "GET",
    "/audit",
    "readAuditLog",
    "The audit log, newest first",
    role=Role.OWNER,
    query=(
        query_parameter(
            "before",
            {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "The ``next`` of the previous page.",
        ),
        query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
    ),
    ok={"200": ("AuditPage", "A page of events.")},
)
async def read_audit_log(request: Request, caller: Caller) -> Response:
    before = (
        query_int(request, "before", 0, 1, MAX_ID) if "before" in request.query_params else None
    )
    limit = query_int(request, "limit", 100, 1, 500)
    engine = state_of(request).engine
    found = await run_in_threadpool(
        reading, engine, audit.audit_page, caller.organizer_id, before, limit
    )
    return JSONResponse(
        {
            "items": [
                {
                    "id": line.id,
                    "created_at": iso(line.created_at),
                    "actor": line.actor,
                    "action": line.action,
                    "contest": line.contest_slug,
                    "detail": line.detail,
                }
                for line in found.items
            ],
            "total": found.total,
            "next": found.next,
        }
    )


@section.operation(
    "GET",
    "/audit.csv",
    "downloadAuditLog",
    "The whole audit log as CSV",
    role=Role.OWNER,
    ok={"200": (CSV, "The log, newest first.")},
)
async def download_audit_log(request: Request, caller: Caller) -> Response:
    engine = state_of(request).engine

    def chunks() -> Iterator[str]:
        with engine.connect() as connection:
            yield from audit.audit_csv(connection, caller.organizer_id)

    return csv_stream(request, chunks(), "audit-log.csv")
