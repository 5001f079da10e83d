"""Signing in and out of the workspace, its language, and a forgotten password."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from contest import accounts
from contest.i18n import gettext
from contest.passwords import WeakPassword
from contest.roles import Role
from contest.tokens import Purpose, TokenInvalid
from contest.transactions import writing
from contest.web.auth import (
    LANG_COOKIE,
    LANGUAGES,
    current_session,
    end_session,
    organizer_page,
    read_form,
    same_origin,
    start_session,
)
from contest.web.base import client_network, now_of, state_of
from contest.web.organizer.base import language_of, page

WORKSPACE = "/admin/"


async def login(request: Request) -> Response:
    """The sign-in form; POST signs in (throttled) and goes to the workspace."""
    language = language_of(request)
    next_path = request.query_params.get("next", "")
    if not next_path.startswith(WORKSPACE) or next_path.startswith("//"):
        next_path = WORKSPACE
    if request.method == "GET":
        if await current_session(request) is not None:
            return RedirectResponse(next_path, status_code=303)
        return _login_form(request, next_path)
    form = await read_form(request)
    email = str(form.get("email") or "")[:254]
    if not _login_token_valid(request, form) or not same_origin(request):
        expired = gettext(language, "The form has expired. Please sign in again.")
        return _login_form(request, next_path, email, expired, 400)
    password, network = str(form.get("password") or ""), client_network(request)
    engine, now = state_of(request).engine, now_of(request)
    outcome = await run_in_threadpool(
        writing, engine, accounts.sign_in, email, password, network, now, key=_address_key(request)
    )
    if isinstance(outcome, accounts.LoginRefused):
        return _login_form(request, next_path, email, *_refusal(outcome, language))
    response = RedirectResponse(next_path, status_code=303)
    await start_session(request, response, outcome)
    return response


def _address_key(request: Request) -> bytes:
    """The key that names addresses in the sign-in and reset buckets (accounts.address_tag)."""
    return state_of(request).settings.secret_keys[0].reveal().encode()


def _login_token_valid(request: Request, form: FormData) -> bool:
    try:
        state_of(request).signer.verify(Purpose.LOGIN_FORM, str(form.get("token") or ""))
    except TokenInvalid:
        return False
    return True


def _refusal(refused: accounts.LoginRefused, language: str) -> tuple[str, int]:
    """What the sign-in form says of a refusal, and its status."""
    if not refused.throttled:
        return gettext(language, "Wrong e-mail address or password."), 401
    minutes = max(-(-refused.retry_after // 60), 1)  # rounded up: never too early
    text = gettext(
        language,
        "Too many attempts. Try again in %(minutes)s minutes, or reset your password.",
        minutes=minutes,
    )
    return text, 429


def _login_form(
    request: Request,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "organizer/login.html",
        status_code=status_code,
        token=state_of(request).signer.sign(Purpose.LOGIN_FORM, "login"),
        email=email,
        error=error,
        next=next_path,
    )


@organizer_page(role=Role.VIEWER)
async def logout(
    request: Request, organizer: accounts.OrganizerIdentity, form: FormData
) -> Response:
    """Signs out."""
    response = RedirectResponse(request.url_for("organizer:login").path, status_code=303)
    await end_session(request, response)
    return response


DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """The origin of an absolute URL (scheme, host, port; the port written or the scheme's
    default), or None for anything else: a relative URL, credentials, a port that is no port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc or not port:
        return None
    return scheme, parts.hostname, port


def _same_site_path(request: Request, base_url: str) -> str:
    """The page the organizer came from, as a path of this site; the workspace otherwise.

    The ``Referer`` is followed only when its origin is exactly the app's (scheme, host and
    port: a lookalike name, another port, credentials in the address are not), and only to a
    path that a browser cannot read as another site's address (``//host``, ``/\\host``)."""
    referer = request.headers.get("referer", "")
    ours = _origin(base_url)
    if ours is None or _origin(referer) != ours:
        return WORKSPACE
    came_from = urlsplit(referer)
    path = came_from.path
    if path[:1] != "/" or path[:2] == "//" or any(c == "\\" or not c.isprintable() for c in path):
        return WORKSPACE
    return path + (f"?{came_from.query}" if came_from.query else "")


async def set_language(request: Request) -> Response:
    """Remembers the workspace language and goes back."""
    settings = state_of(request).settings
    language = request.path_params["language"]
    response = RedirectResponse(_same_site_path(request, settings.base_url), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            samesite="lax",
            httponly=True,
            secure=settings.https,
        )
    return response


async def password_reset_request(request: Request) -> Response:
    """Asks for a reset link; answers the same whether the account exists or not."""
    state = state_of(request)
    if request.method == "GET":
        return page(request, "organizer/reset_request.html", sent=False)
    form = await read_form(request)
    email = str(form.get("email") or "")[:254]
    if same_origin(request):
        now = now_of(request)
        await run_in_threadpool(
            writing,
            state.engine,
            accounts.request_password_reset,
            email,
            now,
            language_of(request),
            key=_address_key(request),
        )
        state.sender.wake.set()
    return page(request, "organizer/reset_request.html", sent=True)


async def password_reset(request: Request) -> Response:
    """Chooses a new password from a signed, one-time, one-hour link."""
    state = state_of(request)
    language = language_of(request)
    try:
        organizer_id, version, *member = state.signer.verify(
            Purpose.RESET, request.path_params["token"]
        )
    except (TokenInvalid, ValueError, TypeError):
        return _link_not_valid(request)
    member_id = int(member[0]) if member and member[0] else None
    if request.method == "GET":
        return page(request, "organizer/reset_form.html", error=None)
    form = await read_form(request)
    password = str(form.get("password") or "")
    if password != str(form.get("password2") or ""):
        error = gettext(language, "The two passwords differ.")
        return page(request, "organizer/reset_form.html", status_code=422, error=error)
    change = accounts.reset_password
    try:
        await run_in_threadpool(
            writing,
            state.engine,
            change,
            organizer_id,
            version,
            password,
            now_of(request),
            member_id=member_id,
            key=_address_key(request),
        )
    except WeakPassword:
        error = gettext(language, "Choose a password of at least 10 characters.")
        return page(request, "organizer/reset_form.html", status_code=422, error=error)
    except accounts.ResetRefused:
        return _link_not_valid(request)
    return RedirectResponse(request.url_for("organizer:login").path, status_code=303)


def _link_not_valid(request: Request) -> HTMLResponse:
    language = language_of(request)
    return page(
        request,
        "organizer/message.html",
        status_code=400,
        title=gettext(language, "This link is not valid"),
        text=gettext(language, "Ask for a new link: reset links work once, for an hour."),
    )
