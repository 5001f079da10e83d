"""Participant pages: the contest page, entering, confirming, the participant's own page.

One htmx contract: a request with ``HX-Request`` gets a fragment, any other the full page; an
invalid form comes back with 422 (400 for a broken request) and its messages beside the
fields; success is a redirect (POST/redirect/GET) or, for htmx, the "check your inbox"
fragment. Answers that depend on ``HX-Request`` say so with ``Vary``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from contest import media
from contest.contests import ContestView
from contest.draw import drawing, poolfile
from contest.draw.drawing import receipt_of
from contest.eligibility import EntryRefused
from contest.entries import (
    EntryContext,
    EntryGone,
    EntryLimits,
    EntryState,
    confirm_entry,
    find_entry,
)
from contest.forms import CATALOGUE, EMAIL, FormErrors, parse_entry_form
from contest.i18n import gettext
from contest.leads import crm, privacy, prospects
from contest.models import EntryStatus
from contest.officialrules import official_rules, rules_version
from contest.people import email_key, mask_email
from contest.prizes import claims
from contest.storage import write_options
from contest.tokens import Purpose, TokenExpired, TokenInvalid
from contest.web import sharing
from contest.web.base import AppState, client_network, is_htmx, now_of, refusal_status, state_of
from contest.web.pages import (
    contest_of,
    language_of,
    message_page,
    render,
)
from contest.writer import WriterStopped
from rules import PROSPECT_SENTENCE_EN, PROSPECT_SENTENCE_FR, client_only_notice
from viral import referrals
from viral import stats as viral_stats

log = logging.getLogger(__name__)
MAX_FIELDS = 64


@lru_cache(maxsize=512)
def _rules_version(contest: ContestView) -> str:
    return rules_version(contest)


def form_context(
    request: Request,
    contest: ContestView,
    language: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    ticked: frozenset[str] = frozenset(),
    refused_rule: str | None = None,
    refused_email: str | None = None,
    came_from: sharing.Attribution | None = None,
) -> dict[str, Any]:
    state = state_of(request)
    return {
        "came_from": came_from or sharing.Attribution(),
        "contest": contest,
        "fields": [CATALOGUE[name] for name in contest.form_fields if name in CATALOGUE],
        "email_field": EMAIL,
        "values": values or {},
        "errors": errors or {},
        "form_error": form_error,
        "ticked": ticked,
        "form_token": state.signer.sign(Purpose.FORM, contest.slug),
        "audience_notice": (
            client_only_notice(contest.client_cutoff_at, language)
            if contest.clients_only and contest.client_cutoff_at
            else None
        ),
        "prospect_sentence": PROSPECT_SENTENCE_FR if language == "fr" else PROSPECT_SENTENCE_EN,
        "refused_rule": refused_rule,
        "preview": False,
        "interest_token": (
            state.signer.sign(Purpose.INTEREST, [contest.slug, refused_email])
            if refused_rule == "FR-CLIENTS-1" and refused_email
            else None
        ),
        "interest_wording": gettext(language, prospects.WORDING),
        "phase": contest.phase(now_of(request)),
        "action": request.url_for("participant:enter", slug=contest.slug).path,
    }


def preview(request: Request, contest: ContestView) -> Response:
    """The contest page as participants will see it, for the organizer (the form is inert)."""
    language = language_of(request, contest)
    context = form_context(request, contest, language)
    context["phase"] = "open" if context["phase"] == "upcoming" else context["phase"]
    context["action"] = "#"
    context["preview"] = True
    return render(request, language, "participant/contest.html", leaders=(), **context)


async def theme(request: Request) -> Response:
    """The organizer's colours as CSS variables (a file, since inline styles are not allowed)."""
    contest = contest_of(request)
    css = f":root {{ --brand: {contest.brand_color}; --accent: {contest.accent_color}; }}\n"
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})


async def media_file(request: Request) -> Response:
    """An uploaded contest image or logo."""

    folder = state_of(request).settings.upload_dir
    path = media.path_of(request.path_params["name"], folder)
    if path is None:
        raise HTTPException(404)
    kind = media.TYPES[path.suffix.removeprefix(".")]
    return FileResponse(
        path, media_type=kind, headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )


async def contest_page(request: Request) -> Response:
    """The contest page with its entry form."""
    contest = contest_of(request)
    language = language_of(request, contest)
    _count(request, contest, "page_view")
    came_from = await sharing.attribution(request, contest)
    leaders: tuple[Any, ...] = ()
    if contest.leaderboard and contest.referral_bonus > 0 and not contest.clients_only:
        state = state_of(request)

        def top() -> tuple[Any, ...]:
            with state.engine.connect() as connection:
                return viral_stats.leaderboard(connection, contest.id, limit=5)

        leaders = await run_in_threadpool(top)
    return render(
        request,
        language,
        "participant/contest.html",
        leaders=leaders,
        result=await _draw_result(state_of(request), contest),
        **form_context(request, contest, language, came_from=came_from),
    )


def _count(request: Request, contest: ContestView, metric: str) -> None:
    day = now_of(request).astimezone(ZoneInfo(contest.timezone)).date()
    state_of(request).funnel.add(contest.id, day, metric)


async def form_started(request: Request) -> Response:
    """Counts a form start (sent once by htmx when the form first gets focus)."""
    contest = contest_of(request)
    _count(request, contest, "form_start")
    return Response(status_code=204)


async def enter(request: Request) -> Response:
    """Takes an entry; answers the "check your inbox" step, or the form with its errors."""
    contest = contest_of(request)
    language = language_of(request, contest)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data = await _urlencoded(request)
    if data is None:
        return _form_response(
            request,
            contest,
            language,
            415 if content_type != "application/x-www-form-urlencoded" else 400,
            form_error=gettext(language, "The form could not be read. Please try again."),
        )
    language = language_of(request, contest, (data.get("lang") or [""])[0])
    values = {k: v[0][:300] for k, v in data.items() if k in CATALOGUE or k == "email"}
    came_from = sharing.Attribution(
        ref=(data.get("ref") or [""])[0][:300], src=(data.get("src") or [""])[0][:300]
    )
    ticked = frozenset(k.removeprefix("consent_") for k in data if k.startswith("consent_"))

    state = state_of(request)
    try:
        token_slug = state.signer.verify(Purpose.FORM, (data.get("form_token") or [""])[0])
    except TokenInvalid:
        token_slug = None
    if token_slug != contest.slug:
        return _form_response(
            request,
            contest,
            language,
            400,
            came_from=came_from,
            values=values,
            ticked=ticked,
            form_error=gettext(
                language, "This form has expired. Please check your answers and send it again."
            ),
        )

    if contest.phase(now_of(request)) != "open":
        return _form_response(
            request, contest, language, 403, values=values, ticked=ticked, came_from=came_from
        )

    try:
        form = parse_entry_form(data, contest.form_fields, [c.purpose for c in contest.consents])
    except FormErrors as problems:
        errors = {
            name: gettext(language, message, **params)
            for name, (message, params) in problems.errors.items()
        }
        return _form_response(
            request,
            contest,
            language,
            422,
            values=values,
            errors=errors,
            ticked=ticked,
            came_from=came_from,
        )

    context = replace(
        _entry_context(request, contest, language),
        referrer_code=sharing.referral_code(request, contest, came_from.ref),
        source=sharing.source_of(request, contest, came_from.src, None),
    )
    try:
        outcome = await state.writer.submit(contest, form, context)
    except EntryRefused as refusal:
        errors = {refusal.field: refusal.message(language)}
        response = _form_response(
            request,
            contest,
            language,
            refusal_status(refusal),
            came_from=came_from,
            values=values,
            errors=errors if refusal.field != "form" else {},
            form_error=refusal.message(language) if refusal.field == "form" else None,
            ticked=ticked,
            refused_rule=refusal.rule_id,
            refused_email=form.email,
        )
        if refusal.retry_after is not None:
            response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    except (WriterStopped, OperationalError, PoolTimeout) as exc:  # stopping, or database busy
        log.warning("entry not saved, asked to retry: %s", type(exc).__name__)
        return _not_saved(request, contest, language, 503, came_from, values, ticked)
    except Exception:  # a defect: its stack goes to the log, the person keeps the form
        log.exception("entry not saved")
        return _not_saved(request, contest, language, 500, came_from, values, ticked)

    kind = "new" if outcome.created else ("confirmed" if outcome.confirmed else "again")
    if is_htmx(request):
        return render(
            request,
            language,
            "participant/_entered.html",
            contest=contest,
            kind=kind,
            masked=mask_email(form.email),
        )
    token = state.signer.sign(Purpose.ENTERED, [outcome.entry_public_id, kind, language])
    url = request.url_for("participant:entered", slug=contest.slug).include_query_params(t=token)
    return RedirectResponse(str(url), status_code=303)


def _not_saved(
    request: Request,
    contest: ContestView,
    language: str,
    status: int,
    came_from: sharing.Attribution,
    values: dict[str, str],
    ticked: frozenset[str],
) -> Response:
    """The form again, as typed, saying that nothing was recorded and to send it again."""
    return _form_response(
        request,
        contest,
        language,
        status,
        came_from=came_from,
        values=values,
        ticked=ticked,
        form_error=gettext(
            language,
            "We could not save your entry just now; nothing was recorded. "
            "Please send the form again in a moment.",
        ),
    )


def _form_response(
    request: Request,
    contest: ContestView,
    language: str,
    status_code: int,
    **form: Any,
) -> Response:
    context = form_context(request, contest, language, **form)
    template = "participant/_form.html" if is_htmx(request) else "participant/contest.html"
    return render(request, language, template, status_code=status_code, **context)


async def entered(request: Request) -> Response:
    """After entering without JavaScript: "check your inbox"."""
    contest = contest_of(request)
    state = state_of(request)
    try:
        public_id, kind, language = state.signer.verify(
            Purpose.ENTERED, request.query_params.get("t", "")
        )
    except (TokenInvalid, ValueError):
        return RedirectResponse(
            str(request.url_for("participant:contest", slug=contest.slug)), status_code=303
        )
    entry = await _find(state, contest, public_id)
    masked = mask_email(entry.email) if entry else ""
    return render(
        request,
        language_of(request, contest, language),
        "participant/entered.html",
        contest=contest,
        kind=kind,
        masked=masked,
    )


def confirmed_entry(entry: EntryState) -> bool:
    return entry.status == EntryStatus.CONFIRMED


def drawing_receipt(public_id: str, chances: int) -> str:

    return receipt_of(public_id, chances)


async def _find(state: AppState, contest: ContestView, public_id: str) -> EntryState | None:
    def read() -> EntryState | None:
        with state.engine.connect() as connection:
            return find_entry(connection, contest, public_id)

    return await run_in_threadpool(read)


def _token_problem(request: Request, contest: ContestView, exc: TokenInvalid) -> Response:
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


async def confirm(request: Request) -> Response:
    """GET shows a button (mail scanners follow links); POST confirms and leads to the own page."""
    contest = contest_of(request)
    state = state_of(request)
    token = request.path_params["token"]
    try:
        public_id = state.signer.verify(Purpose.CONFIRM, token)
    except TokenInvalid as exc:
        return _token_problem(request, contest, exc)
    if request.method == "GET":
        entry = await _find(state, contest, public_id)
        if entry is None:
            return _gone(request, contest)
        language = language_of(request, contest)
        if entry.status == EntryStatus.CONFIRMED:
            return _to_own_page(request, contest, public_id)
        return render(
            request,
            language,
            "participant/confirm.html",
            contest=contest,
            masked=mask_email(entry.email),
            action=request.url.path,
        )

    def confirm_now() -> None:
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                confirm_entry(connection, contest, public_id, now_of(request))

    try:
        await run_in_threadpool(confirm_now)
    except EntryGone:
        return _gone(request, contest)
    return _to_own_page(request, contest, public_id)


def _gone(request: Request, contest: ContestView) -> Response:
    language = language_of(request, contest)
    return message_page(
        request,
        language,
        404,
        gettext(language, "Entry not found"),
        gettext(language, "This entry no longer exists. You may enter again."),
        contest,
    )


def _to_own_page(request: Request, contest: ContestView, public_id: str) -> Response:
    token = state_of(request).signer.sign(Purpose.ME, public_id)
    url = request.url_for("participant:me", slug=contest.slug, token=token)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url.path})
    return RedirectResponse(url.path, status_code=303)


async def me(request: Request) -> Response:
    """The participant's own page: status and chances."""
    found = await _own_entry(request)
    if isinstance(found, Response):
        return found
    contest, entry = found
    state = state_of(request)
    language = language_of(request, contest)

    def load_summary() -> referrals.ReferralSummary:
        with state.engine.connect() as connection:
            return referrals.summary(connection, entry.id)

    summary = await run_in_threadpool(load_summary)
    kit = (
        sharing.share_kit(state.settings.base_url, contest, entry.referral_code, language)
        if entry.referral_code and not contest.clients_only and contest.referral_bonus > 0
        else None
    )
    return render(
        request,
        language,
        "participant/me.html",
        contest=contest,
        entry=entry,
        confirmed=entry.status == EntryStatus.CONFIRMED,
        referrals=summary.credited,
        summary=summary,
        kit=kit,
        can_invite=kit is not None and sharing.invitation_refusal(contest, now_of(request)) is None,
        receipt=drawing_receipt(entry.public_id, entry.chances) if confirmed_entry(entry) else None,
        in_review=[sharing.explain_reasons(r, language) for r in summary.in_review],
        not_credited=[sharing.explain_reasons(r, language) for r in summary.not_credited],
    )


async def rules(request: Request) -> Response:
    """The official rules, generated from the contest's configuration."""
    contest = contest_of(request)
    language = language_of(request, contest)
    return render(
        request,
        language,
        "participant/rules.html",
        contest=contest,
        sections=official_rules(contest, language),
        version=_rules_version(contest),
    )


def _entry_context(request: Request, contest: ContestView, language: str) -> EntryContext:
    settings = state_of(request).settings
    return EntryContext(
        now=now_of(request),
        language=language,
        rules_version=_rules_version(contest),
        page_url=f"{settings.base_url}/c/{contest.slug}",  # the public address, as shown
        source="direct",
        ip_truncated=client_network(request),
        user_agent=request.headers.get("user-agent", "")[:300],
        limits=EntryLimits(settings.entry_limit_per_network, settings.entry_limit_per_address),
    )


async def _urlencoded(request: Request) -> dict[str, list[str]] | None:
    """The form's fields, or None when the body is not a readable urlencoded form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
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


async def interest(request: Request) -> Response:
    """A prospect refused by a client-only contest asks to hear about client-only contests."""
    contest = contest_of(request)
    state = state_of(request)
    data = await _urlencoded(request) or {}
    language = language_of(request, contest, (data.get("lang") or [""])[0])
    try:
        slug, email = state.signer.verify(Purpose.INTEREST, (data.get("token") or [""])[0])
    except (TokenInvalid, ValueError) as exc:
        if isinstance(exc, TokenInvalid):
            return _token_problem(request, contest, exc)
        raise HTTPException(400) from exc
    if slug != contest.slug:
        raise HTTPException(400)
    if (data.get("consent_client_contests") or [""])[0] != "on":
        title = gettext(language, "Nothing was recorded")
        text = gettext(language, "You did not tick the box, so we will not write to you.")
        return message_page(request, language, 200, title, text, contest)
    context = _entry_context(request, contest, language)

    def record() -> None:
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                prospects.record_interest(connection, contest, email, email_key(email), context)

    await run_in_threadpool(record)
    state.sender.wake.set()
    return message_page(
        request,
        language,
        200,
        gettext(language, "Check your inbox"),
        gettext(
            language,
            "We sent a link to %(email)s. Your choice counts once you click it.",
            email=mask_email(email),
        ),
        contest,
    )


async def interest_confirm(request: Request) -> Response:
    """GET shows a button; POST confirms the wish to hear about client-only contests."""
    contest = contest_of(request)
    state = state_of(request)
    language = language_of(request, contest)
    try:
        consent_id = int(
            state.signer.verify(Purpose.CONFIRM_INTEREST, request.path_params["token"])
        )
    except TokenInvalid as exc:
        return _token_problem(request, contest, exc)
    if request.method == "GET":
        return render(
            request,
            language,
            "participant/confirm_interest.html",
            contest=contest,
            action=request.url.path,
        )

    def confirm() -> bool:
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                return prospects.confirm_interest(connection, consent_id, now_of(request))

    if not await run_in_threadpool(confirm):
        return _gone(request, contest)
    return message_page(
        request,
        language,
        200,
        gettext(language, "Thank you"),
        gettext(language, "We will tell you about our contests reserved to clients."),
        contest,
    )


async def _own_entry(request: Request) -> tuple[ContestView, EntryState] | Response:
    contest = contest_of(request)
    state = state_of(request)
    try:
        public_id = state.signer.verify(Purpose.ME, request.path_params["token"])
    except TokenInvalid as exc:
        return _token_problem(request, contest, exc)
    entry = await _find(state, contest, public_id)
    if entry is None:
        return _gone(request, contest)
    return contest, entry


async def my_data(request: Request) -> Response:
    """ "Download my data": everything held about the participant, as JSON (GDPR Art. 15, 20)."""

    found = await _own_entry(request)
    if isinstance(found, Response):
        return found
    contest, entry = found
    state = state_of(request)

    def export() -> dict[str, Any]:
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                return privacy.export_person(
                    connection, contest.organizer_id, entry.person_id, now=now_of(request)
                )

    data = await run_in_threadpool(export)
    return JSONResponse(
        data,
        headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
    )


async def erase_me(request: Request) -> Response:
    """ "Erase me": GET asks for confirmation, POST erases the person's data everywhere."""

    found = await _own_entry(request)
    if isinstance(found, Response):
        return found
    contest, entry = found
    state = state_of(request)
    language = language_of(request, contest)
    if request.method == "GET":
        return render(
            request, language, "participant/erase.html", contest=contest, action=request.url.path
        )

    def erase() -> None:
        now = now_of(request)
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                report = privacy.erase_person(
                    connection,
                    contest.organizer_id,
                    entry.person_id,
                    now,
                    "web",
                    suppression_key=state.settings.secret_keys[0].reveal().encode(),
                )
                crm.enqueue_event(
                    connection,
                    contest.organizer_id,
                    "lead.erased",
                    {"email_key_sha256": report.email_key_hash},
                    key=str(entry.person_id),
                    now=now,
                )

    await run_in_threadpool(erase)
    state.sender.wake.set()
    return message_page(
        request,
        language,
        200,
        gettext(language, "Your data are erased"),
        gettext(
            language,
            "We erased your personal data. What a published draw needs to stay verifiable (a "
            "random ticket and its chances) holds nothing that identifies you.",
        ),
        contest,
    )


async def draw_record(request: Request) -> Response:
    """The published draw record (JSON, no personal data) for contest verify-draw."""

    contest = contest_of(request)
    state = state_of(request)

    def load() -> str | None:
        with state.engine.connect() as connection:
            record = drawing.stored_record(connection, contest.id)
        return drawing.public_record_json(record) if record else None

    text = await run_in_threadpool(load)
    if text is None:
        raise HTTPException(404)
    return Response(
        text,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="draw-{contest.slug}.json"'},
    )


async def draw_pool(request: Request) -> Response:
    """The pool file of a draw too large to list its pool in the record (tickets, weights)."""

    contest = contest_of(request)
    engine = state_of(request).engine
    if not await run_in_threadpool(poolfile.published, engine, contest.id):
        raise HTTPException(404)
    return StreamingResponse(
        iterate_in_threadpool(poolfile.read(engine, contest.id)),
        media_type="text/tab-separated-values; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="pool-{contest.slug}.tsv"'},
    )


async def _draw_result(state: AppState, contest: ContestView) -> dict[str, Any] | None:
    """The public part of the draw and the prizes' fulfilment, for the contest page."""

    if contest.status not in {"drawn", "archived"}:
        return None

    def load() -> dict[str, Any] | None:
        with state.engine.connect() as connection:
            record = drawing.stored_record(connection, contest.id)
            log = claims.fulfilment_log(connection, contest.id)
        if record is None:
            return None
        drawn_at = datetime.fromisoformat(record.drawn_at.replace("Z", "+00:00"))
        return {"record": record, "fulfilment": log, "drawn_at": drawn_at}

    return await run_in_threadpool(load)


async def claim_prize(request: Request) -> Response:
    """A winner's claim page: GET shows the prize, POST claims it and shows the voucher."""

    contest = contest_of(request)
    state = state_of(request)
    language = language_of(request, contest)
    try:
        award_id = int(state.signer.verify(Purpose.CLAIM, request.path_params["token"]))
    except (TokenInvalid, ValueError) as exc:
        if isinstance(exc, TokenInvalid):
            return _token_problem(request, contest, exc)
        raise HTTPException(400) from exc

    def load() -> claims.AwardView | None:
        with state.engine.connect() as connection:
            return claims.award(connection, award_id)

    def take() -> claims.AwardView:
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                return claims.claim(connection, award_id, contest, now_of(request))

    award = await run_in_threadpool(load)
    if award is None or award.contest_id != contest.id:
        return _gone(request, contest)
    error = None
    if request.method == "POST":
        try:
            award = await run_in_threadpool(take)
            state.sender.wake.set()
        except claims.ClaimRefused:
            error = gettext(
                language,
                "The time to claim this prize is over: as the rules say, it went to the next "
                "person drawn.",
            )
    return render(
        request,
        language,
        "participant/claim.html",
        status_code=410 if error else 200,
        contest=contest,
        award=award,
        error=error,
        action=request.url.path,
    )


routes = [
    Route("/c/{slug}/claim/{token}", claim_prize, name="claim", methods=["GET", "POST"]),
    Route("/c/{slug}/draw.json", draw_record, name="draw_record", methods=["GET"]),
    Route("/c/{slug}/pool.tsv", draw_pool, name="draw_pool", methods=["GET"]),
    Route("/c/{slug}/me/{token}/data.json", my_data, name="my_data", methods=["GET"]),
    Route("/c/{slug}/me/{token}/erase", erase_me, name="erase_me", methods=["GET", "POST"]),
    Route("/c/{slug}", contest_page, name="contest", methods=["GET"]),
    Route("/c/{slug}/entries", enter, name="enter", methods=["POST"]),
    Route("/c/{slug}/started", form_started, name="started", methods=["POST"]),
    Route("/c/{slug}/entered", entered, name="entered", methods=["GET"]),
    Route("/c/{slug}/rules", rules, name="rules", methods=["GET"]),
    Route("/c/{slug}/theme.css", theme, name="theme", methods=["GET"]),
    Route("/media/{name}", media_file, name="media", methods=["GET"]),
    Route("/r/{code}", sharing.referral_link, name="referral", methods=["GET"]),
    Route("/s/{code}", sharing.source_link, name="source", methods=["GET"]),
    Route("/c/{slug}/confirm/{token}", confirm, name="confirm", methods=["GET", "POST"]),
    Route("/c/{slug}/me/{token}", me, name="me", methods=["GET"]),
    Route("/c/{slug}/interest", interest, name="interest", methods=["POST"]),
    Route(
        "/c/{slug}/interest/confirm/{token}",
        interest_confirm,
        name="interest_confirm",
        methods=["GET", "POST"],
    ),
]
