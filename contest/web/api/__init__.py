"""The JSON API under /api/v1/: bearer tokens scoped to one organizer, each with a role.

Each module declares its operations once (contest.web.api.base.ApiSection); the routes and
the OpenAPI document are both made from those declarations.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contest.web.api import activity, admin, campaigns, contests, organization
from contest.web.api.openapi import openapi_document
from contest.web.base import state_of

SECTIONS = (
    contests.section,
    activity.section,
    campaigns.section,
    organization.section,
    admin.section,
)


async def openapi(request: Request) -> Response:
    """The OpenAPI 3.1 document of this API."""
    return JSONResponse(openapi_document(state_of(request).settings.base_url, SECTIONS))


routes = [
    Route("/openapi.json", openapi, name="openapi", methods=["GET"]),
    *(route for section in SECTIONS for route in section.routes()),
]
