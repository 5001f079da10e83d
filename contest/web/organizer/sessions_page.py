"""The organization's signed-in sessions, listed for the owner, each of which can be ended."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from contest import sessions
from contest.roles import Role
from contest.transactions import reading, writing
from contest.web.auth import Session, organizer_page
from contest.web.base import now_of, redirect, state_of
from contest.web.organizer.base import page, path_id

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity


@organizer_page(role=Role.OWNER)
async def sessions_page(request: Request, organizer: OrganizerIdentity) -> Response:
    """Who is signed in to the workspace, on what kind of device, from which network."""
    current: Session = request.state.session
    lines = await run_in_threadpool(
        reading,
        state_of(request).engine,
        sessions.open_sessions,
        organizer.id,
        now_of(request),
        current.nonce,
    )
    return page(request, "organizer/sessions.html", sessions=lines)


@organizer_page(role=Role.OWNER)
async def session_end(request: Request, organizer: OrganizerIdentity, form: FormData) -> Response:
    """Ends one session at once: its cookie, copied or not, no longer signs anyone in."""
    engine, session_id, now = (
        state_of(request).engine,
        path_id(request, "session_id"),
        now_of(request),
    )
    if not await run_in_threadpool(
        writing, engine, sessions.end_one, organizer.id, session_id, now
    ):
        raise HTTPException(404)
    return redirect(request, "organizer:sessions")
