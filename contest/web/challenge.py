"""The proof of work on the participant forms (contest.botguard, contest.proofofwork): the
challenge the widget fetches, whether a contest's entry form asks for it now, and the check of
what a form sends.

A form whose ``altcha`` field is empty or missing was sent without the widget (no JavaScript,
or the widget's file is not installed): it is taken under a stricter limit per network. A form
whose field holds anything else must hold a valid, fresh, unused solution for that very form,
or it is refused (400) with nothing written.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from contest import botguard
from contest.contests import ContestView
from contest.i18n import N_
from contest.proofofwork import ENTRY, INVITATION, ChallengeFailed, Proof, issue, purpose_of, verify
from contest.transactions import writing
from contest.web.base import now_of, state_of
from contest.web.pages import contest_of

FIELD = "altcha"  # the form field the widget fills with its solution
FAILED = N_(
    "The check that this form was sent by a person did not succeed (it may have expired). "
    "Please send the form again."
)


async def challenge(request: Request) -> Response:
    """A new challenge for the contest's entry form (``?for=invite``: its invitation form)."""
    contest = contest_of(request)
    form = INVITATION if request.query_params.get("for") == INVITATION else ENTRY
    secret = state_of(request).settings.secret_keys[0]
    body = issue(secret, purpose_of(form, contest.id), now_of(request))
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def required(request: Request, contest: ContestView) -> bool:
    """Whether the contest's entry form asks for the proof of work now: the process's copy,
    else read from the database (at most every few seconds per process, as the contest itself
    is) in a thread, since judging it again may wait for the write lock. Kept for the rest of
    the request (:func:`shown`)."""
    kept: bool | None = getattr(request.state, "challenge_required", None)
    if kept is None:
        gate, now = state_of(request).challenges, now_of(request)
        kept = gate.cached(contest.id, now)
        if kept is None:
            kept = await run_in_threadpool(gate.required, contest.id, now)
        request.state.challenge_required = kept
    return kept


def shown(request: Request, contest: ContestView) -> bool:
    """Whether the form being rendered carries the widget: as the handler read it with
    :func:`required`, else read now."""
    kept: bool | None = getattr(request.state, "challenge_required", None)
    if kept is None:
        kept = state_of(request).challenges.required(contest.id, now_of(request))
    return kept


def sent_solution(data: dict[str, list[str]]) -> str:
    """What the form's widget field holds ("" when the widget did not run)."""
    return (data.get(FIELD) or [""])[0].strip()


async def proven(request: Request, contest: ContestView, payload: str, form: str) -> bool:
    """Checks and spends a solution sent with the contest's form ``form``; False (the form
    counted as stopped) when it proves nothing."""
    state, now = state_of(request), now_of(request)
    proof: Proof | None
    try:
        proof = await run_in_threadpool(
            verify, state.settings.secret_keys, payload, purpose_of(form, contest.id), now
        )
    except ChallengeFailed:
        proof = None
    return await run_in_threadpool(
        writing,
        state.engine,
        botguard.admit,
        contest.id,
        proof,
        now,
        invitation=form == INVITATION,
    )
