"""The shop and CRM connections: add, change, test ("Send a test") and remove. Owners only.

Secrets are shown masked, never in full; a secret field left empty keeps the stored one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from contest import connections
from contest.connections import (
    KINDS,
    YES_NO,
    ConnectionView,
    Family,
    TestOutcome,
    as_choices,
    fields_of,
)
from contest.roles import Role
from contest.transactions import reading, writing
from contest.web.auth import organizer_page
from contest.web.base import now_of, redirect, refusal_status, state_of
from contest.web.organizer.base import language_of, page, path_id
from rules import Refusal

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity


def _family(request: Request) -> Family:
    try:
        return Family(request.path_params["family"])
    except ValueError:
        raise HTTPException(404) from None


async def _overview(
    request: Request,
    organizer: OrganizerIdentity,
    tested: tuple[Family, TestOutcome] | None = None,
) -> HTMLResponse:
    state = state_of(request)

    def both(connection: Connection) -> dict[Family, ConnectionView | None]:
        return {
            family: connections.connection_of(connection, state.box, family, organizer.id)
            for family in Family
        }

    current = await run_in_threadpool(reading, state.engine, both)
    return page(
        request,
        "organizer/connections.html",
        current=current,
        kinds=KINDS,
        fields={family.value: fields_of(family) for family in Family},
        tested=tested,
    )


@organizer_page(role=Role.OWNER)
async def connections_page(request: Request, organizer: OrganizerIdentity) -> Response:
    """The shop connection and the CRM connection, and how to add them."""
    return await _overview(request, organizer)


def _form_page(
    request: Request,
    family: Family,
    kind: str,
    values: dict[str, str],
    current: ConnectionView | None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    spec = KINDS[family].get(kind)
    if spec is None:
        raise HTTPException(404)
    return page(
        request,
        "organizer/connection_form.html",
        status_code=status_code,
        family=family,
        kind=kind,
        spec=spec,
        fields=fields_of(family),
        yes_no=YES_NO,
        values=values,
        current=current,
        error=error,
    )


def _values(form: FormData, family: Family, kind: str) -> dict[str, str]:
    spec = KINDS[family][kind]
    return {name: str(form.get(name) or "")[:2000] for name in spec.fields}


@organizer_page(role=Role.OWNER)
async def connection_new(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """The form for a new connection of the kind chosen; POST saves it."""
    family = _family(request)
    kind = request.query_params.get("kind") or (str(form.get("kind") or "") if form else "")
    if kind not in KINDS[family]:
        raise HTTPException(404)
    if form is None:
        return _form_page(request, family, kind, {}, None)
    return await _save(request, organizer, family, kind, _values(form, family, kind), None)


@organizer_page(role=Role.OWNER)
async def connection_edit(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """The form of the current connection (secrets masked); POST saves the change."""
    family, connection_id = _family(request), path_id(request, "connection_id")
    state = state_of(request)
    current = await run_in_threadpool(
        reading, state.engine, connections.connection_of, state.box, family, organizer.id
    )
    if current is None or current.id != connection_id:
        raise HTTPException(404)
    if form is None:
        return _form_page(request, family, current.kind, as_choices(current.settings), current)
    values = _values(form, family, current.kind)
    return await _save(request, organizer, family, current.kind, values, current)


async def _save(
    request: Request,
    organizer: OrganizerIdentity,
    family: Family,
    kind: str,
    values: dict[str, str],
    current: ConnectionView | None,
) -> Response:
    state = state_of(request)
    try:
        await run_in_threadpool(
            writing,
            state.engine,
            connections.save_connection,
            state.box,
            family,
            organizer.id,
            kind,
            values,
            now_of(request),
            current.id if current else None,
        )
    except Refusal as refusal:
        if refusal.code == "not_found":
            raise HTTPException(404) from None
        shown = {k: v for k, v in values.items() if k not in KINDS[family][kind].secrets}
        message = refusal.message(language_of(request))
        status = 422 if refusal.code == "invalid" else refusal_status(refusal)
        return _form_page(request, family, kind, shown, current, message, status)
    return redirect(request, "organizer:connections")


@organizer_page(role=Role.OWNER)
async def connection_test(
    request: Request, organizer: OrganizerIdentity, form: FormData
) -> Response:
    """Sends a harmless real call with the stored settings and shows the answer."""
    family, connection_id = _family(request), path_id(request, "connection_id")
    state = state_of(request)
    try:
        outcome = await run_in_threadpool(
            connections.try_connection,
            state.engine,
            state.box,
            family,
            organizer.id,
            connection_id,
            state.outbound,
            now_of(request),
        )
    except Refusal:
        raise HTTPException(404) from None
    return await _overview(request, organizer, (family, outcome))


@organizer_page(role=Role.OWNER)
async def connection_remove(
    request: Request, organizer: OrganizerIdentity, form: FormData
) -> Response:
    """Removes the connection."""
    family, connection_id = _family(request), path_id(request, "connection_id")
    state = state_of(request)
    remove = connections.remove_connection
    try:
        await run_in_threadpool(
            writing, state.engine, remove, family, organizer.id, connection_id, now_of(request)
        )
    except Refusal:
        raise HTTPException(404) from None
    return redirect(request, "organizer:connections")
