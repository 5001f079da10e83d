"""``/api/v1/organization``: the organization's settings, as the workspace page edits them."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contest.contests.formats import changed_settings, settings_as_json
from contest.contests.setting import ConfigErrors
from contest.organization import (
    OrganizationSettings,
    missing_for_publishing,
    organization_for,
    update_organization,
)
from contest.transactions import in_session
from contest.web.api import BadRequest, api_route, invalid, json_body
from contest.web.base import now_of, state_of


def _described(organization: OrganizationSettings) -> dict[str, object]:
    body = settings_as_json(organization)
    body["missing_for_publishing"] = list(missing_for_publishing(organization))
    return body


@api_route
async def read_organization(request: Request, organizer_id: int) -> Response:
    """The organization's legal identity, e-mail sender and defaults."""
    engine = state_of(request).engine
    organization = await run_in_threadpool(in_session, engine, organization_for, organizer_id)
    return JSONResponse(_described(organization))


@api_route
async def update_organization_settings(request: Request, organizer_id: int) -> Response:
    """Changes the fields sent; the others keep their values."""
    engine = state_of(request).engine
    try:
        data = await json_body(request)
        current = await run_in_threadpool(in_session, engine, organization_for, organizer_id)
        changed = changed_settings(current, data)
    except BadRequest as bad:
        return bad.response
    except ConfigErrors as problems:
        return invalid(problems.errors)
    now = now_of(request)
    await run_in_threadpool(in_session, engine, update_organization, organizer_id, changed, now)
    state_of(request).contests.clear()
    return JSONResponse(_described(changed))


routes = [
    Route("/organization", read_organization, name="organization", methods=["GET"]),
    Route(
        "/organization",
        update_organization_settings,
        name="update_organization",
        methods=["PATCH"],
    ),
]
