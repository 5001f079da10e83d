"""Entering a contest and confirming the entry (double opt-in).

The form is checked here as far as the web can (a readable form, from a live page of this
contest, while it is open, well filled, with its proof of work when the contest asks for one:
contest.web.challenge); the entry writer takes it from there. What is not taken comes back as
the form, as typed, with why: 400 (unreadable, an expired page, a proof of work that proves
nothing), 415 (not a form), 403 (closed), 422 (a field), or the refusal's status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contest import botguard
from contest.contests import ContestView
from contest.contests.fields import RANKING
from contest.eligibility import EntryRefused
from contest.entries import (
    CHALLENGE_REQUIRED,
    EntryContext,
    EntryGone,
    EntryLimits,
    EntryOutcome,
    confirm_entry,
)
from contest.forms import (
    CATALOGUE,
    CONTEST_ANSWER,
    TIEBREAKER,
    EntryForm,
    FormErrors,
    parse_entry_form,
)
from contest.i18n import gettext
from contest.models import EntryStatus
from contest.people import mask_email
from contest.proofofwork import ENTRY
from contest.tokens import Purpose, TokenInvalid
from contest.transactions import writing
from contest.web import challenge, sharing
from contest.web.base import (
    client_network,
    html_page,
    is_htmx,
    now_of,
    redirect,
    refusal_status,
    state_of,
)
from contest.web.pages import contest_of, language_of, remember_language, render, render_themed
from contest.web.participant import links
from contest.web.participant.contest_page import form_context, rules_version
from contest.writer import WriterStopped

log = logging.getLogger(__name__)
MAX_FIELDS = 64
URLENCODED = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Typed:
    """The form as the person sent it, to show it again when it is not taken (its fields are
    gathered then, by :func:`_form_again`: most entries are taken)."""

    language: str
    came_from: sharing.Attribution
    data: dict[str, list[str]]


async def enter(request: Request) -> Response:
    """Takes an entry; answers the "check your inbox" step, or the form with its errors."""
    contest = contest_of(request)
    read = await _read(request, contest)
    if isinstance(read, Response):
        return read
    typed, form, context = read
    try:
        outcome = await state_of(request).writer.submit(contest, form, context)
    except EntryRefused as refusal:
        if refusal.code == CHALLENGE_REQUIRED:  # sent without the widget, past the limit
            engine, now = state_of(request).engine, now_of(request)
            await run_in_threadpool(writing, engine, botguard.count_stopped, contest.id, now)
        return _refused(request, contest, typed, refusal)
    except (WriterStopped, OperationalError, PoolTimeout) as exc:  # stopping, or database busy
        log.warning("entry not saved, asked to retry: %s", type(exc).__name__)
        return _not_saved(request, contest, typed, 503)
    except Exception:  # a defect: its stack goes to the log, the person keeps the form
        log.exception("entry not saved")
        return _not_saved(request, contest, typed, 500)
    return _check_inbox(request, contest, typed.language, outcome, form.email)


async def back_to_the_form(request: Request) -> Response:
    """The form's own address opened (an answer with errors reloaded, bookmarked or shared,
    without JavaScript): the contest page, in the language asked for, rather than a 405."""
    contest = contest_of(request)
    url = request.url_for("participant:contest", slug=contest.slug)
    language = request.query_params.get("lang")
    if language:
        url = url.include_query_params(lang=language)
    return RedirectResponse(str(url), status_code=303)


async def entered(request: Request) -> Response:
    """After entering without JavaScript: "check your inbox"."""
    contest = contest_of(request)
    try:
        language, masked = state_of(request).signer.verify(
            Purpose.ENTERED, request.query_params.get("t", "")
        )
    except (TokenInvalid, ValueError):
        return RedirectResponse(
            str(request.url_for("participant:contest", slug=contest.slug)), status_code=303
        )
    return render(
        request,
        language_of(request, contest, language),
        "participant/entered.html",
        contest=contest,
        masked=masked,
    )


async def confirm(request: Request) -> Response:
    """GET shows a button (mail scanners follow links); POST confirms and leads to the own page."""
    contest = contest_of(request)
    state = state_of(request)
    try:
        public_id = state.signer.verify(Purpose.CONFIRM, request.path_params["token"])
    except TokenInvalid as exc:
        return links.token_problem(request, contest, exc)
    if request.method == "GET":
        return await _confirm_button(request, contest, public_id)
    try:
        await run_in_threadpool(
            writing, state.engine, confirm_entry, contest, public_id, now_of(request)
        )
    except EntryGone:
        return links.gone(request, contest)
    return _to_own_page(request, contest, public_id)


async def urlencoded(request: Request) -> dict[str, list[str]] | None:
    """The form's fields, or None when the body is not a readable urlencoded form."""
    if _content_type(request) != URLENCODED:
        return None
    try:
        pairs = parse_qsl(
            (await request.body()).decode("utf-8", errors="strict"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError):
        return None
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def field_value(data: dict[str, list[str]], name: str) -> str:
    """The first value of a form field, or ""."""
    return (data.get(name) or [""])[0]


def entry_context(
    request: Request,
    contest: ContestView,
    language: str,
    *,
    referrer_code: str | None = None,
    source: str = "direct",
) -> EntryContext:
    """What the entry records of the request: when, where from, in which language."""
    settings = state_of(request).settings
    return EntryContext(
        now=now_of(request),
        language=language,
        rules_version=rules_version(contest),
        page_url=f"{settings.base_url}/c/{contest.slug}",  # the public address, as shown
        source=source,
        ip_truncated=client_network(request),
        user_agent=request.headers.get("user-agent", "")[:300],
        referrer_code=referrer_code,
        limits=EntryLimits(settings.entry_limit_per_network, settings.entry_limit_per_address),
    )


# --- Reading the form ------------------------------------------------------------------------


async def _read(
    request: Request, contest: ContestView
) -> tuple[Typed, EntryForm, EntryContext] | Response:
    """The entry as the writer takes it, or the form again saying what is wrong."""
    data = await urlencoded(request)
    if data is None:
        return _unreadable(request, contest)
    typed = _typed(request, contest, data)
    if not _from_this_page(request, contest, data):
        expired = gettext(
            typed.language, "This form has expired. Please check your answers and send it again."
        )
        return _form_again(request, contest, typed, 400, form_error=expired)
    if contest.phase(now_of(request)) != "open":
        return _form_again(request, contest, typed, 403)
    try:
        form = parse_entry_form(
            data,
            contest.form_fields,
            [c.purpose for c in contest.consents],
            state=contest.asks_state,
            questions=contest.questions,
            knowledge=contest.question_choices if contest.question else (),
            tiebreaker=contest.game == RANKING,
        )
    except FormErrors as problems:
        errors = {
            name: gettext(typed.language, message, **params)
            for name, (message, params) in problems.errors.items()
        }
        return _form_again(request, contest, typed, 422, errors=errors)
    context = entry_context(
        request,
        contest,
        typed.language,
        referrer_code=sharing.referral_code(request, contest, typed.came_from.ref),
        source=sharing.source_of(request, contest, typed.came_from.src, None),
    )
    if await challenge.required(request, contest):
        payload = challenge.sent_solution(data)
        if not payload:  # the widget did not run: taken under the stricter limit
            limits = replace(context.limits, unproven_per_network=botguard.UNPROVEN_PER_NETWORK)
            context = replace(context, limits=limits)
        elif not await challenge.proven(request, contest, payload, ENTRY):
            failed = gettext(typed.language, challenge.FAILED)
            return _form_again(request, contest, typed, 400, form_error=failed)
    return typed, form, context


def _typed(request: Request, contest: ContestView, data: dict[str, list[str]]) -> Typed:
    return Typed(
        language=language_of(request, contest, field_value(data, "lang")),
        came_from=sharing.Attribution(
            ref=field_value(data, "ref")[:300], src=field_value(data, "src")[:300]
        ),
        data=data,
    )


def _from_this_page(request: Request, contest: ContestView, data: dict[str, list[str]]) -> bool:
    """Whether the form carries this contest's signed form token, still valid."""
    try:
        slug = state_of(request).signer.verify(Purpose.FORM, field_value(data, "form_token"))
    except TokenInvalid:
        return False
    return bool(slug == contest.slug)


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


# --- Answering -------------------------------------------------------------------------------


def _check_inbox(
    request: Request, contest: ContestView, language: str, outcome: EntryOutcome, email: str
) -> Response:
    """The "check your inbox" fragment for htmx, else a redirect to its page (POST/redirect/GET).

    The same answer whatever the attempt did (a new entry, an address that had entered, a
    non-client on a client-only contest): the e-mail tells the truth, so that no stranger
    learns from the page whether an address is a client or a participant."""
    masked = mask_email(email)
    if is_htmx(request):
        templates = state_of(request).templates
        html = templates.render_filled(language, "participant/_entered.html", "masked", masked)
        response = html_page(html)
        remember_language(request, response, language)
        return response
    # Only the masked address, to spot a typo (a***@exmaple.org): never the address itself.
    token = state_of(request).signer.sign(Purpose.ENTERED, [language, masked])
    url = request.url_for("participant:entered", slug=contest.slug).include_query_params(t=token)
    return RedirectResponse(str(url), status_code=303)


def _refused(
    request: Request, contest: ContestView, typed: Typed, refusal: EntryRefused
) -> Response:
    """The form again with the refusal beside its field (or above the form), its status, and
    ``Retry-After`` when waiting helps."""
    message = refusal.message(typed.language)
    response = _form_again(
        request,
        contest,
        typed,
        refusal_status(refusal),
        errors={refusal.field: message} if refusal.field != "form" else {},
        form_error=message if refusal.field == "form" else None,
        refused_rule=refusal.rule_id,
    )
    if refusal.retry_after is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _not_saved(request: Request, contest: ContestView, typed: Typed, status: int) -> Response:
    """The form again, as typed, saying that nothing was recorded and to send it again."""
    text = gettext(
        typed.language,
        "We could not save your entry just now; nothing was recorded. "
        "Please send the form again in a moment.",
    )
    return _form_again(request, contest, typed, status, form_error=text)


def _unreadable(request: Request, contest: ContestView) -> Response:
    """415 for a body that is not a form, 400 for a form that cannot be read."""
    language = language_of(request, contest)
    status = 400 if _content_type(request) == URLENCODED else 415
    text = gettext(language, "The form could not be read. Please try again.")
    return _form_response(request, contest, language, status, form_error=text)


def _form_again(
    request: Request, contest: ContestView, typed: Typed, status: int, **form: Any
) -> Response:
    data = typed.data
    # A question's answers, one per line (check boxes send several), to tick them again.
    answered = {
        q.field_name: "\n".join(data.get(q.field_name, ()))[:500] for q in contest.questions
    }
    values = {
        k: v[0][:300]
        for k, v in data.items()
        if k in CATALOGUE or k in ("email", CONTEST_ANSWER, TIEBREAKER)
    }
    return _form_response(
        request,
        contest,
        typed.language,
        status,
        values=values | answered,
        ticked=frozenset(k.removeprefix("consent_") for k in data if k.startswith("consent_")),
        came_from=typed.came_from,
        **form,
    )


def _form_response(
    request: Request, contest: ContestView, language: str, status: int, **form: Any
) -> Response:
    """The form alone for htmx (it swaps it in place), else the whole contest page."""
    context = form_context(request, contest, language, **form)
    if is_htmx(request):
        return render(request, language, "participant/_form.html", status, **context)
    return render_themed(request, language, "participant/contest.html", status, **context)


async def _confirm_button(request: Request, contest: ContestView, public_id: str) -> Response:
    """The confirmation page with its button; an entry already confirmed goes to its page."""
    entry = await links.find(request, contest, public_id)
    if entry is None:
        return links.gone(request, contest)
    if entry.status == EntryStatus.CONFIRMED:
        return _to_own_page(request, contest, public_id)
    return render(
        request,
        language_of(request, contest),
        "participant/confirm.html",
        contest=contest,
        masked=mask_email(entry.email),
        action=request.url.path,
    )


def _to_own_page(request: Request, contest: ContestView, public_id: str) -> Response:
    token = state_of(request).signer.sign(Purpose.ME, public_id)
    return redirect(request, "participant:me", slug=contest.slug, token=token)
