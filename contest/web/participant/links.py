"""The signed links a participant receives: the entry each leads to, and the answer when one
has expired, was cut or changed, or leads to an entry that no longer exists."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from contest.contests import ContestView
from contest.entries import EntryState, find_entry
from contest.i18n import gettext
from contest.tokens import Purpose, TokenExpired, TokenInvalid
from contest.transactions import reading
from contest.web.base import state_of
from contest.web.pages import contest_of, language_of, message_page


async def find(request: Request, contest: ContestView, public_id: str) -> EntryState | None:
    """The entry with this ticket in the contest, unless it is gone (or its person erased)."""
    engine = state_of(request).engine
    return await run_in_threadpool(reading, engine, find_entry, contest, public_id)


async def own_entry(request: Request) -> tuple[ContestView, EntryState] | Response:
    """The entry behind the participant's own link (``/c/{slug}/me/{token}``), or the answer
    to give instead."""
    contest = contest_of(request)
    try:
        public_id = state_of(request).signer.verify(Purpose.ME, request.path_params["token"])
    except TokenInvalid as exc:
        return token_problem(request, contest, exc)
    entry = await find(request, contest, public_id)
    if entry is None:
        return gone(request, contest)
    return contest, entry


def token_problem(request: Request, contest: ContestView, exc: TokenInvalid) -> Response:
    """410 for an expired link (enter again for a new one), 400 for a broken one."""
    language = language_of(request, contest)
    if isinstance(exc, TokenExpired):
        title = gettext(language, "This link has expired")
        text = gettext(
            language,
            "For your security, links are valid for a limited time. Enter again with the same "
            "address to receive a new one.",
        )
        status = 410
    else:
        title = gettext(language, "This link is not valid")
        text = gettext(
            language,
            "The link may have been cut or changed. Copy it again in full from the e-mail.",
        )
        status = 400
    return message_page(request, language, status, title, text, contest)


def gone(request: Request, contest: ContestView) -> Response:
    """404: the entry behind a valid link no longer exists (erased, or never existed)."""
    language = language_of(request, contest)
    return message_page(
        request,
        language,
        404,
        gettext(language, "Entry not found"),
        gettext(language, "This entry no longer exists. You may enter again."),
        contest,
    )
