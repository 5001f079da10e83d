"""The organizer's API tokens: each shown once when made, revoked at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from contest import apitokens
from contest.roles import ROLES, Role
from contest.transactions import reading, writing
from contest.web.auth import organizer_page
from contest.web.base import now_of, redirect, state_of
from contest.web.organizer.base import page, path_id

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity


@organizer_page(role=Role.OWNER)
async def tokens_page(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """The organizer's API tokens; POST creates one, with a role, and shows it once."""
    engine = state_of(request).engine
    created = None
    if form is not None:
        name, now = str(form.get("name") or "API"), now_of(request)
        try:
            role = Role(str(form.get("role") or Role.OWNER))
        except ValueError:
            raise HTTPException(400, "Choose a role.") from None
        made = await run_in_threadpool(
            writing, engine, apitokens.create_token, organizer.id, name, now, role
        )
        created = made.token
    tokens = await run_in_threadpool(reading, engine, apitokens.list_tokens, organizer.id)
    return page(request, "organizer/tokens.html", tokens=tokens, created=created, roles=ROLES)


@organizer_page(role=Role.OWNER)
async def token_revoke(request: Request, organizer: OrganizerIdentity, form: FormData) -> Response:
    """Revokes one of the organizer's tokens at once."""
    engine, token_id, now = state_of(request).engine, path_id(request, "token_id"), now_of(request)
    revoke = apitokens.revoke_token
    if not await run_in_threadpool(writing, engine, revoke, organizer.id, token_id, now):
        raise HTTPException(404)
    return redirect(request, "organizer:tokens")
