"""The organization's settings: its legal identity, how its e-mails present it, its defaults,
and the domain its e-mails are sent from (DKIM key, the DNS records to publish, their check).
"""

from __future__ import annotations

from dataclasses import replace
from email.utils import parseaddr
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from contest import media, sendingdomains
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
from contest.transactions import reading, writing
from contest.web.auth import organizer_page
from contest.web.base import now_of, redirect, refusal_status, state_of
from contest.web.organizer.base import in_workspace, language_of, not_possible, page
from rules import Refusal

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
            return await _page(
                request, organizer, values, problems.errors, None, current.logo_path, 422
            )
        now = now_of(request)
        await in_workspace(request, update_organization, organizer.id, settings, now)
        state_of(request).contests.clear()  # pages print the organizer's identity
        return redirect(request, "organizer:organization")
    values = settings_form_values(current)
    return await _page(
        request, organizer, values, {}, missing_for_publishing(current), current.logo_path
    )


@organizer_page(role=Role.OWNER)
async def sending_domain_save(
    request: Request, organizer: OrganizerIdentity, form: FormData
) -> Response:
    """Sets the address e-mails are sent from; a new domain gets its key (422 when refused)."""
    state = state_of(request)
    address = str(form.get("sender_address") or "")[:254]
    try:
        await run_in_threadpool(
            writing,
            state.engine,
            sendingdomains.set_sending_address,
            state.box,
            organizer.id,
            address,
            now_of(request),
        )
    except Refusal as refusal:
        current = await in_workspace(request, organization_for, organizer.id)
        problem = {"sender_address": (refusal.message_fr, refusal.message_en)}
        return await _page(
            request,
            organizer,
            settings_form_values(current),
            {},
            missing_for_publishing(current),
            current.logo_path,
            422,
            sending=({"sender_address": address}, problem),
        )
    return redirect(request, "organizer:organization")


@organizer_page(role=Role.OWNER)
async def sending_domain_check(
    request: Request, organizer: OrganizerIdentity, form: FormData
) -> Response:
    """Reads the published DNS records and shows, for each, what was found."""
    state = state_of(request)
    try:
        await run_in_threadpool(
            sendingdomains.check_sending_domain,
            state.engine,
            organizer.id,
            state.dns,
            sendingdomains.relay_of(state.settings),
            now_of(request),
        )
    except Refusal as refusal:
        return not_possible(
            request,
            refusal.message(language_of(request)),
            request.url_for("organizer:organization").path,
            status_code=refusal_status(refusal),
        )
    return redirect(request, "organizer:organization")


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


async def _page(
    request: Request,
    organizer: OrganizerIdentity,
    values: dict[str, object],
    errors: dict[str, tuple[str, str]],
    missing: tuple[str, ...] | None,
    logo: str | None,
    status_code: int = 200,
    sending: tuple[dict[str, str], dict[str, tuple[str, str]]] | None = None,
) -> Response:
    state = state_of(request)
    relay = sendingdomains.relay_of(state.settings)
    domain = await run_in_threadpool(
        reading, state.engine, sendingdomains.sending_domain_of, organizer.id
    )
    sending_values, sending_errors = sending or (
        {"sender_address": domain.address if domain else ""},
        {},
    )
    return page(
        request,
        "organizer/organization.html",
        status_code=status_code,
        values=values,
        errors=errors,
        missing=missing or (),
        specs=ORGANIZATION_SETTINGS,
        logo=logo,
        domain=domain,
        records=domain.records(relay) if domain else (),
        spf_mechanism=sendingdomains.spf_mechanism(relay),
        sending_values=sending_values,
        sending_errors=sending_errors,
        platform_address=parseaddr(state.settings.mail_from)[1],
    )
