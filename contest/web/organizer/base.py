"""What every workspace page shares: its language, its frame, the ids in its paths, and running
one domain operation for the signed-in organizer.

Another organizer's contest is a 404 wherever it is looked up, never a 403 that would confirm it
exists: :func:`in_workspace` turns the domain's ContestNotFound into that answer, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import urlencode

from sqlalchemy.engine import Connection
from sqlmodel import Session
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, StreamingResponse

from contest.i18n import gettext
from contest.organizer_contests import ContestNotFound
from contest.web.auth import csrf_token
from contest.web.auth import language_of as language_of  # where pages read it
from contest.web.base import html_page, session_for, state_of
from contest.workspace import OrganizerGone

P = ParamSpec("P")
T = TypeVar("T")

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A workspace page (or fragment), with the signed-in organizer and the form's CSRF token."""
    language = language_of(request)
    session = getattr(request.state, "session", None)
    html = state_of(request).templates.render(
        language,
        template,
        request=request,
        csrf=csrf_token(request) if session else "",
        organizer=session.organizer if session else None,
        **context,
    )
    return html_page(html, status_code)


def not_possible(
    request: Request, text: str, back: str, status_code: int = 409, **context: Any
) -> HTMLResponse:
    """The page that says an action was refused, why, and the way back."""
    title = gettext(language_of(request), "Not possible")
    return page(
        request,
        "organizer/message.html",
        status_code=status_code,
        title=title,
        text=text,
        back=back,
        **context,
    )


def path_id(request: Request, name: str) -> int:
    """A database id from the path; 404 for anything else."""
    try:
        wanted = int(request.path_params[name])
    except ValueError as exc:
        raise HTTPException(404) from exc
    if not 1 <= wanted <= MAX_ID:
        raise HTTPException(404)
    return wanted


async def in_workspace(
    request: Request,
    operation: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Runs one domain operation in a worker thread, in a session of its own. A contest that
    is not the organizer's is a 404; an account deleted meanwhile, a 401."""
    return await _run(request, session_for(request), operation, *args, **kwargs)


async def in_workspace_writing(
    request: Request,
    operation: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """:func:`in_workspace` for a read that writes too (an audited download): its session
    takes the write lock from the start, as a change's does."""
    return await _run(request, session_for(request, writes=True), operation, *args, **kwargs)


async def _run(
    request: Request,
    runner: Callable[..., T],
    operation: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    engine = state_of(request).engine
    try:
        return await run_in_threadpool(runner, engine, operation, *args, **kwargs)
    except ContestNotFound as exc:
        raise HTTPException(404) from exc
    except OrganizerGone as exc:
        raise HTTPException(401) from exc


def csv_response(chunks: Iterator[str], filename: str) -> StreamingResponse:
    """CSV text chunks as a download, read in a worker thread as they are sent."""
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_download(
    request: Request,
    filename: str,
    rows: Callable[Concatenate[Connection, P], Iterator[str]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> StreamingResponse:
    """A CSV export streamed from one connection, held for as long as the download lasts."""
    engine = state_of(request).engine

    def chunks() -> Iterator[str]:
        with engine.connect() as connection:
            yield from rows(connection, *args, **kwargs)

    return csv_response(chunks(), filename)


@dataclass(frozen=True)
class Paging:
    """Where a paged list is, and the query strings of its neighbours (filters kept)."""

    number: int
    count: int
    previous: str | None
    following: str | None


def page_number(text: str | None) -> int:
    """The page asked for in the query string: 1 for anything but a positive number."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 7:
        return 1
    return max(1, int(text))


def pages(number: int, total: int, size: int, filters: dict[str, str]) -> Paging:
    """Page ``number`` of ``total`` items, ``size`` a page; past the end, "previous" leads
    back to the last page."""
    count = max(1, -(-total // size))
    kept = {name: value for name, value in filters.items() if value}

    def query(wanted: int) -> str:
        return "?" + urlencode({**kept, "page": wanted})

    return Paging(
        number,
        count,
        query(min(number - 1, count)) if number > 1 else None,
        query(number + 1) if number < count else None,
    )
