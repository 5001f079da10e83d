"""``/api/v1/organization``: the organization's settings, as the workspace page edits them;
``/api/v1/sending-domain``: the domain its e-mails are sent from and the DNS records to publish.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
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
from contest.sendingdomains import (
    SendingDomain,
    check_sending_domain,
    relay_of,
    sending_domain_of,
    set_sending_address,
)
from contest.transactions import reading, writing
from contest.web.api.base import ApiSection, Caller, error, in_api, invalid, iso, json_body
from contest.web.api.schemas import ORGANIZATION_SCHEMAS, SENDING_DOMAIN_SCHEMAS
from contest.web.base import now_of, refusal_json, state_of
from rules import Refusal

section = ApiSection(schemas={**ORGANIZATION_SCHEMAS, **SENDING_DOMAIN_SCHEMAS})


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


def _sending_domain(request: Request, domain: SendingDomain) -> dict[str, object]:
    return {
        "address": domain.address,
        "domain": domain.domain,
        "selector": domain.selector,
        "verified": domain.verified,
        "verified_at": iso(domain.verified_at),
        "checked_at": iso(domain.checked_at),
        "records": [
            {
                "kind": record.kind.value,
                "type": record.type,
                "name": record.name,
                "value": record.value,
                "status": record.status.value,
                "found": list(record.found),
            }
            for record in domain.records(relay_of(state_of(request).settings))
        ],
    }


NO_SENDING_DOMAIN = {"404": "No sending address has been set."}


@section.operation(
    "GET",
    "/sending-domain",
    "readSendingDomain",
    "The domain e-mails are sent from, the DNS records to publish and their last check",
    role=Role.OWNER,
    ok={"200": ("SendingDomain", "The sending domain.")},
    errors=NO_SENDING_DOMAIN,
)
async def read_sending_domain(request: Request, caller: Caller) -> Response:
    state = state_of(request)
    domain = await run_in_threadpool(reading, state.engine, sending_domain_of, caller.organizer_id)
    if domain is None:
        return error(404, "not_found", "No sending address has been set.")
    return JSONResponse(_sending_domain(request, domain))


@section.operation(
    "POST",
    "/sending-domain",
    "setSendingDomain",
    "Set the address e-mails are sent from; a new domain gets a new key to publish",
    role=Role.OWNER,
    body="SendingAddress",
    ok={"200": ("SendingDomain", "The sending domain, its records to publish.")},
    errors={"422": "Not an address on a public domain name."},
)
async def set_sending_domain(request: Request, caller: Caller) -> Response:
    data = await json_body(request)
    address = data.get("address") if isinstance(data, dict) else None
    if not isinstance(address, str) or set(data) != {"address"}:
        return invalid({"address": ("Une adresse e-mail.", "An e-mail address.")})
    state = state_of(request)
    try:
        domain = await run_in_threadpool(
            writing,
            state.engine,
            set_sending_address,
            state.box,
            caller.organizer_id,
            address[:254],
            now_of(request),
        )
    except Refusal as refusal:
        return invalid({"address": (refusal.message_fr, refusal.message_en)})
    return JSONResponse(_sending_domain(request, domain))


@section.operation(
    "POST",
    "/sending-domain/check",
    "checkSendingDomain",
    "Read the published DNS records; the domain is verified when its DKIM record matches",
    role=Role.OWNER,
    ok={"200": ("SendingDomain", "The sending domain with what was found.")},
    errors={**NO_SENDING_DOMAIN, "409": "The sending address changed during the check."},
)
async def check_sending_records(request: Request, caller: Caller) -> Response:
    state = state_of(request)
    try:
        domain = await run_in_threadpool(
            check_sending_domain,
            state.engine,
            caller.organizer_id,
            state.dns,
            relay_of(state.settings),
            now_of(request),
        )
    except Refusal as refusal:
        return refusal_json(refusal)
    return JSONResponse(_sending_domain(request, domain))
