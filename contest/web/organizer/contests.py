"""The organizer's contests: the list, the form and its live compliance panel, the dashboard,
publishing, closing and archiving, the draw, the preview and the entries export."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from contest import dashboard, media, organizer_contests, workspace
from contest.charts import bar_chart_svg
from contest.configuration import ContestRefused, SlugTaken, TransitionRefused
from contest.contests import ContestSettings, formats
from contest.contests.fields import MAX_PRIZES
from contest.contests.setting import ConfigErrors
from contest.draw.drawing import DrawRefused
from contest.forms import CATALOGUE, EMAIL
from contest.i18n import N_, gettext
from contest.models import Contest
from contest.organization import new_contest_settings
from contest.organizer_contests import ContestNotFound, own_contest
from contest.prizes import fulfilment
from contest.roles import Role
from contest.web.auth import organizer_page
from contest.web.base import DONE_COOKIE, now_of, redirect, state_of, take_done
from contest.web.organizer.base import (
    csv_download,
    in_workspace,
    in_workspace_writing,
    language_of,
    not_possible,
    page,
    path_id,
)
from contest.web.participant.contest_page import preview
from rules import Verdict

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity

SLUG_TAKEN = {"slug": ("Cette adresse est déjà prise.", "This address is taken.")}


@organizer_page
async def home(request: Request, organizer: OrganizerIdentity) -> Response:
    """The organizer's contests with their status and entry counts."""
    rows = await in_workspace(request, workspace.contest_list_with_counts, organizer.id)
    return page(request, "organizer/home.html", rows=rows)


# --- The form --------------------------------------------------------------------------------


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
    errors = errors or {}
    # The fields with a problem, or that a rule names: their sections of the form open.
    named = {finding.field for finding in verdict.findings if finding.field} if verdict else set()
    return page(
        request,
        "organizer/contest_form.html",
        status_code=status_code,
        values=values,
        verdict=verdict,
        errors=errors,
        flagged=frozenset(errors) | named,
        contest=contest,
        catalogue=CATALOGUE,
        email_field=EMAIL,
        prize_rows=range(_prize_rows(values)),
    )


def _form_again(
    request: Request,
    form: FormData,
    *,
    verdict: Verdict | None = None,
    errors: dict[str, tuple[str, str]] | None = None,
    contest: Contest | None = None,
    status_code: int = 422,
) -> HTMLResponse:
    """The form as it was sent, saying what is wrong."""
    values = formats.raw_values(form)
    return _form_page(
        request,
        values=values,
        verdict=verdict,
        errors=errors,
        contest=contest,
        status_code=status_code,
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


async def _judged(
    request: Request, organizer: OrganizerIdentity, form: FormData, current: Contest | None
) -> tuple[ContestSettings, Verdict] | HTMLResponse:
    """The configuration the form sends, judged, with its images stored; or the form again,
    saying what is wrong."""
    try:
        contest = formats.parse_contest_form(form)
    except ConfigErrors as problems:
        return _form_again(request, form, errors=problems.errors, contest=current)
    now = now_of(request)
    verdict = await in_workspace(request, workspace.judge_configuration, organizer.id, contest, now)
    try:
        contest = await _uploads(request, form, contest, current)
    except ConfigErrors as problems:
        return _form_again(request, form, verdict=verdict, errors=problems.errors, contest=current)
    return contest, verdict


@organizer_page
async def contest_check(request: Request, organizer: OrganizerIdentity, form: FormData) -> Response:
    """The compliance panel, re-evaluated from the form as it is now (htmx)."""
    try:
        contest = formats.parse_contest_form(form)
    except ConfigErrors as problems:
        return page(request, "organizer/_compliance.html", verdict=None, errors=problems.errors)
    now = now_of(request)
    verdict = await in_workspace(request, workspace.judge_configuration, organizer.id, contest, now)
    return page(request, "organizer/_compliance.html", verdict=verdict, errors={})


@organizer_page
async def contest_new(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """A new contest: the form with its live compliance panel; POST saves a draft."""
    if form is None:
        blank = await in_workspace(request, new_contest_settings, organizer.id)
        return _form_page(request, values=formats.form_values(blank), verdict=None)
    judged = await _judged(request, organizer, form, None)
    if isinstance(judged, HTMLResponse):
        return judged
    contest, verdict = judged
    now = now_of(request)
    try:
        contest_id = await in_workspace(request, workspace.save_draft, organizer.id, contest, now)
    except SlugTaken:
        return _form_again(request, form, verdict=verdict, errors=SLUG_TAKEN, status_code=409)
    return redirect(request, "organizer:contest", done="saved", contest_id=str(contest_id))


@organizer_page
async def contest_edit(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """Changes a contest; once published, a change needs a reason and must not hurt anyone."""
    contest_id, now = path_id(request, "contest_id"), now_of(request)
    current = await in_workspace(
        request, workspace.current_configuration, organizer.id, contest_id, now
    )
    row = current.contest
    if form is None:
        values = formats.form_values(current.settings)
        return _form_page(request, values=values, verdict=current.verdict, contest=row)
    judged = await _judged(request, organizer, form, row)
    if isinstance(judged, HTMLResponse):
        return judged
    contest, verdict = judged
    reason = str(form.get("reason") or "")
    save = workspace.save_configuration
    try:
        await in_workspace(request, save, organizer.id, contest_id, contest, now, reason)
    except ContestRefused as refused:
        return _form_again(request, form, verdict=refused.verdict, contest=row)
    except ConfigErrors as problems:
        return _form_again(request, form, verdict=verdict, errors=problems.errors, contest=row)
    except SlugTaken:
        return _form_again(
            request, form, verdict=verdict, errors=SLUG_TAKEN, contest=row, status_code=409
        )
    state_of(request).contests.forget(row.slug)
    contest_path = request.path_params["contest_id"]
    return redirect(request, "organizer:contest", done="saved", contest_id=contest_path)


# --- One contest -----------------------------------------------------------------------------


# What the dashboard says after the form or the button that led to it (its ``done`` cookie).
DONE = {
    "saved": N_("Saved."),
    "publish": N_("Published: the contest takes entries from its opening date."),
    "close": N_("Closed: the contest takes no more entries."),
    "archive": N_("Archived."),
    "drawn": N_("Drawn: the winners are being told by e-mail."),
}


@organizer_page
async def contest_view(request: Request, organizer: OrganizerIdentity) -> Response:
    """A contest's dashboard: status, compliance, entries over time, sources and funnel."""
    contest_id, now = path_id(request, "contest_id"), now_of(request)
    shown = await in_workspace(request, workspace.contest_overview, organizer.id, contest_id, now)
    language = language_of(request)
    done = DONE.get(request.cookies.get(DONE_COOKIE, ""))
    response = page(
        request,
        "organizer/contest.html",
        done=gettext(language, done) if done else None,
        contest=shown.contest,
        verdict=shown.verdict,
        stats=shown.stats,
        viral=shown.viral,
        awards=shown.awards,
        drawable=shown.drawable,
        leaders=shown.leaders,
        can_close=shown.can_close,
        announcement=shown.announcement,
        challenge=shown.challenge,
        chart=_day_chart(shown.stats, language),
        hours_chart=_hour_chart(shown.stats, language),
    )
    take_done(request, response)
    return response


def _day_chart(stats: dashboard.ContestStats, language: str) -> Markup:
    return bar_chart_svg(
        [(day.day.strftime("%d/%m"), day.confirmed) for day in stats.days],
        stacked=[(day.day.strftime("%d/%m"), day.pending) for day in stats.days],
        series=(gettext(language, "confirmed"), gettext(language, "pending")),
        title=gettext(language, "Entries per day"),
        description=gettext(
            language, "Entries per day over 30 days: confirmed, with pending ones stacked above."
        ),
    )


def _hour_chart(stats: dashboard.ContestStats, language: str) -> Markup:
    return bar_chart_svg(
        [(f"{h.hour:02d}", h.entries) for h in stats.hours],
        title=gettext(language, "Entries by hour of the day"),
        description=gettext(language, "Entries by hour of the day, local time."),
    )


def _dashboard_path(request: Request) -> str:
    return request.url_for("organizer:contest", contest_id=request.path_params["contest_id"]).path


@organizer_page
async def contest_action(
    request: Request, organizer: OrganizerIdentity, form: FormData
) -> Response:
    """Publish, close or archive, when the rules and the lifecycle allow it."""
    contest_id, action = path_id(request, "contest_id"), request.path_params["action"]
    language, now = language_of(request), now_of(request)
    change = workspace.change_status
    try:
        slug = await in_workspace(request, change, organizer.id, contest_id, action, now)
    except ContestRefused as refused:
        text = gettext(language, "The contest cannot be published while a rule refuses it.")
        return not_possible(request, text, _dashboard_path(request), verdict=refused.verdict)
    except TransitionRefused as refused:
        text = gettext(
            language, "This change is not possible now (%(why)s).", why=refused.message(language)
        )
        return not_possible(request, text, _dashboard_path(request), verdict=None)
    state_of(request).contests.forget(slug)
    contest_path = request.path_params["contest_id"]
    return redirect(request, "organizer:contest", done=action, contest_id=contest_path)


@organizer_page
async def contest_duplicate(
    request: Request, organizer: OrganizerIdentity, form: FormData
) -> Response:
    """A new draft copied from this contest, opened in the form to be dated and changed."""
    copy = await in_workspace(
        request,
        organizer_contests.duplicate_contest,
        organizer.id,
        path_id(request, "contest_id"),
        now_of(request),
    )
    return redirect(request, "organizer:contest_edit", contest_id=copy.id)


@organizer_page
async def contest_draw(request: Request, organizer: OrganizerIdentity, form: FormData) -> Response:
    """Runs the draw (once), then tells the winners by e-mail."""
    state = state_of(request)
    try:
        slug = await run_in_threadpool(
            workspace.draw_contest,
            state.engine,
            organizer.id,
            path_id(request, "contest_id"),
            now_of(request),
            secret_key=state.settings.secret_keys[0].reveal(),
            public_value=str(form.get("public_value") or "").strip()[:200],
            public_value_source=str(form.get("public_value_source") or "")[:200],
            relays=state.settings.drand_urls,
            client=state.outbound,
        )
    except ContestNotFound as exc:
        raise HTTPException(404) from exc
    except DrawRefused as refused:
        text = refused.message(language_of(request))
        return not_possible(request, text, _dashboard_path(request))
    state.contests.forget(slug)
    state.sender.wake.set()
    contest_path = request.path_params["contest_id"]
    return redirect(request, "organizer:contest", done="drawn", contest_id=contest_path)


@organizer_page
async def contest_preview(request: Request, organizer: OrganizerIdentity) -> Response:
    """The participant page as it will look, for any status (drafts included)."""
    contest_id = path_id(request, "contest_id")
    view = await in_workspace(request, workspace.preview_of, organizer.id, contest_id)
    if view is None:
        raise HTTPException(404)
    return preview(request, view)


@organizer_page(role=Role.EDITOR)
async def entries_csv(request: Request, organizer: OrganizerIdentity) -> Response:
    """The contest's entries as CSV (no personal data: the lead export is separate)."""
    contest_id = path_id(request, "contest_id")
    row = await in_workspace(request, own_contest, organizer.id, contest_id)
    assert row.id is not None
    return csv_download(request, f"entries-{row.slug}.csv", dashboard.entries_csv, row.id)


@organizer_page(role=Role.EDITOR)
async def vouchers_csv(request: Request, organizer: OrganizerIdentity) -> Response:
    """The issued voucher codes no shop has confirmed, for the shop's import screen."""
    contest_id = path_id(request, "contest_id")
    row = await in_workspace_writing(request, workspace.voucher_export, organizer.id, contest_id)
    assert row.id is not None
    filename = f"vouchers-{row.slug}.csv"
    return csv_download(request, filename, fulfilment.vouchers_to_import, row.id, now_of(request))
