"""``/api/v1/organization``: the organization's settings, as the workspace page edits them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from contest.contests.formats import changed_settings, settings_as_json
from contest.contests.setting import ConfigErrors
from contest.organization import (
    OrganizationSettings,
    missing_for_publishing,
    organization_for,
    update_organization,
)
from contest.roles import Role
from contest.web.api.base import ApiSection, Caller, in_api, invalid, json_body
from contest.web.api.schemas import ORGANIZATION_SCHEMAS
from contest.web.base import now_of, state_of

section = ApiSection(schemas=ORGANIZATION_SCHEMAS)


def _described(organization: OrganizationSettings) -> dict[str, object]:
    body = settings_as_json(organization)
    body["missing_for_publishing"] = list(missing_for_publishing(organization))
    return body


@section.operation(
    "GET",
    "/organization",
    "readOrganization",
    "The organization's legal identity, e-mail sender and defaults",
    ok={"200": ("Organization", "The organization.")},
)
async def read_organization(request: Request, caller: Caller) -> Response:
    organization = await in_api(request, organization_for, caller.organizer_id)
    return JSONResponse(_described(organization))


@section.operation(
    "PATCH",
    "/organization",
    "updateOrganization",
    "Change the fields sent; the others keep their values",
    role=Role.OWNER,
    body="OrganizationChange",
    ok={"200": ("Organization", "The organization as saved.")},
    errors={"422": "A field is unknown or not well formed."},
)
async def update_organization_settings(request: Request, caller: Caller) -> Response:
    data = await json_body(request)
    current = await in_api(request, organization_for, caller.organizer_id)
    try:
        changed = changed_settings(current, data)
    except ConfigErrors as problems:
        return invalid(problems.errors)
    await in_api(request, update_organization, caller.organizer_id, changed, now_of(request))
    state_of(request).contests.clear()
    return JSONResponse(_described(changed))
