"""The organization's settings: its legal identity, how its e-mails present it, its defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from contest.contests.formats import parse_settings, raw_values, settings_form_values
from contest.contests.setting import ConfigErrors
from contest.organization import (
    ORGANIZATION_SETTINGS,
    OrganizationSettings,
    missing_for_publishing,
    organization_for,
    update_organization,
)
from contest.roles import Role
from contest.web.auth import organizer_page
from contest.web.base import now_of, redirect, state_of
from contest.web.organizer.base import in_workspace, page

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity


@organizer_page(role=Role.OWNER)
async def organization_page(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """The organization's settings; POST saves them (422 with the problems beside the fields)."""
    if form is not None:
        try:
            settings = parse_settings(OrganizationSettings, form)
        except ConfigErrors as problems:
            return _page(request, raw_values(form), problems.errors, None, 422)
        now = now_of(request)
        await in_workspace(request, update_organization, organizer.id, settings, now)
        state_of(request).contests.clear()  # pages print the organizer's identity
        return redirect(request, "organizer:organization")
    current = await in_workspace(request, organization_for, organizer.id)
    return _page(request, settings_form_values(current), {}, missing_for_publishing(current))


def _page(
    request: Request,
    values: dict[str, object],
    errors: dict[str, tuple[str, str]],
    missing: tuple[str, ...] | None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "organizer/organization.html",
        status_code=status_code,
        values=values,
        errors=errors,
        missing=missing or (),
        specs=ORGANIZATION_SETTINGS,
    )
