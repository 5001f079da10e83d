"""``/api/v1/contests`` and ``/api/v1/clients``: contests, their entries and draws, clients.

Contests go through the same parsing and the same rule checks as the workspace form; a rule
refusal answers 422 with the rule ids, messages and sources.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from contest import organizer_contests
from contest.configuration import ContestRefused, SlugTaken
from contest.contests import ContestSettings, formats
from contest.contests.formats import json_as_form, settings_json
from contest.contests.setting import ConfigErrors
from contest.csvcells import safe_row
from contest.draw import drawing, results
from contest.leads import clients
from contest.organizer_contests import ContestDescription, ContestNotFound, EntryLine, NotADraft
from contest.roles import Role
from contest.web.api.base import (
    MAX_ID,
    ApiSection,
    Caller,
    error,
    finding_json,
    in_api,
    in_api_writing,
    invalid,
    iso,
    json_body,
    query_int,
    query_parameter,
    refused,
)
from contest.web.api.schemas import CONTEST_SCHEMAS
from contest.web.base import now_of, refusal_json, state_of

MAX_CLIENTS = 10_000
section = ApiSection(schemas=CONTEST_SCHEMAS)


def as_form(data: Any) -> ImmutableMultiDict[str, str]:
    """A JSON configuration as the workspace form's fields, so both share one parser."""
    return ImmutableMultiDict(json_as_form(data, extra=("reason",)))


def _with_defaults(data: Any) -> Any:
    """A new contest's fields, those not sent at their defaults: a setting left out keeps its
    default (reminders on, the page as a way to enter), as in the workspace's new form, rather
    than reading as "off" or "none" the way an unticked box does."""
    if not isinstance(data, dict):
        return data  # json_as_form says what is wrong
    defaults = settings_json(ContestSettings())
    return {name: value for name, value in defaults.items() if value is not None} | data


def contest_json(described: ContestDescription, base_url: str) -> dict[str, Any]:
    return {
        "id": described.id,
        "url": f"{base_url}/c/{described.slug}",
        "status": described.status,
        **settings_json(described.settings),
        "compliance": {
            "ok": described.verdict.ok,
            "findings": [finding_json(f) for f in described.verdict.findings],
        },
    }


def entry_json(line: EntryLine) -> dict[str, Any]:
    return {
        "id": line.public_id,
        "status": line.status,
        "created_at": iso(line.created_at),
        "confirmed_at": iso(line.confirmed_at),
        "source": line.source,
        "chances": line.chances,
        "language": line.language,
        "email": line.email,
        "first_name": line.first_name,
    }


def _contest_id(request: Request) -> int:
    """The contest id of the path; ContestNotFound when it cannot be a contest's."""
    try:
        wanted = int(request.path_params["contest_id"])
    except ValueError:
        raise ContestNotFound(request.path_params["contest_id"]) from None
    if not 1 <= wanted <= MAX_ID:
        raise ContestNotFound(wanted)
    return wanted


# What a change of a contest may be refused with, and how each is answered.
REFUSED = (ContestNotFound, ConfigErrors, ContestRefused, SlugTaken, NotADraft)


def refused_change(exc: Exception) -> JSONResponse:
    if isinstance(exc, ContestNotFound):
        return error(404, "not_found", "No such contest.")
    if isinstance(exc, ConfigErrors):
        return invalid(exc.errors)
    if isinstance(exc, ContestRefused):
        return refused(exc.verdict)
    if isinstance(exc, SlugTaken | NotADraft):
        return refusal_json(exc)
    raise exc


CONTESTS = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Contest"}}},
    "required": ["items"],
}
DRAW_INPUT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"public_value": {"type": "string", "maxLength": 200}},
}


@section.operation(
    "GET",
    "/contests",
    "listContests",
    "The organizer's contests",
    ok={"200": (CONTESTS, "The contests.")},
)
async def list_contests(request: Request, caller: Caller) -> Response:
    described = await in_api(
        request, organizer_contests.describe_contests, caller.organizer_id, now_of(request)
    )
    base_url = state_of(request).settings.base_url
    return JSONResponse({"items": [contest_json(contest, base_url) for contest in described]})


@section.operation(
    "POST",
    "/contests",
    "createContest",
    "Create a draft contest",
    body="ContestSettings",
    ok={"201": ("Contest", "The draft, with its compliance findings.")},
    errors={"409": "The slug is taken.", "422": "Invalid fields."},
)
async def create_contest(request: Request, caller: Caller) -> Response:
    try:
        contest = formats.parse_contest_form(as_form(_with_defaults(await json_body(request))))
        described = await in_api(
            request, organizer_contests.create_draft, caller.organizer_id, contest, now_of(request)
        )
    except REFUSED as exc:
        return refused_change(exc)
    return _created(request, described)


def _created(request: Request, described: ContestDescription) -> Response:
    """201 with the new contest, and where the API reads it (``Location``)."""
    base_url = state_of(request).settings.base_url
    return JSONResponse(
        contest_json(described, base_url),
        status_code=201,
        headers={"Location": f"{base_url}/api/v1/contests/{described.id}"},
    )


@section.operation(
    "POST",
    "/contests/{contest_id}/duplicate",
    "duplicateContest",
    "A new draft copied from the contest: same settings and prizes, dates to set again",
    body=None,
    ok={"201": ("Contest", "The new draft, titled as a copy, at a free address.")},
    role=Role.EDITOR,
)
async def duplicate_contest(request: Request, caller: Caller) -> Response:
    try:
        described = await in_api(
            request,
            organizer_contests.duplicate_contest,
            caller.organizer_id,
            _contest_id(request),
            now_of(request),
        )
    except ContestNotFound as exc:
        return refused_change(exc)
    return _created(request, described)


@section.operation(
    "GET",
    "/contests/{contest_id}",
    "readContest",
    "One contest",
    ok={"200": ("Contest", "The contest.")},
)
async def read_contest(request: Request, caller: Caller) -> Response:
    try:
        described = await in_api(
            request,
            organizer_contests.describe_contest,
            caller.organizer_id,
            _contest_id(request),
            now_of(request),
        )
    except ContestNotFound as exc:
        return refused_change(exc)
    return JSONResponse(contest_json(described, state_of(request).settings.base_url))


@section.operation(
    "PATCH",
    "/contests/{contest_id}",
    "updateContest",
    "Change a contest (a published one needs a reason)",
    body="ContestChange",
    ok={"200": ("Contest", "The contest after the change.")},
    errors={
        "409": "The slug is taken.",
        "422": "Invalid fields, or a legal rule refuses the change.",
    },
)
async def update_contest(request: Request, caller: Caller) -> Response:
    """Changes the fields sent (the others keep their values); published contests need a
    ``reason`` and pass the same rule checks as in the workspace."""
    state = state_of(request)
    data = await json_body(request)
    try:
        changes = json_as_form(data, extra=("reason",))  # refuses unknown fields, before 404
        described = await in_api(
            request,
            organizer_contests.change_contest,
            caller.organizer_id,
            _contest_id(request),
            changes,
            replaces_prizes=isinstance(data, dict) and "prizes" in data,
            reason=str((data.get("reason") if isinstance(data, dict) else None) or ""),
            now=now_of(request),
        )
    except REFUSED as exc:
        return refused_change(exc)
    state.contests.forget(described.slug)
    return JSONResponse(contest_json(described, state.settings.base_url))


@section.operation(
    "POST",
    "/contests/{contest_id}/publish",
    "publishContest",
    "Publish a draft (refused while a legal rule refuses it)",
    ok={"200": ("Contest", "The published contest.")},
    errors={"409": "The contest is not a draft.", "422": "A legal rule refuses the contest."},
)
async def publish_contest(request: Request, caller: Caller) -> Response:
    state = state_of(request)
    try:
        described = await in_api(
            request,
            organizer_contests.publish_draft,
            caller.organizer_id,
            _contest_id(request),
            now_of(request),
        )
    except REFUSED as exc:
        return refused_change(exc)
    state.contests.forget(described.slug)
    return JSONResponse(contest_json(described, state.settings.base_url))


ENTRIES_PRIVACY = (
    "Entries follow the consent rules of the lead export: every entry keeps its ticket (`id`), "
    "status, dates, source, chances and language, but `email` and `first_name` are given only "
    "for a confirmed entry (double opt-in done) of a person whose consent to offers by e-mail "
    "is current (not withdrawn since it was confirmed) and whose address has not bounced for "
    "good; otherwise they are null. Every call is written in the organizer's audit log "
    "(`entries.read`: the filters, how many entries and addresses were read)."
)


@section.operation(
    "GET",
    "/contests/{contest_id}/entries",
    "listEntries",
    "A page of the contest's entries",
    description=ENTRIES_PRIVACY,
    role=Role.EDITOR,
    query=(
        query_parameter("status", {"type": "string", "enum": ["pending", "confirmed"]}),
        query_parameter("source", {"type": "string"}),
        query_parameter("after", {"type": "integer", "minimum": 0, "maximum": MAX_ID}),
        query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
    ),
    ok={"200": ("EntriesPage", "Entries, oldest first.")},
    errors={"400": "Invalid query parameters."},
)
async def list_entries(request: Request, caller: Caller) -> Response:
    """A page of the contest's entries, oldest first; ``next`` is the cursor of the next page.
    Entries hold personal data: an editor's token at least, the addresses only of people who
    agreed to be contacted, and every read audited (ENTRIES_PRIVACY)."""
    limit = query_int(request, "limit", 100, 1, 500)
    after = query_int(request, "after", 0, 0, MAX_ID)
    status = request.query_params.get("status")
    if status not in {None, "pending", "confirmed"}:
        return error(400, "invalid_query", "status is pending or confirmed.")
    try:
        page = await in_api_writing(
            request,
            organizer_contests.entries_page,
            caller.organizer_id,
            _contest_id(request),
            after=after,
            limit=limit,
            now=now_of(request),
            status=status,
            source=request.query_params.get("source"),
        )
    except ContestNotFound as exc:
        return refused_change(exc)
    return JSONResponse({"items": [entry_json(line) for line in page.items], "next": page.next})


def _client_lines(items: list[Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "client_since", "orders_count", "segments"])
    for item in items:
        segments = item.get("segments") or []
        writer.writerow(
            safe_row(
                [
                    str(item.get("email", "")),
                    str(item.get("client_since", "")),
                    str(item.get("orders_count", 0)),
                    "|".join(str(s) for s in segments) if isinstance(segments, list) else "",
                ]
            )
        )
    buffer.seek(0)
    yield from buffer


@section.operation(
    "POST",
    "/clients",
    "upsertClients",
    "Add or update clients (at most 10,000 per call)",
    body="ClientsInput",
    ok={"200": ("ClientsReport", "What was added, updated or refused.")},
    errors={
        "413": "Too many clients or too large a body.",
        "422": "The body is not a list of clients.",
    },
)
async def upsert_clients(request: Request, caller: Caller) -> Response:
    """Adds or updates clients (at most 10,000 a call); rows with a problem are reported."""
    data = await json_body(request)
    items = data.get("clients") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return error(422, "invalid", 'Send {"clients": [{"email": ..., "client_since": ...}]}.')
    if len(items) > MAX_CLIENTS:
        return error(413, "too_large", f"At most {MAX_CLIENTS} clients per call.")
    report = await run_in_threadpool(
        clients.import_clients,
        state_of(request).engine,
        caller.organizer_id,
        _client_lines(items),
        now_of(request),
    )
    return JSONResponse(import_json(report))


def import_json(report: clients.ImportReport) -> dict[str, Any]:
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged + report.duplicates,
        "errors": [
            {
                # line 1 is the header: item n of the list is line n + 2
                "index": problem.line - 2,
                "field": problem.column,
                "message_fr": problem.message_fr,
                "message_en": problem.message_en,
            }
            for problem in report.errors
        ],
    }


@section.operation(
    "GET",
    "/contests/{contest_id}/draw",
    "readDraw",
    "The contest's signed draw record (no personal data)",
    ok={"200": ("DrawRecord", "The record; check it with contest verify-draw.")},
    errors={"404": "No such contest, or not drawn yet."},
)
async def read_draw(request: Request, caller: Caller) -> Response:
    try:
        text = await in_api(
            request, organizer_contests.draw_record, caller.organizer_id, _contest_id(request)
        )
    except ContestNotFound as exc:
        return refused_change(exc)
    if text is None:
        return error(404, "not_drawn", "This contest has not been drawn.")
    return Response(text, media_type="application/json")


@section.operation(
    "POST",
    "/contests/{contest_id}/draw",
    "runDraw",
    "Run the draw of a closed contest (once)",
    body=DRAW_INPUT,
    body_required=False,
    ok={
        "201": ("DrawRecord", "The new record; the winners are told."),
        "200": ("DrawRecord", "Already drawn: the first record."),
    },
    errors={"409": "The contest cannot be drawn now (the code says why)."},
)
async def run_draw(request: Request, caller: Caller) -> Response:
    """Draws once with the public value sent (if any) and tells the winners: 201; a second
    call returns the first record with 200."""
    state = state_of(request)
    try:
        slug = await in_api(
            request, organizer_contests.contest_slug, caller.organizer_id, _contest_id(request)
        )
    except ContestNotFound as exc:
        return refused_change(exc)
    public_value = ""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await json_body(request)
        if isinstance(body, dict) and isinstance(body.get("public_value"), str):
            public_value = body["public_value"]  # at most 200 characters: json_body checked
    try:
        drawn = await run_in_threadpool(
            results.draw_and_notify,
            state.engine,
            slug,
            now_of(request),
            secret_key=state.settings.secret_keys[0].reveal(),
            operator=caller.actor,
            public_value=public_value,
            relays=state.settings.drand_urls,
            client=state.outbound,
        )
    except drawing.DrawRefused as refusal:
        return refusal_json(refusal)
    state.contests.forget(slug)
    state.sender.wake.set()
    status = 201 if drawn.created else 200
    return Response(drawn.record_json, media_type="application/json", status_code=status)
