"""E-mail campaigns announcing a contest to a segment of the leads (contest.campaigns): the
list with the contact limit, writing one with its preview, who it reaches and who is left out
(and why), a test to oneself, sending and pausing, and what it brought."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contest import campaigns
from contest.campaigns import CAMPAIGN_SETTINGS, REASON_LABELS, CampaignSettings
from contest.contests.formats import parse_settings, raw_values, settings_form_values
from contest.contests.setting import ConfigErrors
from contest.leads.export import SEGMENT_LABELS
from contest.leads.pressure import PolicyRefused, policy_of, set_policy
from contest.roles import Role
from contest.transactions import reading, writing
from contest.web.auth import organizer_page
from contest.web.base import now_of, redirect, refusal_status, state_of
from contest.web.organizer.base import language_of, page, path_id
from rules import Refusal

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity


async def _run(request: Request, operation: Callable[..., Any], *args: Any, write: bool) -> Any:
    """One domain call in a worker thread; another organizer's campaign is a 404."""
    run = writing if write else reading
    try:
        return await run_in_threadpool(run, state_of(request).engine, operation, *args)
    except campaigns.CampaignNotFound as exc:
        raise HTTPException(404) from exc


@organizer_page
async def campaigns_page(request: Request, organizer: OrganizerIdentity) -> Response:
    """The campaigns, newest first, with their progress, and the contact limit."""

    def both(connection: Connection) -> tuple[list[campaigns.CampaignView], Any]:
        return campaigns.list_campaigns(connection, organizer.id), policy_of(
            connection, organizer.id
        )

    found, policy = await _run(request, both, write=False)
    return _list_page(request, found, policy)


def _list_page(
    request: Request, found: list[Any], policy: Any, refusal: Refusal | None = None
) -> Response:
    return page(
        request,
        "organizer/campaigns.html",
        status_code=422 if refusal else 200,  # a limit the platform does not allow
        campaigns=found,
        policy=policy,
        error=refusal.message(language_of(request)) if refusal else None,
    )


@organizer_page(role=Role.OWNER)
async def contact_limit(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """Sets how often one person may be reached for marketing, whatever sends it."""
    assert form is not None

    def number(name: str) -> int:
        text = str(form.get(name) or "")
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else 0

    try:
        await _run(request, set_policy, organizer.id, number("limit"), number("days"), write=True)
    except PolicyRefused as refusal:
        found, policy = await _run(
            request,
            lambda c: (campaigns.list_campaigns(c, organizer.id), policy_of(c, organizer.id)),
            write=False,
        )
        return _list_page(request, found, policy, refusal)
    return redirect(request, "organizer:campaigns")


async def _form_page(
    request: Request,
    organizer: OrganizerIdentity,
    values: dict[str, object],
    errors: dict[str, tuple[str, str]],
    campaign: campaigns.CampaignView | None,
    status_code: int = 200,
) -> Response:
    contests = await _run(request, campaigns.announceable, organizer.id, write=False)
    return page(
        request,
        "organizer/campaign_form.html",
        status_code=status_code,
        values=values,
        errors=errors,
        specs=CAMPAIGN_SETTINGS,
        campaign=campaign,
        contests=contests,
        segments=SEGMENT_LABELS,
    )


@organizer_page
async def campaign_new(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """A new campaign's form; POST saves it as a draft and shows it."""
    if form is None:
        values = settings_form_values(
            CampaignSettings(contest=request.query_params.get("contest", "")[:64])
        )
        return await _form_page(request, organizer, values, {}, None)
    try:
        settings = parse_settings(CampaignSettings, form)
        now = now_of(request)
        created = await _run(
            request, campaigns.create_campaign, organizer.id, settings, now, write=True
        )
    except ConfigErrors as problems:
        return await _form_page(request, organizer, raw_values(form), problems.errors, None, 422)
    return redirect(request, "organizer:campaign", campaign_id=created)


@organizer_page
async def campaign_edit(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """A draft's form; POST saves the change."""
    campaign_id = path_id(request, "campaign_id")
    current = await _run(request, campaigns.campaign_of, organizer.id, campaign_id, write=False)
    if form is None:
        values = settings_form_values(current.settings)
        return await _form_page(request, organizer, values, {}, current)
    try:
        settings = parse_settings(CampaignSettings, form)
        now = now_of(request)
        await _run(
            request,
            campaigns.update_campaign,
            organizer.id,
            campaign_id,
            settings,
            now,
            write=True,
        )
    except ConfigErrors as problems:
        values = raw_values(form)
        return await _form_page(request, organizer, values, problems.errors, current, 422)
    except campaigns.CampaignRefused as refusal:
        return await _view_page(request, organizer, campaign_id, refusal)
    return redirect(request, "organizer:campaign", campaign_id=campaign_id)


@organizer_page
async def campaign_view(request: Request, organizer: OrganizerIdentity) -> Response:
    """The campaign: its preview in each language, who it reaches and who is left out, its
    progress and what it brought, and what can be done with it now."""
    return await _view_page(request, organizer, path_id(request, "campaign_id"))


async def _view_page(
    request: Request,
    organizer: OrganizerIdentity,
    campaign_id: int,
    refusal: Refusal | None = None,
    tested: bool = False,
) -> Response:
    now = now_of(request)

    def everything(connection: Connection) -> tuple[Any, Any, Any]:
        view = campaigns.campaign_of(connection, organizer.id, campaign_id)
        return (
            view,
            campaigns.count_audience(connection, view, now),
            campaigns.report(connection, view),
        )

    view, audience, results = await _run(request, everything, write=False)
    return page(
        request,
        "organizer/campaign.html",
        status_code=refusal_status(refusal) if refusal else 200,
        campaign=view,
        audience=audience,
        results=results,
        reasons=REASON_LABELS,
        segments=SEGMENT_LABELS,
        link_url=f"{state_of(request).settings.base_url}/s/{view.link_code}",
        error=refusal.message(language_of(request)) if refusal else None,
        tested=tested or request.query_params.get("tested") == "1",
    )


ACTIONS = {"start": campaigns.start, "pause": campaigns.pause}


@organizer_page
async def campaign_action(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """``test`` (to the signed-in member, in the language chosen), ``start`` (or resume) and
    ``pause``."""
    campaign_id, action = path_id(request, "campaign_id"), request.path_params["action"]
    now = now_of(request)
    try:
        if action == "test":
            language = str(form.get("language") if form else "") or language_of(request)
            if language not in ("fr", "en"):
                raise HTTPException(400)
            await _run(
                request,
                campaigns.send_test,
                organizer.id,
                campaign_id,
                organizer.email,
                language,
                now,
                write=True,
            )
            state_of(request).sender.wake.set()
            url = request.url_for("organizer:campaign", campaign_id=campaign_id).path
            return RedirectResponse(f"{url}?tested=1", status_code=303)
        if action not in ACTIONS:
            raise HTTPException(404)
        await _run(request, ACTIONS[action], organizer.id, campaign_id, now, write=True)
    except (campaigns.CampaignRefused, ConfigErrors) as problem:
        refusal = (
            problem
            if isinstance(problem, Refusal)
            else campaigns.CampaignRefused("invalid", *_first(problem))
        )
        return await _view_page(request, organizer, campaign_id, refusal)
    return redirect(request, "organizer:campaign", campaign_id=campaign_id)


def _first(problems: ConfigErrors) -> tuple[str, str]:
    return next(iter(problems.errors.values()))
