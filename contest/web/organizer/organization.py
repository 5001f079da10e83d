"""The organization's settings: its legal identity, how its e-mails present it, its defaults."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from contest import media
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
    current = await in_workspace(request, organization_for, organizer.id)
    if form is not None:
        try:
            settings = parse_settings(OrganizationSettings, form)
            settings = replace(settings, logo_path=await _logo(request, form, current.logo_path))
        except ConfigErrors as problems:
            values = raw_values(form)
            return _page(request, values, problems.errors, None, current.logo_path, 422)
        now = now_of(request)
        await in_workspace(request, update_organization, organizer.id, settings, now)
        state_of(request).contests.clear()  # pages print the organizer's identity
        return redirect(request, "organizer:organization")
    values = settings_form_values(current)
    return _page(request, values, {}, missing_for_publishing(current), current.logo_path)


async def _logo(request: Request, form: FormData, current: str | None) -> str | None:
    """The uploaded logo, stored (contest.media); the current one when none is sent."""
    upload = form.get("logo")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return current
    data = await upload.read(media.MAX_BYTES + 1)
    try:
        folder = state_of(request).settings.upload_dir
        return await run_in_threadpool(media.store_image, data, folder)
    except media.ImageRefused as refused:
        problems = ConfigErrors()
        problems.add("logo", refused.message_fr, refused.message_en)
        raise problems from None


def _page(
    request: Request,
    values: dict[str, object],
    errors: dict[str, tuple[str, str]],
    missing: tuple[str, ...] | None,
    logo: str | None,
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
        logo=logo,
    )
