"""``/api/v1/campaigns`` and ``/api/v1/contact-limit``: e-mail campaigns as the workspace
runs them (contest.campaigns): write a draft, read who it reaches and what it brought, start
and pause it; and the organizer's contact limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from contest import campaigns
from contest.campaigns import CampaignSettings
from contest.contests.formats import changed_settings, settings_as_json, settings_schema
from contest.contests.setting import ConfigErrors
from contest.leads.pressure import MAX_LIMIT, PolicyRefused, policy_of, set_policy
from contest.roles import Role
from contest.transactions import reading, writing
from contest.web.api.base import (
    ApiSection,
    BadRequest,
    Caller,
    error,
    invalid,
    iso,
    json_object,
    path_id,
)
from contest.web.api.schemas import blank_as_null
from contest.web.base import now_of, refusal_json, state_of

COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
SETTINGS = settings_schema(CampaignSettings)
INPUT = blank_as_null(SETTINGS, CampaignSettings)
SCHEMAS: dict[str, Any] = {
    "CampaignInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": INPUT,
        "required": ["name", "contest"],
    },
    "CampaignChange": {"type": "object", "additionalProperties": False, "properties": INPUT},
    "Campaign": {
        "type": "object",
        "properties": {
            **SETTINGS,
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["draft", "sending", "paused", "sent"]},
            "link": {"type": "string", "description": "Its tracked link to the contest."},
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": NULLABLE_DATETIME,
            "finished_at": NULLABLE_DATETIME,
            "audience": {
                "type": "object",
                "properties": {"eligible": {"type": "integer"}, "left_out": COUNTS},
                "required": ["eligible", "left_out"],
                "description": "Who it would reach now, and who is left out, by reason.",
            },
            "results": COUNTS,
        },
        "required": ["id", "name", "contest", "status", "link", "audience", "results"],
    },
    "Campaigns": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Campaign"}}
        },
        "required": ["items"],
    },
    "ContactLimit": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "days": {"type": "integer", "minimum": 7, "maximum": 365},
        },
        "required": ["limit", "days"],
        "description": "At least 7 days per message: 14 days for 2, 21 for 3, 28 for 4.",
        "anyOf": [
            {"properties": {"limit": {"enum": [limit]}, "days": {"minimum": 7 * limit}}}
            for limit in range(1, MAX_LIMIT + 1)
        ],
    },
}

section = ApiSection(schemas=SCHEMAS)


def _described(request: Request, caller: Caller, campaign_id: int) -> Callable[[Any], Any]:
    """Reads the campaign, its audience and its results, as the API returns them."""
    now, base = now_of(request), state_of(request).settings.base_url

    def read(connection: Any) -> dict[str, Any]:
        view = campaigns.campaign_of(connection, caller.organizer_id, campaign_id)
        audience = campaigns.count_audience(connection, view, now)
        results = campaigns.report(connection, view)
        return {
            **settings_as_json(view.settings),
            "id": view.id,
            "status": view.status,
            "link": f"{base}/s/{view.link_code}",
            "created_at": iso(view.created_at),
            "started_at": iso(view.started_at) if view.started_at else None,
            "finished_at": iso(view.finished_at) if view.finished_at else None,
            "audience": {"eligible": audience.eligible, "left_out": audience.left_out},
            "results": vars(results),
        }

    return read


def _campaign_id(request: Request) -> int:
    found = path_id(request, "campaign_id")
    if found is None:
        raise BadRequest(404, "not_found", "No such campaign.")
    return found


async def _answer(
    request: Request, caller: Caller, campaign_id: int, status: int = 200
) -> Response:
    engine = state_of(request).engine
    body = await run_in_threadpool(reading, engine, _described(request, caller, campaign_id))
    return JSONResponse(body, status_code=status)


@section.operation(
    "GET",
    "/campaigns",
    "listCampaigns",
    "The campaigns, newest first, each with its audience and results",
    ok={"200": ("Campaigns", "The campaigns.")},
)
async def list_campaigns(request: Request, caller: Caller) -> Response:
    engine = state_of(request).engine
    found = await run_in_threadpool(reading, engine, campaigns.list_campaigns, caller.organizer_id)
    items = [
        await run_in_threadpool(reading, engine, _described(request, caller, view.id))
        for view in found
    ]
    return JSONResponse({"items": items})


@section.operation(
    "POST",
    "/campaigns",
    "createCampaign",
    "Write a draft campaign announcing one of your published contests",
    body="CampaignInput",
    ok={"201": ("Campaign", "The draft, with who it would reach now.")},
    errors={"422": "A field is unknown, not well formed, or not allowed (the message says)."},
)
async def create_campaign(request: Request, caller: Caller) -> Response:
    data = await json_object(request)
    try:
        settings = changed_settings(CampaignSettings(), data)
        created = await run_in_threadpool(
            writing,
            state_of(request).engine,
            campaigns.create_campaign,
            caller.organizer_id,
            settings,
            now_of(request),
        )
    except ConfigErrors as problems:
        return invalid(problems.errors)
    return await _answer(request, caller, created, 201)


@section.operation(
    "GET",
    "/campaigns/{campaign_id}",
    "readCampaign",
    "A campaign, who it reaches (and who is left out, why), and what it brought",
    ok={"200": ("Campaign", "The campaign.")},
    errors={"404": "No such campaign among yours."},
)
async def read_campaign(request: Request, caller: Caller) -> Response:
    return await _answer(request, caller, _campaign_id(request))


@section.operation(
    "PATCH",
    "/campaigns/{campaign_id}",
    "updateCampaign",
    "Change a draft: the fields sent; the others keep their values",
    body="CampaignChange",
    ok={"200": ("Campaign", "The draft as saved.")},
    errors={
        "404": "No such campaign among yours.",
        "409": "The campaign has started: it no longer changes.",
        "422": "A field is unknown, not well formed, or not allowed.",
    },
)
async def update_campaign(request: Request, caller: Caller) -> Response:
    campaign_id = _campaign_id(request)
    engine, now = state_of(request).engine, now_of(request)
    current = await run_in_threadpool(
        reading, engine, campaigns.campaign_of, caller.organizer_id, campaign_id
    )
    data = await json_object(request)
    try:
        settings = changed_settings(current.settings, data)
        await run_in_threadpool(
            writing,
            engine,
            campaigns.update_campaign,
            caller.organizer_id,
            campaign_id,
            settings,
            now,
        )
    except ConfigErrors as problems:
        return invalid(problems.errors)
    except campaigns.CampaignRefused as refusal:
        return refusal_json(refusal)
    return await _answer(request, caller, campaign_id)


def _transition(name: str, operation: Callable[..., None], summary: str) -> None:
    async def handler(request: Request, caller: Caller) -> Response:
        campaign_id = _campaign_id(request)
        try:
            await run_in_threadpool(
                writing,
                state_of(request).engine,
                operation,
                caller.organizer_id,
                campaign_id,
                now_of(request),
            )
        except campaigns.CampaignRefused as refusal:
            return refusal_json(refusal)
        except ConfigErrors as problems:  # the announced contest closed meanwhile
            return invalid(problems.errors)
        return await _answer(request, caller, campaign_id)

    section.operation(
        "POST",
        f"/campaigns/{{campaign_id}}/{name}",
        f"{name}Campaign",
        summary,
        body_required=False,
        ok={"200": ("Campaign", "The campaign.")},
        errors={
            "404": "No such campaign among yours.",
            "409": "Not possible in the campaign's state (the message says).",
            "422": "The announced contest no longer takes entries.",
        },
    )(handler)


_transition("start", campaigns.start, "Start (or resume) sending: the worker queues each minute")
_transition("pause", campaigns.pause, "Pause sending; starting again resumes where it stopped")


@section.operation(
    "GET",
    "/contact-limit",
    "readContactLimit",
    "How often one person may be reached for marketing, whatever sends it",
    ok={"200": ("ContactLimit", "The limit.")},
)
async def read_contact_limit(request: Request, caller: Caller) -> Response:
    policy = await run_in_threadpool(
        reading, state_of(request).engine, policy_of, caller.organizer_id
    )
    return JSONResponse({"limit": policy.limit, "days": policy.days})


@section.operation(
    "PUT",
    "/contact-limit",
    "setContactLimit",
    "Set the limit: 1 to 4 messages, at least 7 days per message",
    role=Role.OWNER,
    body="ContactLimit",
    ok={"200": ("ContactLimit", "The limit as saved.")},
    errors={"422": "A limit the platform does not allow."},
)
async def set_contact_limit(request: Request, caller: Caller) -> Response:
    data = await json_object(request)  # two whole numbers in their bounds (ContactLimit)
    limit, days = int(data["limit"]), int(data["days"])
    try:
        await run_in_threadpool(
            writing, state_of(request).engine, set_policy, caller.organizer_id, limit, days
        )
    except PolicyRefused as refusal:
        return error(422, refusal.code, refusal.message_en)
    return JSONResponse({"limit": limit, "days": days})
