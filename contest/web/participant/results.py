"""After the close: the frozen pool's file, the draw's published record, and a winner's claim."""

from __future__ import annotations

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from contest import instantwin
from contest.contests import ContestView
from contest.draw import poolfile, results
from contest.i18n import gettext
from contest.prizes import claims
from contest.tokens import Purpose, TokenInvalid
from contest.transactions import reading, writing
from contest.web.base import now_of, state_of
from contest.web.pages import contest_of, language_of, render_themed
from contest.web.participant import links


async def draw_record(request: Request) -> Response:
    """The published draw record (JSON, no personal data) for contest verify-draw."""
    contest = contest_of(request)
    engine = state_of(request).engine
    text = await run_in_threadpool(reading, engine, results.record_json, contest.id)
    if text is None:
        raise HTTPException(404)
    return Response(
        text,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="draw-{contest.slug}.json"'},
    )


async def instant_win_record(request: Request) -> Response:
    """An instant-win contest's moments, salt, winners and confirmations, published once it
    has closed (before that the moments could still be won): for contest verify-instant-win."""
    contest = contest_of(request)
    engine = state_of(request).engine
    data = await run_in_threadpool(reading, engine, instantwin.record, contest, now_of(request))
    if data is None:
        raise HTTPException(404)
    return Response(
        instantwin.record_json(data),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="instant-win-{contest.slug}.json"'},
    )


async def draw_pool(request: Request) -> Response:
    """The pool frozen at the close (tickets, weights), published from then on: anyone can
    check their receipt is in it before the draw, and verify the draw against it after."""
    contest = contest_of(request)
    engine = state_of(request).engine
    if not await run_in_threadpool(poolfile.published, engine, contest.id):
        raise HTTPException(404)
    return StreamingResponse(
        iterate_in_threadpool(poolfile.read(engine, contest.id)),
        media_type="text/tab-separated-values; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="pool-{contest.slug}.tsv"'},
    )


async def claim_prize(request: Request) -> Response:
    """A winner's claim page: GET shows the prize, POST claims it and shows the voucher."""
    contest = contest_of(request)
    state = state_of(request)
    try:
        award_id = int(state.signer.verify(Purpose.CLAIM, request.path_params["token"]))
    except (TokenInvalid, ValueError) as exc:
        if isinstance(exc, TokenInvalid):
            return links.token_problem(request, contest, exc)
        raise HTTPException(400) from exc
    award = await run_in_threadpool(reading, state.engine, claims.award, award_id)
    if award is None or award.contest_id != contest.id:
        return links.gone(request, contest)
    too_late = False
    if request.method == "POST":
        now = now_of(request)
        try:
            award = await run_in_threadpool(
                writing, state.engine, claims.claim, award_id, contest, now
            )
        except claims.ClaimRefused:
            too_late = True
        else:
            state.sender.wake.set()
    return _claim_page(request, contest, award, too_late)


def _claim_page(
    request: Request, contest: ContestView, award: claims.AwardView, too_late: bool
) -> Response:
    """The prize and, once claimed, its voucher; 410 when the claim came too late."""
    language = language_of(request, contest)
    error = (
        gettext(
            language,
            "The time to claim this prize is over: as the rules say, it went to the next "
            "person drawn.",
        )
        if too_late
        else None
    )
    return render_themed(
        request,
        language,
        "participant/claim.html",
        status_code=410 if too_late else 200,
        contest=contest,
        award=award,
        error=error,
        action=request.url.path,
    )
