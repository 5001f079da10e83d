"""The participant side's pages: which contest, which language, rendering, error pages.

Shared by every participant-facing module (entering, sharing, unsubscribing, the pop-in), so
that none of them reaches into another's private helpers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Scope

from contest.contests import ContestView
from contest.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    from_accept_language,
    gettext,
    pick_language,
)
from contest.web.base import html_page, state_of
from contest.web.security import content_security_policy

LANG_COOKIE = "lang"
LANG_COOKIE_AGE = 365 * 24 * 3600


def contest_of(request: Request) -> ContestView:
    contest = state_of(request).contests.get(request.path_params["slug"])
    if contest is None:
        raise HTTPException(404)
    return contest


def language_of(request: Request, contest: ContestView, wanted: str | None = None) -> str:
    """The language asked for (link, then form or token), else the one remembered, else the
    one the browser prefers among the contest's, else the contest's own."""
    asked = (request.query_params.get("lang"), wanted, request.cookies.get(LANG_COOKIE))
    chosen = next((language for language in asked if language in contest.languages), None)
    if chosen is None:
        chosen = from_accept_language(request.headers.get("accept-language"), contest.languages)
    return pick_language(chosen, contest.languages, contest.language)


def site_language(request: Request) -> str:
    """The language of a page that belongs to no contest."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked not in LANGUAGES:
        asked = from_accept_language(request.headers.get("accept-language"), LANGUAGES)
    return pick_language(asked, LANGUAGES, DEFAULT_LANGUAGE)


def remember_language(request: Request, response: Response, language: str) -> None:
    """Keeps a language picked with ``?lang=`` (a preference, not personal data): the next
    pages open in it, the confirmation link opened in this browser included."""
    if request.query_params.get("lang") == language != request.cookies.get(LANG_COOKIE):
        response.set_cookie(
            LANG_COOKIE,
            language,
            max_age=LANG_COOKIE_AGE,
            samesite="lax",
            secure=state_of(request).settings.https,
            httponly=True,
        )


def render(
    request: Request,
    language: str,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    if isinstance(context.get("contest"), ContestView):  # its texts in the page's language
        context["contest"] = context["contest"].in_language(language)
    html = state_of(request).templates.render(language, template, request=request, **context)
    response = html_page(html, status_code)
    remember_language(request, response, language)
    return response


def theme_css(contest: ContestView) -> str:
    """The organizer's colours as CSS variables: the text of a themed page's ``<style>``."""
    return f":root {{ --brand: {contest.brand_color}; --accent: {contest.accent_color}; }}"


def render_themed(
    request: Request,
    language: str,
    template: str,
    status_code: int = 200,
    *,
    contest: ContestView,
    frame_ancestors: str = "'none'",
    **context: Any,
) -> HTMLResponse:
    """A page in the contest's colours. They are inlined in the page (a stylesheet of their
    own would hold its first paint back by one more request), and the page's
    Content-Security-Policy allows that one ``<style>`` by the hash of its text."""
    css = theme_css(contest)
    response = render(
        request, language, template, status_code, contest=contest, theme_css=css, **context
    )
    response.headers["Content-Security-Policy"] = content_security_policy(
        frame_ancestors, styles=[css]
    )
    return response


def message_page(
    request: Request,
    language: str,
    status_code: int,
    title: str,
    text: str,
    contest: ContestView | None = None,
) -> HTMLResponse:
    return render(
        request,
        language,
        "participant/message.html",
        status_code=status_code,
        title=title,
        text=text,
        contest=contest,
    )


ROBOTS = """User-agent: *
Allow: /c/
Disallow: /admin/
Disallow: /api/
"""


async def robots(request: Request) -> Response:
    """/robots.txt: contest pages may be indexed, the workspace and the API not. Pages reached
    with a personal token answer ``X-Robots-Tag: noindex`` (contest.web.security)."""
    return PlainTextResponse(ROBOTS, headers={"Cache-Control": "public, max-age=86400"})


async def not_found(request: Request, exc: Exception) -> Response:
    """404; or 405 for a path that exists but answers other methods (a route the catch-all
    participant mount hid from the router's own 405)."""
    allowed = methods_at(request)
    if allowed and request.method not in allowed:
        return _method_not_allowed(request, ", ".join(sorted(allowed)))
    if request.url.path.startswith("/api/"):
        return api_error(404, "not_found", "No such resource.")
    language = site_language(request)
    return message_page(
        request,
        language,
        404,
        gettext(language, "Page not found"),
        gettext(language, "There is no contest at this address. Check the link you followed."),
    )


async def http_error(request: Request, exc: Exception) -> Response:
    """A readable page (or JSON under /api/) for refusals raised as HTTPException."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await not_found(request, exc)
    if request.url.path.startswith("/api/"):
        return api_error(exc.status_code, "http_error", str(exc.detail))
    language = site_language(request)
    titles = {
        400: gettext(language, "The request could not be understood"),
        401: gettext(language, "Please sign in"),
        403: gettext(language, "Not allowed"),
        413: gettext(language, "Too large"),
    }
    title = titles.get(exc.status_code, gettext(language, "Something went wrong"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else ""
    return message_page(request, language, exc.status_code, title, detail)


def api_error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> set[str]:
    """The methods the routes answer at the scope's path, mounted routes included."""
    found: set[str] = set()
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            found |= allowed_methods(route.routes, {**scope, **child})
        elif isinstance(route, Route):
            found |= route.methods or set()
    return found


def methods_at(request: Request) -> set[str]:
    """The methods some route of the app answers at the request's path (its ``Allow``)."""
    scope = {
        "type": "http",
        "method": request.method,
        "path": request.scope["path"],
        "root_path": request.scope.get("app_root_path", ""),
        "path_params": {},
    }
    return allowed_methods(request.app.routes, scope)


async def not_allowed(request: Request, exc: Exception) -> Response:
    """405, with the ``Allow`` header naming every method the path answers (RFC 9110 15.5.6):
    those of every route at that path, not only of the first one found."""
    allowed = methods_at(request)
    given = getattr(exc, "headers", None) or {}
    return _method_not_allowed(request, ", ".join(sorted(allowed)) or given.get("Allow", ""))


def _method_not_allowed(request: Request, allow: str) -> Response:
    if request.url.path.startswith("/api/"):
        response = api_error(405, "method_not_allowed", "Method not allowed.")
    else:
        response = Response("Method not allowed", status_code=405, media_type="text/plain")
    if allow:
        response.headers["Allow"] = allow
    return response
