"""What contests bring, through the API as in the workspace: the leads (paged, and the
streaming CSV), tracked links, referrals held for review, and the prizes' delivery.

Leads follow the lead export's consent rules: only people whose consent for the purpose is
confirmed, and every read is in the audit log.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from contest import workspace
from contest.leads import export
from contest.organizer_contests import own_contest
from contest.prizes import fulfilment
from contest.roles import Role
from contest.transactions import in_write_session, reading, writing
from contest.web.api.base import (
    CSV,
    ApiSection,
    BadRequest,
    Caller,
    csv_stream,
    error,
    in_api,
    iso,
    json_object,
    query_int,
    query_parameter,
)
from contest.web.api.contests import _contest_id
from contest.web.api.schemas import ACTIVITY_SCHEMAS
from contest.web.base import now_of, preference_links, state_of
from viral import fraud
from viral.links import LinkFields, LinkRefused
from viral.referrals import NotInReview

section = ApiSection(schemas=ACTIVITY_SCHEMAS)

CONSENTS = (export.MARKETING_EMAIL, export.PARTNERS)
SEGMENTS = tuple(name for name, _, _ in export.SEGMENTS)
# What a prize award's status means for its delivery, as the contest page says it.
DELIVERY = {
    "notified": "The winner was told and has not claimed yet.",
    "claimed": "Claimed; the voucher is being created in the shop.",
    "to_import": "Claimed; the code waits to be imported in the shop (vouchers.csv).",
    "delivered": "The shop confirmed the voucher code.",
    "expired": "Not claimed in time; passed to the next person drawn.",
    "failed": "The shop refused the voucher (shop_error says why): fix the shop connection, or "
    "import the code from vouchers.csv.",
}


def _text(request: Request, name: str, allowed: tuple[str, ...] | None = None) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and (len(value) > 64 or (allowed is not None and value not in allowed)):
        choices = f": one of {', '.join(allowed)}" if allowed else " (64 characters at most)"
        raise BadRequest(400, "invalid_query", f"{name} is not valid{choices}.")
    return value


def lead_json(row: Any) -> dict[str, Any]:
    return {
        "email": row.email,
        "first_name": row.first_name,
        "segment": row.segment,
        "score": int(row.score),
        "consent": {
            "purpose": row.consent_purpose,
            "state": row.consent_state,
            "since": iso(row.consent_since),
            "version": row.consent_version,
        },
        "contests": int(row.contests),
        "first_source": row.first_source,
        "last_activity_at": iso(row.last_activity_at),
    }


ANSWER_PATTERN = r"^[1-9][0-9]{0,8}:[A-Za-z0-9_-]{1,40}:[A-Za-z0-9_-]{1,40}$"


def _answer(text: str | None) -> export.Answer | None:
    """The ``answer`` filter, ``{contest id}:{question key}:{answer key}``; 400 otherwise."""
    if text is None:
        return None
    contest, _, rest = text.partition(":")
    if not re.fullmatch(ANSWER_PATTERN, text) or not 1 <= int(contest) < 2**31:
        raise BadRequest(
            400, "invalid_query", "answer reads {contest id}:{question key}:{answer key}."
        )
    question, choice = rest.split(":")
    return export.Answer(int(contest), question, choice)


@section.operation(
    "GET",
    "/leads",
    "listLeads",
    "A page of the leads who gave their consent, qualified and segmented",
    role=Role.EDITOR,
    query=(
        query_parameter("consent", {"type": "string", "enum": list(CONSENTS)}),
        query_parameter("segment", {"type": "string", "enum": list(SEGMENTS)}),
        query_parameter("contest", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}),
        query_parameter("source", {"type": "string", "maxLength": 64}),
        query_parameter(
            "answer",
            {"type": "string", "maxLength": 64, "pattern": ANSWER_PATTERN},
            "Those who gave this answer to a qualifying question: "
            "{contest id}:{question key}:{answer key}.",
        ),
        query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
        query_parameter("offset", {"type": "integer", "minimum": 0, "maximum": 10**9}),
    ),
    ok={"200": ("LeadsPage", "Leads, in a stable order, with the total matching.")},
    errors={"400": "Invalid query parameters.", "404": "No such contest."},
)
async def list_leads(request: Request, caller: Caller) -> Response:
    """Only people whose consent for ``consent`` (default: offers by e-mail) is confirmed,
    as in the lead export; the read is audited."""
    consent = _text(request, "consent", CONSENTS) or export.MARKETING_EMAIL
    segment = _text(request, "segment", SEGMENTS)
    source = _text(request, "source")
    answer = _answer(_text(request, "answer"))
    limit = query_int(request, "limit", 100, 1, 500)
    offset = query_int(request, "offset", 0, 0, 10**9)
    contest_id = None
    if request.query_params.get("contest"):
        contest_id = query_int(request, "contest", 0, 1, 2**31 - 1)
        await in_api(request, own_contest, caller.organizer_id, contest_id)
    page = await run_in_threadpool(
        _writing_page,
        request,
        caller.organizer_id,
        consent=consent,
        segment=segment,
        contest_id=contest_id,
        source=source,
        answer=answer,
        limit=limit,
        offset=offset,
    )
    following = offset + limit if offset + limit < page.total else None
    return JSONResponse(
        {"items": [lead_json(row) for row in page.rows], "total": page.total, "next": following}
    )


def _writing_page(request: Request, organizer_id: int, **filters: Any) -> export.LeadPage:
    """The page read and its audit line written in one transaction, which takes the write
    lock from its start (a read lock upgraded midway fails under concurrent writes)."""
    engine = state_of(request).engine
    return writing(engine, export.lead_page, organizer_id, now_of(request), **filters)


@section.operation(
    "GET",
    "/leads.csv",
    "exportLeads",
    "Every lead who gave their consent, as CSV (streamed)",
    role=Role.EDITOR,
    query=(
        query_parameter("contest", {"type": "string", "maxLength": 100}, "A contest's slug."),
        query_parameter("purpose", {"type": "string", "maxLength": 64}),
        query_parameter("lawful_basis", {"type": "string", "maxLength": 500}),
        query_parameter(
            "partner",
            {"type": "string", "maxLength": 200},
            "For the purpose partners: the partner, as the contest names it.",
        ),
    ),
    ok={"200": (CSV, "The CSV export, as the workspace downloads it.")},
    errors={"422": "The export cannot be made as asked (the message says why)."},
)
async def export_leads_csv(request: Request, caller: Caller) -> Response:
    params = request.query_params
    slug = params.get("contest") or None
    try:
        chunks = await run_in_threadpool(
            export.export_leads,
            state_of(request).engine,
            caller.organizer_id,
            contest_slug=slug,
            purpose=params.get("purpose") or export.MARKETING_EMAIL,
            lawful_basis=params.get("lawful_basis") or None,
            now=now_of(request),
            links=preference_links(request),
            partner=params.get("partner") or None,
        )
        first = await run_in_threadpool(next, chunks, "")
    except export.LeadExportRefused as refused:
        return error(422, refused.code, refused.message_en)
    return csv_stream(request, itertools.chain([first], chunks), f"leads-{slug or 'all'}.csv")


# --- Tracked links ---------------------------------------------------------------------------


def link_json(link: Any, base_url: str) -> dict[str, Any]:
    return {
        "code": link.code,
        "url": f"{base_url}/s/{link.code}",
        "label": link.label,
        "kind": link.kind,
        "utm_campaign": link.utm_campaign,
        "clicks": link.clicks,
        "entries": link.entries,
        "confirmed": link.confirmed,
    }


@section.operation(
    "GET",
    "/contests/{contest_id}/links",
    "listLinks",
    "The contest's tracked links, with what each brought",
    ok={"200": ("Links", "The links, oldest first.")},
)
async def list_links(request: Request, caller: Caller) -> Response:
    shown = await in_api(
        request, workspace.tracked_links, caller.organizer_id, _contest_id(request)
    )
    base = state_of(request).settings.base_url
    return JSONResponse({"items": [link_json(link, base) for link in shown.links]})


@section.operation(
    "POST",
    "/contests/{contest_id}/links",
    "createLink",
    "Make a tracked link for a partner, a newsletter, a poster or a campaign",
    body="LinkInput",
    ok={"201": ("Links", "The contest's links, the new one last.")},
    errors={"422": "The link is refused (the message says why)."},
)
async def create_link(request: Request, caller: Caller) -> Response:
    # Another organizer's contest is a 404 before the body is read.
    await in_api(request, own_contest, caller.organizer_id, _contest_id(request))
    data = await json_object(request)
    names = ("label", "kind", "utm_source", "utm_medium", "utm_campaign")
    unknown = sorted(set(data) - set(names))
    if unknown or not all(isinstance(data.get(name, ""), str) for name in names):
        raise BadRequest(422, "invalid", f"Fields are strings among {', '.join(names)}.")
    given = {name: str(data[name]) for name in names if name in data}
    fields = LinkFields(**{"label": "", **given})
    contest_id, now = _contest_id(request), now_of(request)
    try:
        await in_api(
            request, workspace.add_tracked_link, caller.organizer_id, contest_id, fields, now
        )
        shown = await in_api(request, workspace.tracked_links, caller.organizer_id, contest_id)
    except LinkRefused as refusal:
        return error(422, refusal.code, refusal.message_en)
    base = state_of(request).settings.base_url
    items = [link_json(link, base) for link in shown.links]
    return JSONResponse({"items": items}, status_code=201)


# --- Referrals held for review ----------------------------------------------------------------


@section.operation(
    "GET",
    "/contests/{contest_id}/referrals",
    "listReferralsInReview",
    "Referrals that anti-fraud signals held for the organizer's decision",
    role=Role.EDITOR,
    ok={"200": ("ReviewQueue", "The referrals held or rejected, with the signals' reasons.")},
)
async def list_review(request: Request, caller: Caller) -> Response:
    queue = await in_api(
        request, workspace.referrals_to_review, caller.organizer_id, _contest_id(request)
    )
    items = [
        {
            "id": referral.id,
            "status": referral.status,
            "reasons": [fraud.explain(reason, "en") for reason in referral.reasons or ()],
            "created_at": iso(referral.created_at),
            "decided_at": iso(referral.decided_at),
            "referrer_email": referral.referrer_email,
            "referred_email": referral.referred_email,
        }
        for referral in queue.referrals
    ]
    return JSONResponse({"items": items})


@section.operation(
    "POST",
    "/contests/{contest_id}/referrals/{referral_id}",
    "decideReferral",
    "Clear (credit) or reject a referral held for review; audited",
    body="ReferralDecision",
    ok={"200": ("ReferralDecided", "The referral's new status.")},
    errors={"404": "No such contest, or no such referral waiting for a decision."},
)
async def decide_referral(request: Request, caller: Caller) -> Response:
    try:
        referral_id = int(request.path_params["referral_id"])
    except ValueError:
        return error(404, "not_found", "No such referral.")
    if not 1 <= referral_id <= 2**31 - 1:
        return error(404, "not_found", "No such referral.")
    # Another organizer's contest is a 404 before the body is read.
    await in_api(request, own_contest, caller.organizer_id, _contest_id(request))
    decision = (await json_object(request)).get("decision")
    if decision not in ("clear", "reject"):
        raise BadRequest(422, "invalid", "decision is clear or reject.")
    try:
        status = await in_api(
            request,
            workspace.decide_referral,
            caller.organizer_id,
            _contest_id(request),
            referral_id,
            decision,
            now_of(request),
        )
    except NotInReview:
        return error(404, "not_found", "No such referral waiting for a decision.")
    return JSONResponse({"id": referral_id, "status": status})


# --- Prizes and their delivery ----------------------------------------------------------------


@section.operation(
    "GET",
    "/contests/{contest_id}/prizes",
    "listPrizeAwards",
    "Each prize drawn, its winner's claim and the voucher's delivery to the shop",
    ok={"200": ("PrizeAwards", "The awards, by prize rank.")},
)
async def list_awards(request: Request, caller: Caller) -> Response:
    row = await in_api(request, own_contest, caller.organizer_id, _contest_id(request))
    assert row.id is not None
    engine = state_of(request).engine
    found = await run_in_threadpool(reading, engine, fulfilment.deliveries, row.id)
    items = [
        {
            "prize_rank": delivery.award.prize_rank,
            "prize": delivery.award.prize_description,
            "status": delivery.status,
            "delivery": DELIVERY.get(delivery.status, delivery.status),
            "shop_error": delivery.shop_error,
            "claim_deadline": iso(delivery.award.deadline),
            "claimed_at": iso(delivery.award.claimed_at),
            "delivered_at": iso(delivery.award.delivered_at),
            "voucher_issued": delivery.award.voucher_code is not None,
        }
        for delivery in found
    ]
    return JSONResponse({"items": items})


@section.operation(
    "GET",
    "/contests/{contest_id}/vouchers.csv",
    "exportVouchers",
    "The issued voucher codes waiting to be imported in the shop, as CSV; audited",
    role=Role.EDITOR,
    ok={"200": (CSV, "The codes, ready for the shop's import screen.")},
)
async def export_vouchers(request: Request, caller: Caller) -> Response:
    engine, now = state_of(request).engine, now_of(request)
    row = await run_in_threadpool(
        in_write_session,
        engine,
        workspace.voucher_export,
        caller.organizer_id,
        _contest_id(request),
    )
    assert row.id is not None
    contest_id = row.id

    def chunks() -> Any:
        with engine.connect() as connection:
            yield from fulfilment.vouchers_to_import(connection, contest_id, now)

    return csv_stream(request, chunks(), f"vouchers-{row.slug}.csv")
