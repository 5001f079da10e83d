"""The capture pop-in for the organizer's shop: a loader script and the page it frames.

The shop pastes ``<script src="{base_url}/embed/{slug}.js" async></script>``. Unless the
visitor lately said "not now" or entered through the pop-in, the loader adds a hidden frame of
``/embed/{slug}`` and shows it as a dialog when the frame asks. Those two facts are kept in the
shop's own storage by the loader, since a frame of another site may get no storage at all
(browsers blocking third-party storage, Chromium among them); an entry made on the contest
page itself is therefore unknown to the pop-in. Nothing is requested from anyone but this
server, and a client-only contest is never advertised (FR-CLIENTS-2).

Framing is allowed by the frame's own ``Content-Security-Policy: frame-ancestors`` listing the
contest's well-formed ``embed_origins``. The ``X-Frame-Options: DENY`` the security middleware
adds stays: browsers ignore it when ``frame-ancestors`` is present, and the older ones that do
not know ``frame-ancestors`` show no pop-in rather than one any site could frame.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contest.tokens import Purpose
from contest.web import challenge, sharing
from contest.web.base import state_of
from contest.web.pages import contest_of, language_of, render_themed
from contest.web.participant import form_context

if TYPE_CHECKING:
    from contest.contests import ContestView

LOADER = Path(__file__).resolve().parents[2] / "static" / "js" / "popin.js"
MAX_ORIGINS = 20
SOURCE = "popin"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
ORIGIN = re.compile(
    rf"^(?:https://{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?"
    r"|http://(?:localhost|127\.0\.0\.1):[0-9]{1,5})$"
)


def frame_origins(origins: Iterable[str]) -> tuple[str, ...]:
    """The shop origins allowed to frame the pop-in, in order and without repeats.

    Only ``https://host[:port]`` (or, to try it out, ``http://localhost:port`` and
    ``http://127.0.0.1:port``) is kept: anything else (a path, a wildcard, a quote, plain
    http on the internet) is ignored, since it would widen or break the policy it goes into.
    """
    kept: list[str] = []
    for raw in origins:
        if not isinstance(raw, str):
            continue
        origin = raw.strip().lower().removesuffix("/")
        if not ORIGIN.match(origin) or origin in kept:
            continue
        port = origin.rpartition(":")[2]
        if port.isdigit() and not 0 < int(port) < 65536:
            continue
        kept.append(origin)
    return tuple(kept[:MAX_ORIGINS])


def _embeddable(request: Request) -> ContestView:
    """The contest of the URL, or 404 when it is unknown or reserved to clients."""
    contest = contest_of(request)
    if contest.clients_only:
        raise HTTPException(404)
    return contest


@cache
def _loader_code() -> bytes:
    return LOADER.read_bytes()


async def loader(request: Request) -> Response:
    """The script a shop pastes; the same code for every contest (it reads the slug in its URL)."""
    _embeddable(request)
    return Response(
        _loader_code(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


async def frame(request: Request) -> Response:
    """The invitation the loader frames: teaser, the entry form and "Not now"."""
    contest = _embeddable(request)
    state = state_of(request)
    language = language_of(request, contest)
    source = state.signer.sign(Purpose.SOURCE, SOURCE)
    await challenge.required(request, contest)  # read off the event loop, for the form
    context = form_context(request, contest, language, came_from=sharing.Attribution(src=source))
    origins = frame_origins(contest.embed_origins)
    delay_hours = max(1, contest.popin_delay_hours)
    return render_themed(
        request,
        language,
        "participant/embed.html",
        frame_ancestors=" ".join(origins) if origins else "'none'",
        **context,
        origins=origins,
        delay_hours=delay_hours,
        source=source,
    )


routes = [
    Route("/embed/{slug}.js", loader, name="embed_loader", methods=["GET"]),
    Route("/embed/{slug}", frame, name="embed", methods=["GET"]),
]
