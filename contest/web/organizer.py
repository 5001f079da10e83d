"""The organizer workspace under /admin/: sign-in, contests with live compliance, clients.

Every query is scoped to the signed-in organizer: another organizer's contest is a 404, never
a 403 that would confirm it exists.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import case
from sqlmodel import Session, col, func, select
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from contest import accounts, apitokens, configuration, dashboard, media, tables
from contest.charts import bar_chart_svg
from contest.configuration import (
    ContestRefused,
    SlugTaken,
    TransitionRefused,
)
from contest.contests import formats, load_contest
from contest.contests.fields import MAX_PRIZES, ContestSettings
from contest.contests.setting import ConfigErrors
from contest.draw import drawing
from contest.entries import referral_rules
from contest.forms import CATALOGUE, EMAIL
from contest.i18n import gettext
from contest.leads import clients
from contest.leads import export as leads
from contest.models import Client, Contest, Entry, EntryStatus, Organizer
from contest.passwords import WeakPassword
from contest.prizes import claims
from contest.storage import write_options
from contest.tokens import Purpose, TokenInvalid
from contest.web import participant, sharing
from contest.web.auth import (
    csrf_token,
    current_session,
    end_session,
    organizer_page,
    read_form,
    same_origin,
    start_session,
)
from contest.web.base import client_network, html_page, now_of, redirect, state_of
from rules import Verdict
from viral import fraud, referrals
from viral import stats as viral_stats
from viral.codes import new_code

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity

LANG_COOKIE = "contest_admin_lang"


def language_of(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return wanted if wanted in {"fr", "en"} else "fr"


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
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


def _db(request: Request) -> Session:
    return Session(state_of(request).engine)


def _organizer_row(session: Session, organizer: OrganizerIdentity) -> Organizer:
    row = session.get(Organizer, organizer.id)
    if row is None:
        raise HTTPException(401)
    return row


def _own_contest(session: Session, organizer: OrganizerIdentity, contest_id: str) -> Contest:
    """The organizer's contest, or 404 (also for another organizer's contest)."""
    try:
        wanted = int(contest_id)
    except ValueError as exc:
        raise HTTPException(404) from exc
    if not 1 <= wanted <= 2**31 - 1:
        raise HTTPException(404)
    row = session.exec(
        select(Contest).where(Contest.id == wanted, Contest.organizer_id == organizer.id)
    ).first()
    if row is None:
        raise HTTPException(404)
    return row


# --- Signing in and out ----------------------------------------------------------------------


async def login(request: Request) -> Response:
    """The sign-in form; POST signs in (throttled) and goes to the workspace."""
    state = state_of(request)
    language = language_of(request)
    next_path = request.query_params.get("next", "")
    if not next_path.startswith("/admin/") or next_path.startswith("//"):
        next_path = "/admin/"
    if request.method == "GET":
        if await current_session(request) is not None:
            return RedirectResponse(next_path, status_code=303)
        return page(
            request,
            "organizer/login.html",
            token=state.signer.sign(Purpose.LOGIN_FORM, "login"),
            email="",
            error=None,
            next=next_path,
        )
    form = await read_form(request)
    email = str(form.get("email") or "")[:254]
    token_ok = True
    try:
        state.signer.verify(Purpose.LOGIN_FORM, str(form.get("token") or ""))
    except TokenInvalid:
        token_ok = False
    error: str | None = None
    status = 200
    if not token_ok or not same_origin(request):
        error, status = gettext(language, "The form has expired. Please sign in again."), 400
    else:
        network = client_network(request)

        def attempt() -> accounts.OrganizerIdentity | accounts.LoginRefused:
            with state.engine.connect().execution_options(**write_options()) as connection:
                with connection.begin():  # commits the failure counters too
                    try:
                        return accounts.authenticate(
                            connection,
                            email,
                            str(form.get("password") or ""),
                            network,
                            now_of(request),
                        )
                    except accounts.LoginRefused as refused:
                        return refused

        outcome = await run_in_threadpool(attempt)
        if isinstance(outcome, accounts.LoginRefused):
            refused = outcome
            if refused.throttled:
                minutes = max(refused.retry_after // 60, 1)
                error = gettext(
                    language,
                    "Too many attempts. Try again in %(minutes)s minutes, or reset your password.",
                    minutes=minutes,
                )
                status = 429
            else:
                error, status = gettext(language, "Wrong e-mail address or password."), 401
        else:
            response = RedirectResponse(next_path, status_code=303)
            start_session(request, response, outcome)
            return response
    return page(
        request,
        "organizer/login.html",
        status_code=status,
        token=state.signer.sign(Purpose.LOGIN_FORM, "login"),
        email=email,
        error=error,
        next=next_path,
    )


@organizer_page
async def logout(request: Request, organizer: OrganizerIdentity, form: FormData) -> Response:
    """Signs out."""
    response = RedirectResponse(request.url_for("organizer:login").path, status_code=303)
    end_session(response)
    return response


async def set_language(request: Request) -> Response:
    """Remembers the workspace language and goes back."""
    language = request.path_params["language"]
    back = request.headers.get("referer", "/admin/")
    if not back.startswith(state_of(request).settings.base_url) and not back.startswith("/"):
        back = "/admin/"
    response = RedirectResponse(back, status_code=303)
    if language in {"fr", "en"}:
        response.set_cookie(
            LANG_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            samesite="lax",
            httponly=True,
            secure=state_of(request).settings.https,
        )
    return response


async def password_reset_request(request: Request) -> Response:
    """Asks for a reset link; answers the same whether the account exists or not."""
    state = state_of(request)
    if request.method == "GET":
        return page(request, "organizer/reset_request.html", sent=False)
    form = await read_form(request)
    email = str(form.get("email") or "")[:254]

    def ask() -> None:
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                accounts.request_password_reset(connection, email, now_of(request))

    if same_origin(request):
        await run_in_threadpool(ask)
        state.sender.wake.set()
    return page(request, "organizer/reset_request.html", sent=True)


async def password_reset(request: Request) -> Response:
    """Chooses a new password from a signed, one-time, one-hour link."""
    state = state_of(request)
    language = language_of(request)
    token = request.path_params["token"]
    try:
        organizer_id, version = state.signer.verify(Purpose.RESET, token)
    except (TokenInvalid, ValueError):
        return page(
            request,
            "organizer/message.html",
            status_code=400,
            title=gettext(language, "This link is not valid"),
            text=gettext(language, "Ask for a new link: reset links work once, for an hour."),
        )
    if request.method == "GET":
        return page(request, "organizer/reset_form.html", error=None)
    form = await read_form(request)
    password = str(form.get("password") or "")
    if password != str(form.get("password2") or ""):
        error = gettext(language, "The two passwords differ.")
        return page(request, "organizer/reset_form.html", status_code=422, error=error)

    def change() -> None:
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                accounts.reset_password(
                    connection, organizer_id, version, password, now_of(request)
                )

    try:
        await run_in_threadpool(change)
    except WeakPassword:
        error = gettext(language, "Choose a password of at least 10 characters.")
        return page(request, "organizer/reset_form.html", status_code=422, error=error)
    except accounts.ResetRefused:
        return page(
            request,
            "organizer/message.html",
            status_code=400,
            title=gettext(language, "This link is not valid"),
            text=gettext(language, "Ask for a new link: reset links work once, for an hour."),
        )
    return RedirectResponse(request.url_for("organizer:login").path, status_code=303)


# --- Contests --------------------------------------------------------------------------------


@organizer_page
async def home(request: Request, organizer: OrganizerIdentity) -> Response:
    """The organizer's contests with their status and entry counts."""

    def load() -> list[tuple[Contest, int, int]]:
        with _db(request) as session:
            contests = session.exec(
                select(Contest)
                .where(Contest.organizer_id == organizer.id)
                .order_by(col(Contest.created_at).desc())
            ).all()
            confirmed = case((col(Entry.status) == EntryStatus.CONFIRMED, 1), else_=0)
            counts = {
                contest_id: (total, int(done or 0))
                for contest_id, total, done in session.exec(
                    select(Entry.contest_id, func.count(), func.sum(confirmed))
                    .join(Contest, col(Contest.id) == Entry.contest_id)
                    .where(Contest.organizer_id == organizer.id)
                    .group_by(col(Entry.contest_id))
                ).all()
            }
            return [(c, *counts.get(c.id or 0, (0, 0))) for c in contests]

    rows = await run_in_threadpool(load)
    return page(request, "organizer/home.html", rows=rows)


def _prize_rows(values: dict[str, object]) -> int:
    """As many prize rows as prizes filled in, plus one empty, at least three."""
    filled = sum(1 for index in range(MAX_PRIZES) if values.get(f"prize-{index}-description"))
    return min(max(3, filled + 1), MAX_PRIZES)


def _form_page(
    request: Request,
    *,
    values: dict[str, object],
    verdict: Verdict | None,
    errors: dict[str, tuple[str, str]] | None = None,
    contest: Contest | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "organizer/contest_form.html",
        status_code=status_code,
        values=values,
        verdict=verdict,
        errors=errors or {},
        contest=contest,
        catalogue=CATALOGUE,
        email_field=EMAIL,
        prize_rows=range(_prize_rows(values)),
    )


async def _uploads(
    request: Request,
    form: FormData,
    contest: ContestSettings,
    current: Contest | None,
) -> ContestSettings:
    """Stores the uploaded image and logo; keeps the current ones when none is sent."""
    names: dict[str, str | None] = {
        "image_path": current.image_path if current else None,
        "logo_path": current.logo_path if current else None,
    }
    errors = ConfigErrors()
    for field, key in (("image", "image_path"), ("logo", "logo_path")):
        upload = form.get(field)
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        data = await upload.read(media.MAX_BYTES + 1)
        try:
            names[key] = await run_in_threadpool(
                media.store_image, data, state_of(request).settings.upload_dir
            )
        except media.ImageRefused as refused:
            errors.add(field, refused.message_fr, refused.message_en)
    if errors.errors:
        raise errors
    return replace(contest, image_path=names["image_path"], logo_path=names["logo_path"])


def _judge_form(
    request: Request, organizer: OrganizerIdentity, form: FormData
) -> tuple[ContestSettings | None, Verdict | None, dict[str, tuple[str, str]]]:
    try:
        contest = formats.parse_contest_form(form)
    except ConfigErrors as problems:
        return None, None, problems.errors
    with _db(request) as session:
        verdict = configuration.judge(contest, _organizer_row(session, organizer), now_of(request))
    return contest, verdict, {}


@organizer_page
async def contest_check(request: Request, organizer: OrganizerIdentity, form: FormData) -> Response:
    """The compliance panel, re-evaluated from the form as it is now (htmx)."""
    _contest, verdict, errors = await run_in_threadpool(_judge_form, request, organizer, form)
    return page(request, "organizer/_compliance.html", verdict=verdict, errors=errors)


@organizer_page
async def contest_new(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """A new contest: the form with its live compliance panel; POST saves a draft."""
    if form is None:
        values = formats.form_values(ContestSettings(title="", slug=""))
        return _form_page(request, values=values, verdict=None)
    contest, verdict, errors = await run_in_threadpool(_judge_form, request, organizer, form)
    if contest is None:
        return _form_page(
            request,
            values=formats.raw_values(form),
            verdict=None,
            errors=errors,
            status_code=422,
        )
    try:
        contest = await _uploads(request, form, contest, None)
    except ConfigErrors as problems:
        return _form_page(
            request,
            values=formats.raw_values(form),
            verdict=verdict,
            errors=problems.errors,
            status_code=422,
        )

    def save() -> int:
        with _db(request) as session:
            row = configuration.create_contest(
                session, _organizer_row(session, organizer), contest, now_of(request)
            )
            assert row.id is not None
            return row.id

    try:
        contest_id = await run_in_threadpool(save)
    except SlugTaken:
        errors = {"slug": ("Cette adresse est déjà prise.", "This address is taken.")}
        return _form_page(
            request,
            values=formats.raw_values(form),
            verdict=verdict,
            errors=errors,
            status_code=409,
        )
    return redirect(request, "organizer:contest", contest_id=str(contest_id))


@organizer_page
async def contest_edit(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """Changes a contest; once published, a change needs a reason and must not hurt anyone."""
    contest_id = request.path_params["contest_id"]

    def load() -> tuple[Contest, dict[str, object], Verdict]:
        with _db(request) as session:
            row = _own_contest(session, organizer, contest_id)
            assert row.id is not None
            current = configuration.input_of(row, configuration.prizes_of(session, row.id))
            verdict = configuration.judge(
                current, _organizer_row(session, organizer), now_of(request)
            )
            session.expunge(row)
            return row, formats.form_values(current), verdict

    row, values, verdict = await run_in_threadpool(load)
    if form is None:
        return _form_page(request, values=values, verdict=verdict, contest=row)
    contest, verdict_new, errors = await run_in_threadpool(_judge_form, request, organizer, form)
    if contest is None:
        return _form_page(
            request,
            values=formats.raw_values(form),
            verdict=None,
            errors=errors,
            contest=row,
            status_code=422,
        )
    try:
        contest = await _uploads(request, form, contest, row)
    except ConfigErrors as problems:
        return _form_page(
            request,
            values=formats.raw_values(form),
            verdict=verdict_new,
            errors=problems.errors,
            contest=row,
            status_code=422,
        )

    def save() -> None:
        with _db(request) as session:
            current = _own_contest(session, organizer, contest_id)
            configuration.update_contest(
                session,
                _organizer_row(session, organizer),
                current,
                contest,
                now_of(request),
                reason=str(form.get("reason") or ""),
            )

    try:
        await run_in_threadpool(save)
    except ContestRefused as refused:
        return _form_page(
            request,
            values=formats.raw_values(form),
            verdict=refused.verdict,
            contest=row,
            status_code=422,
        )
    except ConfigErrors as problems:
        return _form_page(
            request,
            values=formats.raw_values(form),
            verdict=verdict_new,
            errors=problems.errors,
            contest=row,
            status_code=422,
        )
    except SlugTaken:
        errors = {"slug": ("Cette adresse est déjà prise.", "This address is taken.")}
        return _form_page(
            request,
            values=formats.raw_values(form),
            verdict=verdict_new,
            errors=errors,
            contest=row,
            status_code=409,
        )
    state_of(request).contests.forget(row.slug)
    return redirect(request, "organizer:contest", contest_id=contest_id)


@organizer_page
async def contest_view(request: Request, organizer: OrganizerIdentity) -> Response:
    """A contest's dashboard: status, compliance, entries over time, sources and funnel."""
    contest_id = request.path_params["contest_id"]
    language = language_of(request)

    def load() -> dict[str, Any]:
        with _db(request) as session:
            row = _own_contest(session, organizer, contest_id)
            assert row.id is not None
            current = configuration.input_of(row, configuration.prizes_of(session, row.id))
            verdict = configuration.judge(
                current, _organizer_row(session, organizer), now_of(request)
            )
            connection = session.connection()
            stats = dashboard.contest_stats(
                connection, row.id, now_of(request), row.timezone, invitations=_invitations_sent
            )
            viral = viral_stats.viral_stats(connection, row.id, now_of(request))
            prizes = claims.awards(connection, row.id)
            leaders = viral_stats.leaderboard(connection, row.id, limit=10)
            session.expunge(row)
            can_close = row.closes_at is None or row.closes_at <= now_of(request)
            return {
                "contest": row,
                "verdict": verdict,
                "stats": stats,
                "viral": viral,
                "awards": prizes,
                "drawable": row.status in {"open", "closed", "scheduled"}
                and row.closes_at is not None
                and row.closes_at <= now_of(request),
                "leaders": leaders,
                "can_close": can_close,
            }

    context = await run_in_threadpool(load)
    stats = context["stats"]
    context["chart"] = bar_chart_svg(
        [(day.day.strftime("%d/%m"), day.confirmed) for day in stats.days],
        stacked=[(day.day.strftime("%d/%m"), day.pending) for day in stats.days],
        series=(gettext(language, "confirmed"), gettext(language, "pending")),
        title=gettext(language, "Entries per day"),
        description=gettext(
            language, "Entries per day over 30 days: confirmed, with pending ones stacked above."
        ),
    )
    context["hours_chart"] = bar_chart_svg(
        [(f"{h.hour:02d}", h.entries) for h in stats.hours],
        title=gettext(language, "Entries by hour of the day"),
        description=gettext(language, "Entries by hour of the day, local time."),
    )
    return page(request, "organizer/contest.html", **context)


def _invitations_sent(connection: Any, contest_id: int) -> int:
    invitation = tables.invitation
    return int(
        connection.execute(
            sa.select(sa.func.count()).where(invitation.c.contest_id == contest_id)
        ).scalar_one()
    )


@organizer_page
async def contest_action(
    request: Request, organizer: OrganizerIdentity, form: FormData
) -> Response:
    """Publish, close or archive, when the rules and the lifecycle allow it."""
    contest_id = request.path_params["contest_id"]
    action = request.path_params["action"]
    language = language_of(request)

    def act() -> tuple[str, Verdict | None, str | None]:
        with _db(request) as session:
            row = _own_contest(session, organizer, contest_id)
            owner = _organizer_row(session, organizer)
            try:
                if action == "publish":
                    configuration.publish_contest(session, owner, row, now_of(request))
                else:
                    configuration.transition(session, owner, row, action, now_of(request))
            except ContestRefused as refused:
                return row.slug, refused.verdict, None
            except TransitionRefused as refused:
                return row.slug, None, str(refused)
            return row.slug, None, None

    slug, verdict, refused = await run_in_threadpool(act)
    state_of(request).contests.forget(slug)
    if verdict is not None or refused is not None:
        message = (
            gettext(language, "The contest cannot be published while a rule refuses it.")
            if verdict is not None
            else gettext(language, "This change is not possible now (%(why)s).", why=refused)
        )
        return page(
            request,
            "organizer/message.html",
            status_code=409,
            title=gettext(language, "Not possible"),
            text=message,
            verdict=verdict,
            back=request.url_for("organizer:contest", contest_id=contest_id).path,
        )
    return redirect(request, "organizer:contest", contest_id=contest_id)


@organizer_page
async def contest_draw(request: Request, organizer: OrganizerIdentity, form: FormData) -> Response:
    """Runs the draw (once), then tells the winners by e-mail."""

    contest_id = request.path_params["contest_id"]
    state = state_of(request)
    language = language_of(request)
    public_value = str(form.get("public_value") or "").strip()[:200]

    def act() -> drawing.DrawRefused | None:
        with _db(request) as session:
            row = _own_contest(session, organizer, contest_id)
            slug = row.slug
        key, key_id = drawing.signing_key(state.settings.secret_keys[0].reveal())
        try:
            drawing.run_draw(
                state.engine,
                slug,
                now_of(request),
                signing_key=key,
                key_id=key_id,
                operator=f"organizer:{organizer.id}",
                public_value=public_value,
                public_value_source=str(form.get("public_value_source") or "")[:200],
            )
        except drawing.DrawRefused as refused:
            return refused
        claims.notify_after_draw(state.engine, slug, now_of(request))
        state.contests.forget(slug)
        return None

    refused = await run_in_threadpool(act)
    if refused is not None:
        return page(
            request,
            "organizer/message.html",
            status_code=409,
            title=gettext(language, "Not possible"),
            text=refused.message(language),
            back=request.url_for("organizer:contest", contest_id=contest_id).path,
        )
    state.sender.wake.set()
    return redirect(request, "organizer:contest", contest_id=contest_id)


@organizer_page
async def contest_preview(request: Request, organizer: OrganizerIdentity) -> Response:
    """The participant page as it will look, for any status (drafts included)."""

    contest_id = request.path_params["contest_id"]

    def load() -> Any:
        with _db(request) as session:
            row = _own_contest(session, organizer, contest_id)
            return load_contest(session.connection(), row.slug, include_drafts=True)

    view = await run_in_threadpool(load)
    if view is None:
        raise HTTPException(404)
    return participant.preview(request, view)


@organizer_page
async def entries_csv(request: Request, organizer: OrganizerIdentity) -> Response:
    """The contest's entries as CSV (no personal data: the lead export is separate)."""
    contest_id = request.path_params["contest_id"]
    with _db(request) as session:
        row = await run_in_threadpool(_own_contest, session, organizer, contest_id)
        slug, row_id = row.slug, row.id
    assert row_id is not None

    def rows() -> Iterator[str]:
        with state_of(request).engine.connect() as connection:
            yield from dashboard.entries_csv(connection, row_id)

    return StreamingResponse(
        iterate_in_threadpool(rows()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="entries-{slug}.csv"'},
    )


# --- Clients ---------------------------------------------------------------------------------


@organizer_page
async def clients_page(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """The client list: how many, import a CSV (with a per-row report), export."""
    report = None
    if form is not None:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(400, "Choose a CSV file.")

        def run_import() -> clients.ImportReport:
            upload.file.seek(0)
            text = codecs.getreader("utf-8")(upload.file, "strict")
            return clients.import_clients(
                state_of(request).engine, organizer.id, text, now_of(request)
            )

        report = await run_in_threadpool(run_import)

    def count() -> int:
        with _db(request) as session:
            return int(
                session.exec(
                    select(func.count())
                    .select_from(Client)
                    .where(Client.organizer_id == organizer.id)
                ).one()
            )

    total = await run_in_threadpool(count)
    return page(
        request,
        "organizer/clients.html",
        status_code=422 if report is not None and report.fatal else 200,
        total=total,
        report=report,
    )


@organizer_page
async def clients_csv(request: Request, organizer: OrganizerIdentity) -> Response:
    """The client list as CSV, in the format the import reads."""

    def rows() -> Iterator[str]:
        with state_of(request).engine.connect() as connection:
            yield from clients.export_clients(connection, organizer.id)

    return StreamingResponse(
        iterate_in_threadpool(rows()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="clients.csv"'},
    )


# --- API tokens ------------------------------------------------------------------------------


@organizer_page
async def tokens_page(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """The organizer's API tokens; POST creates one and shows it once."""
    state = state_of(request)
    created = None
    if form is not None:

        def create() -> str:
            with state.engine.begin() as connection:
                return apitokens.create_token(
                    connection, organizer.id, str(form.get("name") or "API"), now_of(request)
                ).token

        created = await run_in_threadpool(create)

    def load() -> list[Any]:
        with state.engine.connect() as connection:
            return apitokens.list_tokens(connection, organizer.id)

    return page(
        request, "organizer/tokens.html", tokens=await run_in_threadpool(load), created=created
    )


@organizer_page
async def token_revoke(request: Request, organizer: OrganizerIdentity, form: FormData) -> Response:
    """Revokes one of the organizer's tokens at once."""
    state = state_of(request)
    try:
        token_id = int(request.path_params["token_id"])
    except ValueError as exc:
        raise HTTPException(404) from exc
    if not 1 <= token_id <= 2**31 - 1:
        raise HTTPException(404)

    def revoke() -> bool:
        with state.engine.begin() as connection:
            return apitokens.revoke_token(connection, organizer.id, token_id, now_of(request))

    if not await run_in_threadpool(revoke):
        raise HTTPException(404)
    return redirect(request, "organizer:tokens")


# --- Referrals under review and tracked links --------------------------------------------------


@organizer_page
async def referrals_page(request: Request, organizer: OrganizerIdentity) -> Response:
    """Referrals flagged by the anti-fraud signals, waiting for the organizer's decision."""
    contest_id = request.path_params["contest_id"]
    language = language_of(request)

    def load() -> dict[str, Any]:
        with _db(request) as session:
            row = _own_contest(session, organizer, contest_id)
            ref, entry, person = tables.referral, tables.entry, tables.person
            referrer_entry, referrer = entry.alias("referrer_entry"), person.alias("referrer")
            rows = (
                session.connection()
                .execute(
                    sa.select(
                        ref.c.id,
                        ref.c.status,
                        ref.c.reasons,
                        ref.c.created_at,
                        ref.c.decided_at,
                        person.c.email.label("referred_email"),
                        referrer.c.first_name.label("referrer_name"),
                        referrer.c.email.label("referrer_email"),
                    )
                    .join(entry, entry.c.id == ref.c.referred_entry_id)
                    .join(person, person.c.id == entry.c.person_id)
                    .join(referrer_entry, referrer_entry.c.id == ref.c.referrer_entry_id)
                    .join(referrer, referrer.c.id == referrer_entry.c.person_id)
                    .where(ref.c.contest_id == row.id, ref.c.status.in_(["review", "rejected"]))
                    .order_by(ref.c.status.desc(), ref.c.id)
                    .limit(500)
                )
                .all()
            )
            session.expunge(row)
            return {"contest": row, "rows": rows}

    context = await run_in_threadpool(load)
    context["explain"] = lambda reasons: [fraud.explain(r, language) for r in reasons or ()]
    return page(request, "organizer/referrals.html", **context)


@organizer_page
async def referral_decision(
    request: Request, organizer: OrganizerIdentity, form: FormData
) -> Response:
    """Clears (credits) or rejects a flagged referral; logged with who and when."""
    contest_id = request.path_params["contest_id"]
    decision = request.path_params["decision"]
    try:
        referral_id = int(request.path_params["referral_id"])
    except ValueError as exc:
        raise HTTPException(404) from exc

    def decide() -> None:
        with _db(request) as session:
            row = _own_contest(session, organizer, contest_id)
            view = load_contest(session.connection(), row.slug, include_drafts=True)
            assert view is not None
            try:
                status = referrals.review(
                    session.connection(),
                    referral_id,
                    lambda _contest_id: referral_rules(view),
                    organizer.id,
                    decision,
                    now_of(request),
                )
            except referrals.NotInReview as exc:
                raise HTTPException(404) from exc
            configuration.audit(
                session,
                organizer.id,
                row.id,
                f"referral.{decision}",
                referral=referral_id,
                status=status,
            )
            session.commit()

    await run_in_threadpool(decide)
    return redirect(request, "organizer:referrals", contest_id=contest_id)


@organizer_page
async def links_page(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """Tracked links for partners, newsletters, posters and campaigns, with their results."""
    contest_id = request.path_params["contest_id"]
    state = state_of(request)
    error = None
    if form is not None:
        label = str(form.get("label") or "").strip()[:100]
        kind = str(form.get("kind") or "partner")
        campaign = str(form.get("utm_campaign") or "").strip()[:100]
        if not label:
            error = ("Donnez un nom au lien.", "Give the link a name.")
        elif kind not in {"partner", "newsletter", "poster", "campaign"}:
            error = ("Type de lien inconnu.", "Unknown kind of link.")
        elif campaign and not sharing.UTM.match(campaign):
            error = (
                "Campagne : lettres, chiffres, tirets et points.",
                "Campaign: letters, digits, hyphens and dots.",
            )
        else:

            def create() -> None:
                with _db(request) as session:
                    row = _own_contest(session, organizer, contest_id)
                    session.connection().execute(
                        sa.insert(tables.sourcelink).values(
                            contest_id=row.id,
                            code=new_code(),
                            label=label,
                            kind=kind,
                            utm_source=str(form.get("utm_source") or "")[:100],
                            utm_medium=str(form.get("utm_medium") or "")[:100],
                            utm_campaign=campaign,
                            created_at=now_of(request),
                        )
                    )
                    configuration.audit(session, organizer.id, row.id, "link.created", label=label)
                    session.commit()

            await run_in_threadpool(create)
            return redirect(request, "organizer:links", contest_id=contest_id)

    def load() -> dict[str, Any]:
        with _db(request) as session:
            row = _own_contest(session, organizer, contest_id)
            link, click, entry = tables.sourcelink, tables.linkclick, tables.entry
            clicks = (
                sa.select(sa.func.count())
                .where(click.c.kind == "source", click.c.code == link.c.code)
                .scalar_subquery()
            )
            source = sa.case(
                (
                    sa.and_(link.c.kind == "campaign", link.c.utm_campaign != ""),
                    sa.literal("utm:") + link.c.utm_campaign,
                ),
                else_=sa.literal("partner:") + link.c.code,
            )
            entries = (
                sa.select(sa.func.count())
                .where(entry.c.contest_id == link.c.contest_id, entry.c.source == source)
                .scalar_subquery()
            )
            confirmed = (
                sa.select(sa.func.count())
                .where(
                    entry.c.contest_id == link.c.contest_id,
                    entry.c.source == source,
                    entry.c.status == "confirmed",
                )
                .scalar_subquery()
            )
            rows = (
                session.connection()
                .execute(
                    sa.select(
                        link.c.code,
                        link.c.label,
                        link.c.kind,
                        link.c.utm_campaign,
                        clicks.label("clicks"),
                        entries.label("entries"),
                        confirmed.label("confirmed"),
                    )
                    .where(link.c.contest_id == row.id)
                    .order_by(link.c.id)
                )
                .all()
            )
            session.expunge(row)
            return {"contest": row, "rows": rows}

    context = await run_in_threadpool(load)
    base = state.settings.base_url
    context["qr"] = {r.code: sharing.qr_data_uri(f"{base}/s/{r.code}") for r in context["rows"]}
    return page(request, "organizer/links.html", base_url=base, error=error, **context)


# --- Leads -----------------------------------------------------------------------------------


@organizer_page
async def leads_page(request: Request, organizer: OrganizerIdentity) -> Response:
    """The organizer's leads, qualified and segmented, filtered by segment, consent, contest
    and source (the first 200; the CSV download streams them all)."""

    params = request.query_params
    segment = params.get("segment") or None
    consent = params.get("consent") or None
    source = (params.get("source") or "")[:64] or None
    contest_param = params.get("contest") or ""

    def load() -> dict[str, Any]:
        with _db(request) as session:
            contests = session.exec(
                select(Contest)
                .where(Contest.organizer_id == organizer.id)
                .order_by(col(Contest.id))
            ).all()
            contest_id = next((c.id for c in contests if str(c.id) == contest_param), None)
            query = leads.lead_query(
                organizer.id,
                now=now_of(request),
                segment=segment if segment in {s[0] for s in leads.SEGMENTS} else None,
                consent=consent if consent in {"marketing_email", "partners"} else None,
                contest_id=contest_id,
                source=source,
            ).limit(200)
            rows = session.connection().execute(query).all()
            return {
                "rows": rows,
                "contests": [(c.id, c.title, c.slug) for c in contests],
                "segments": leads.SEGMENTS,
                "formula": leads.SCORE_FORMULA,
                "filters": {
                    "segment": segment or "",
                    "consent": consent or "",
                    "contest": contest_param,
                    "source": source or "",
                },
            }

    return page(request, "organizer/leads.html", **(await run_in_threadpool(load)))


@organizer_page
async def leads_csv(request: Request, organizer: OrganizerIdentity) -> Response:
    """A contest's leads as CSV: consenting people only, unless a lawful basis is given."""

    params = request.query_params
    slug = params.get("contest") or None
    purpose = params.get("purpose") or "marketing_email"
    basis = params.get("lawful_basis") or None
    language = language_of(request)
    try:
        chunks = leads.export_leads(
            state_of(request).engine,
            organizer.id,
            contest_slug=slug,
            purpose=purpose,
            lawful_basis=basis,
            now=now_of(request),
        )
        first = await run_in_threadpool(next, chunks, "")
    except leads.LeadExportRefused as refused:
        return page(
            request,
            "organizer/message.html",
            status_code=422,
            title=gettext(language, "Not possible"),
            text=refused.message(language),
            back=request.url_for("organizer:leads").path,
        )

    def rest() -> Iterator[str]:
        yield first
        yield from chunks

    return StreamingResponse(
        iterate_in_threadpool(rest()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="leads-{slug or "all"}.csv"'},
    )


routes = [
    Route(
        "/contests/{contest_id}/referrals",
        referrals_page,
        name="referrals",
        methods=["GET"],
    ),
    Route(
        "/contests/{contest_id}/referrals/{referral_id}/{decision}",
        referral_decision,
        name="referral_decision",
        methods=["POST"],
    ),
    Route("/contests/{contest_id}/links", links_page, name="links", methods=["GET", "POST"]),
    Route("/api-tokens", tokens_page, name="tokens", methods=["GET", "POST"]),
    Route("/api-tokens/{token_id}/revoke", token_revoke, name="token_revoke", methods=["POST"]),
    Route("/login", login, name="login", methods=["GET", "POST"]),
    Route("/logout", logout, name="logout", methods=["POST"]),
    Route("/lang/{language}", set_language, name="language", methods=["GET"]),
    Route(
        "/password-reset",
        password_reset_request,
        name="reset_request",
        methods=["GET", "POST"],
    ),
    Route(
        "/password-reset/{token}",
        password_reset,
        name="reset",
        methods=["GET", "POST"],
    ),
    Route("/", home, name="home", methods=["GET"]),
    Route("/contests/new", contest_new, name="contest_new", methods=["GET", "POST"]),
    Route("/contests/check", contest_check, name="contest_check", methods=["POST"]),
    Route("/contests/{contest_id}", contest_view, name="contest", methods=["GET"]),
    Route(
        "/contests/{contest_id}/edit",
        contest_edit,
        name="contest_edit",
        methods=["GET", "POST"],
    ),
    Route(
        "/contests/{contest_id}/preview",
        contest_preview,
        name="contest_preview",
        methods=["GET"],
    ),
    Route(
        "/contests/{contest_id}/entries.csv",
        entries_csv,
        name="entries_csv",
        methods=["GET"],
    ),
    Route("/contests/{contest_id}/draw", contest_draw, name="contest_draw", methods=["POST"]),
    Route(
        "/contests/{contest_id}/{action:str}",
        contest_action,
        name="contest_action",
        methods=["POST"],
    ),
    Route("/clients", clients_page, name="clients", methods=["GET", "POST"]),
    Route("/leads", leads_page, name="leads", methods=["GET"]),
    Route("/leads.csv", leads_csv, name="leads_csv", methods=["GET"]),
    Route("/clients.csv", clients_csv, name="clients_csv", methods=["GET"]),
]
