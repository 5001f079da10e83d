"""What every web module shares: the app's state, the clock, the htmx contract, the client.

Written once so that the participant pages, the workspace and the API answer alike: one
``Vary``, one way to redirect an htmx request, one reading of the client's network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from contest.botguard import ChallengeGate
from contest.clock import Clock
from contest.contests import ContestCache
from contest.eligibility import RATE_LIMITED, RULE_REFUSED
from contest.entries import CHALLENGE_REQUIRED
from contest.funnel import FunnelCounter
from contest.leads.subscriptions import PreferenceLinks
from contest.mail import Sender
from contest.secretbox import SecretBox
from contest.sendingdomains import TxtLookup
from contest.settings import Settings
from contest.templating import Templates
from contest.tokens import Signer
from contest.transactions import in_session, in_write_session
from contest.web.security import network_of
from contest.writer import EntryWriter
from rules import Refusal


@dataclass
class AppState:
    """The resources made in the lifespan, handed to every handler."""

    settings: Settings
    engine: Engine
    clock: Clock
    templates: Templates
    signer: Signer
    contests: ContestCache
    writer: EntryWriter
    sender: Sender
    funnel: FunnelCounter
    box: SecretBox  # seals and opens the connections' secrets
    outbound: Callable[[], httpx.Client]  # for calls to shops, CRMs and webhooks
    dns: TxtLookup  # reads sending domains' records (contest.sendingdomains)
    challenges: ChallengeGate  # whether a contest's forms ask for a proof of work now


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.contest
    return state


def preference_links(request: Request) -> PreferenceLinks:
    """Signs each exported person's preferences link with the app's keys and address."""
    state = state_of(request)
    return PreferenceLinks(state.signer, state.settings.base_url)


def now_of(request: Request) -> datetime:
    """The app's clock: every deadline, expiry and window of a request is judged at this time."""
    return state_of(request).clock.now()


def session_for(request: Request, *, writes: bool = False) -> Callable[..., Any]:
    """How a handler's domain operation gets its session: one that takes the write lock from
    the start for a request that changes something, or for a read that ``writes`` (an audited
    download), so that concurrent writes queue instead of failing on SQLite; a plain one for a
    read."""
    reads_only = request.method in ("GET", "HEAD") and not writes
    return in_session if reads_only else in_write_session


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def html_page(html: str, status_code: int = 200) -> HTMLResponse:
    """A page or an htmx fragment: the same URL answers both (``HX-Request``), and both depend
    on cookies (the language, the session), so neither may be cached or served for the other."""
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
    response.headers["Cache-Control"] = "no-store"
    return response


# A short-lived cookie naming what the last form did, for the page it leads to to say so.
DONE_COOKIE = "done"


def redirect(request: Request, name: str, *, done: str | None = None, **params: Any) -> Response:
    """After a successful form: a 303, or for htmx an ``HX-Redirect`` it follows itself;
    ``done`` names what was done, for the next page to say (:func:`take_done`)."""
    url = request.url_for(name, **params).path
    response: Response
    if is_htmx(request):
        response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if done is not None:
        response.set_cookie(
            DONE_COOKIE,
            done,
            max_age=60,
            path=url,
            httponly=True,
            samesite="strict",
            secure=state_of(request).settings.https,
        )
    return response


def take_done(request: Request, response: Response) -> None:
    """Forgets the ``done`` cookie once its page has said it."""
    if DONE_COOKIE in request.cookies:
        response.delete_cookie(DONE_COOKIE, path=request.url.path)


def client_network(request: Request) -> str:
    """The client's network (/24 for IPv4, /48 for IPv6): rate limits and fraud signals key on
    it, never on the full address. Empty when the address is not an IP address."""
    return network_of(request.client.host if request.client else "")


# The HTTP status of each refusal code; any other refusal conflicts with the current state.
REFUSAL_STATUS = {
    RATE_LIMITED: 429,
    CHALLENGE_REQUIRED: 429,
    RULE_REFUSED: 403,
    "forbidden": 403,
    "not_found": 404,
}


def refusal_status(refusal: Refusal) -> int:
    """Where a domain refusal becomes an HTTP status: here, once, for pages and the API."""
    return REFUSAL_STATUS.get(refusal.code, 409)


def refusal_json(refusal: Refusal) -> JSONResponse:
    """A domain refusal as the API answers it: its code, both messages, its rule."""
    body = {
        "code": refusal.code,
        "message": refusal.message_en,
        "message_fr": refusal.message_fr,
        "rule_id": refusal.rule_id,
    }
    return JSONResponse({"error": body}, status_code=refusal_status(refusal))
