"""Organizer sessions: a signed cookie backed by a database row, CSRF tokens bound to the
session, and the guard.

The cookie holds the organizer id, their ``session_version`` (bumped on a password change, which
signs out every session at once) and a random nonce; the CSRF token is that nonce, signed. The
nonce's session row (contest.sessions) must be on: signing out, or the owner ending a session,
ends a copied cookie too. No session state lives in process memory, so any app process can
serve any request.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import overload
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contest import accounts, sessions
from contest.accounts import OrganizerIdentity
from contest.actors import act_as
from contest.i18n import from_accept_language
from contest.roles import Role, not_allowed
from contest.tokens import Purpose, TokenInvalid
from contest.transactions import writing
from contest.web.base import client_network, now_of, state_of

COOKIE = "contest_session"
LANG_COOKIE = "contest_admin_lang"
LANGUAGES = frozenset({"fr", "en"})
Handler = Callable[[Request], Awaitable[Response]]
READING = frozenset({"GET", "HEAD"})


def language_of(request: Request) -> str:
    """The workspace language: asked for in the query, else remembered, else the browser's
    preference, else French."""
    wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if wanted not in LANGUAGES:
        wanted = from_accept_language(request.headers.get("accept-language"), LANGUAGES)
    return wanted if wanted in LANGUAGES else "fr"


@dataclass(frozen=True)
class Session:
    organizer: OrganizerIdentity
    nonce: str


async def start_session(request: Request, response: Response, organizer: OrganizerIdentity) -> None:
    """Signs the browser in: a session row, and the cookie naming it."""
    state = state_of(request)
    nonce = secrets.token_urlsafe(16)
    await run_in_threadpool(
        writing,
        state.engine,
        sessions.open_session,
        organizer.id,
        organizer.member_id,
        nonce,
        now_of(request),
        timedelta(seconds=Purpose.SESSION.max_age),
        request.headers.get("user-agent", ""),
        client_network(request),
    )
    payload = {
        "o": organizer.id,
        "m": organizer.member_id or 0,
        "v": organizer.session_version,
        "n": nonce,
    }
    response.set_cookie(
        COOKIE,
        state.signer.sign(Purpose.SESSION, payload),
        max_age=Purpose.SESSION.max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=state.settings.https,
    )


async def end_session(request: Request, response: Response) -> None:
    """Signs this browser out: its session row is ended (a copy of the cookie stops working)."""
    session: Session | None = getattr(request.state, "session", None)
    if session is not None:
        state = state_of(request)
        await run_in_threadpool(writing, state.engine, sessions.end, session.nonce, now_of(request))
    response.delete_cookie(COOKIE, path="/")


async def current_session(request: Request) -> Session | None:
    state = state_of(request)
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        payload = state.signer.verify(Purpose.SESSION, raw)
        organizer_id, version, nonce = int(payload["o"]), int(payload["v"]), str(payload["n"])
        member_id = int(payload.get("m") or 0) or None
    except (TokenInvalid, KeyError, TypeError, ValueError, AttributeError):
        return None

    now = now_of(request)

    def load() -> OrganizerIdentity | None:
        with state.engine.connect() as connection:
            if not sessions.is_alive(connection, organizer_id, nonce, now):
                return None  # signed out, ended by the owner, or past its end
            return accounts.identity(connection, organizer_id, member_id)

    organizer = await run_in_threadpool(load)
    if organizer is None or organizer.session_version != version:
        return None
    return Session(organizer, nonce)


def csrf_token(request: Request) -> str:
    session: Session = request.state.session
    return state_of(request).signer.sign(Purpose.CSRF, session.nonce)


def same_origin(request: Request) -> bool:
    """A browser's Origin (or Referer) must be this site for a state-changing request."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True  # non-browser clients; the CSRF token still applies
    expected = {urlsplit(state_of(request).settings.base_url).netloc, request.url.netloc}
    return urlsplit(source).netloc in expected


def check_csrf(request: Request, form: FormData) -> None:
    session: Session = request.state.session
    token = form.get("csrf")
    try:
        nonce = state_of(request).signer.verify(Purpose.CSRF, str(token or ""))
    except TokenInvalid as exc:
        raise HTTPException(403, "The form has expired; reload the page and try again.") from exc
    if nonce != session.nonce or not same_origin(request):
        raise HTTPException(403, "The form has expired; reload the page and try again.")


async def read_form(request: Request) -> FormData:
    return await request.form(max_files=2, max_fields=300, max_part_size=5 * 1024 * 1024)


Page = Callable[..., Awaitable[Response]]


@overload
def organizer_page(handler: Page) -> Handler: ...


@overload
def organizer_page(*, role: Role | None = None) -> Callable[[Page], Handler]: ...


def organizer_page(
    handler: Page | None = None, *, role: Role | None = None
) -> Handler | Callable[[Page], Handler]:
    """Requires a signed-in organizer whose role allows the page; on POST, parses the form
    and checks its CSRF token.

    Reading needs a viewer and changing an editor, unless ``role`` says otherwise (owners'
    pages). The handler receives ``(request, organizer)`` or, on POST,
    ``(request, organizer, form)``. Used bare (``@organizer_page``) or with ``role=``.
    """

    def decorate(handler: Page) -> Handler:
        @wraps(handler)
        async def guarded(request: Request) -> Response:
            session = await current_session(request)
            if session is None:
                if request.method != "GET" or request.url.path.startswith("/api/"):
                    raise HTTPException(401)
                login = request.url_for("organizer:login").path
                return RedirectResponse(f"{login}?next={quote(request.url.path)}", status_code=303)
            request.state.session = session
            act_as(session.organizer.email)
            needed = role or (Role.VIEWER if request.method in READING else Role.EDITOR)
            if not session.organizer.may(needed):
                raise HTTPException(403, not_allowed(needed).message(language_of(request)))
            if request.method not in READING:
                form = await read_form(request)
                try:
                    check_csrf(request, form)
                    return await handler(request, session.organizer, form)
                finally:
                    await form.close()  # uploaded files are spooled to disk
            return await handler(request, session.organizer)

        return guarded

    return decorate(handler) if handler is not None else decorate
