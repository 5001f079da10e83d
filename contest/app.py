"""``create_app(settings)``: the one route table, the middleware, and the lifespan.

Resources (engine, templates, signer, contest cache, entry writer, mail sender) are created in
the lifespan and handed to handlers through typed state (:class:`AppState`).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from os import PathLike
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from contest.botguard import ChallengeGate
from contest.clock import SYSTEM_CLOCK, Clock
from contest.contests import ContestCache
from contest.funnel import FunnelCounter
from contest.i18n import gettext, pick_language
from contest.mail import start_sender_thread
from contest.outbound import connector_client
from contest.secretbox import SecretBox
from contest.sendingdomains import DnsLookup
from contest.settings import Settings
from contest.storage import busy, create_db_engine, ensure_migrated
from contest.templating import Templates
from contest.tokens import Signer
from contest.web import (
    api,
    embed,
    hooks,
    organizer,
    pages,
    participant,
    sharing,
    unsubscribe,
)
from contest.web.base import AppState, state_of
from contest.web.security import Guard
from contest.worker import build_sender
from contest.writer import EntryWriter

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


class VersionedStatic(StaticFiles):
    """Static files: an address with its content's hash (``?v=``, templating.asset) is kept a
    year without asking again; any other is checked with the server each time."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = b"v=" in scope.get("query_string", b"")
        response.headers["Cache-Control"] = (
            "public, max-age=31536000, immutable" if versioned else "no-cache"
        )
        return response


RETRY_AFTER = 5  # seconds: what a 503 asks the browser (or the API client) to wait


async def healthz(request: Request) -> Response:
    """Answers 200 when the database answers."""
    engine = state_of(request).engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return PlainTextResponse("database unreachable", status_code=503)
    return PlainTextResponse("ok")


def loggable(path: str) -> str:
    """The path with its long segments (signed tokens are capabilities) left out."""
    return "/".join(part if len(part) <= 24 else "…" for part in path.split("/"))


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """A 503 asking to try again in a moment when the database does not answer in time (a lock
    held too long, a deadlock, a lost connection, no free connection): never a stack trace.

    The request's transaction was rolled back with the error, so nothing of it was kept.
    """
    if busy(exc):
        log.warning("%s %s: database busy: %s", request.method, loggable(request.url.path), exc)
    else:
        log.error(
            "%s %s: database unavailable", request.method, loggable(request.url.path), exc_info=exc
        )
    if request.url.path.startswith("/api/"):
        message = "The service is unavailable for a moment. Please try again in a few seconds."
        response: Response = JSONResponse(
            {"error": {"code": "unavailable", "message": message}}, status_code=503
        )
    else:
        language = pick_language(request.query_params.get("lang"), ("fr", "en"), "fr")
        response = pages.message_page(
            request,
            language,
            503,
            gettext(language, "Please try again in a moment"),
            gettext(
                language,
                "The service is unavailable for a moment. Please try again in a few seconds.",
            ),
        )
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    send_mail: bool = True,
    clock: Clock = SYSTEM_CLOCK,
    tune_collector: bool = False,
) -> Starlette:
    """The web app. ``send_mail=False`` leaves the outbox to a separate ``contest worker``;
    ``clock`` is the time every request is judged at (tests hold it still);
    ``tune_collector`` when the process serves this app alone (``contest serve``)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = engine or create_db_engine(settings.database_url.reveal())
        ensure_migrated(db)
        htmx = (STATIC_DIR / "js" / "htmx.min.js").exists()
        altcha = (STATIC_DIR / "js" / "altcha.min.js").exists()  # the proof-of-work widget
        templates = Templates(
            {"htmx_available": htmx, "altcha_available": altcha, "base_url": settings.base_url}
        )
        signer = Signer(settings.secret_keys, clock)
        sender = build_sender(settings, db, templates, signer, clock)
        writer = EntryWriter(db, on_commit=sender.wake.set)
        writer.start()
        funnel = FunnelCounter(db)
        funnel.start()
        app.state.contest = AppState(
            settings=settings,
            engine=db,
            clock=clock,
            templates=templates,
            signer=signer,
            contests=ContestCache(db),
            writer=writer,
            sender=sender,
            funnel=funnel,
            box=SecretBox(settings.secret_keys),
            outbound=connector_client(settings),
            dns=DnsLookup(settings.dns_servers),
            challenges=ChallengeGate(db),
        )
        sending = None
        if send_mail:
            sending = start_sender_thread(sender)
        if tune_collector:
            _tune_collector()
        try:
            yield
        finally:
            writer.stop()
            funnel.stop()
            if sending is not None:
                # Wait for the message being sent to be recorded: uvicorn ends the process
                # right after this, and a message sent but not recorded would be sent again.
                thread, stop = sending
                stop.set()
                sender.wake.set()
                thread.join(timeout=60)
            if engine is None:
                db.dispose()

    routes: list[Any] = [
        Route("/healthz", healthz, name="healthz"),
        Route("/robots.txt", pages.robots, name="robots"),
        Mount("/static", VersionedStatic(directory=STATIC_DIR, check_dir=False), name="static"),
        Mount("/admin", routes=organizer.routes, name="organizer"),
        Mount("/api/v1", routes=api.routes, name="api"),
        Mount("/hooks", routes=hooks.routes, name="hooks"),  # signed, for the mail relay
        Mount(
            "",
            routes=[*participant.routes, *embed.routes, *sharing.routes, *unsubscribe.routes],
            name="participant",
        ),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: pages.http_error,
            404: pages.not_found,
            405: pages.not_allowed,
            OperationalError: database_unavailable,
            PoolTimeout: database_unavailable,
        },
    )
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(
        Guard, base_url=settings.base_url, https=settings.https, retry_after=RETRY_AFTER
    )
    return app


def create_app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` and ``contest serve``."""
    settings = Settings.from_env()
    return create_app(settings, send_mail=settings.app_sends_mail, tune_collector=True)


def _tune_collector() -> None:
    """Tunes the garbage collector of a process serving the app, once started.

    What startup made (modules, templates, routes, caches) lives as long as the process: once
    frozen, the collector's full passes scan only what requests made, instead of stalling every
    request in flight for tens of milliseconds. Collections are rarer too, since a request
    makes many short-lived objects and few cycles (measured by ``make bench``: the p99 of
    entries under load halved)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
