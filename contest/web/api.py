"""The JSON API under /api/v1/: bearer tokens scoped to one organizer.

Contests go through the same parsing and the same rule checks as the workspace form; a rule
refusal answers 422 with the rule ids, messages and sources. ConfigErrors are always
``{"error": {"code", "message", "fields"?, "rules"?}}``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contest import apitokens, organizer_contests
from contest.configuration import ContestRefused, SlugTaken
from contest.contests import formats
from contest.contests.formats import json_as_form, settings_json
from contest.contests.setting import ConfigErrors
from contest.draw import drawing, results
from contest.leads import clients
from contest.organizer_contests import ContestDescription, ContestNotFound, EntryLine, NotADraft
from contest.transactions import in_session, writing
from contest.web.base import now_of, refusal_json, state_of
from contest.web.openapi import openapi_document
from rules import Finding, Verdict

MAX_BODY = 512 * 1024
MAX_CLIENTS = 10_000
MAX_ID = 2**31 - 1  # database integer ids

P = ParamSpec("P")
T = TypeVar("T")


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="contest"'} if status == 401 else None
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers
    )


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "severity": str(finding.severity),
        "message_fr": finding.message_fr,
        "message_en": finding.message_en,
        "source": finding.source,
        "field": finding.field,
    }


def refused(verdict: Verdict) -> JSONResponse:
    return error(
        422,
        "rules_refused",
        "A legal rule refuses this contest: " + ", ".join(dict.fromkeys(verdict.rule_ids)),
        rules=[finding_json(f) for f in verdict.refusals],
    )


def invalid(errors: dict[str, tuple[str, str]]) -> JSONResponse:
    return error(
        422,
        "invalid",
        "Some fields are not valid.",
        fields={name: {"fr": fr, "en": en} for name, (fr, en) in errors.items()},
    )


Handler = Callable[[Request, int], Any]


def api_route(handler: Handler) -> Callable[[Request], Any]:
    """Authenticates the bearer token; the handler receives the organizer's id."""

    async def guarded(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error(401, "unauthorized", "Send an API token: Authorization: Bearer <token>.")
        engine, now = state_of(request).engine, now_of(request)
        organizer_id = await run_in_threadpool(
            writing, engine, apitokens.organizer_for, token.strip(), now
        )
        if organizer_id is None:
            return error(401, "unauthorized", "This API token is unknown or revoked.")
        response: Response = await handler(request, organizer_id)
        return response

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


async def json_body(request: Request) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest(
            415, "unsupported_media_type", "Send JSON (Content-Type: application/json)."
        )
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadRequest(413, "too_large", "The body is too large.")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(400, "invalid_json", "The body is not valid JSON.") from exc


class BadRequest(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = error(status, code, message)


def as_form(data: Any) -> ImmutableMultiDict[str, str]:
    """A JSON configuration as the workspace form's fields, so both share one parser."""
    return ImmutableMultiDict(json_as_form(data, extra=("reason",)))


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


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
        "created_at": _iso(line.created_at),
        "confirmed_at": _iso(line.confirmed_at),
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


async def _session(
    request: Request,
    operation: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """One domain operation on the organizer's contests, in its session, in a worker thread."""
    engine = state_of(request).engine
    return await run_in_threadpool(in_session, engine, operation, *args, **kwargs)


async def openapi(request: Request) -> Response:
    """The OpenAPI 3.1 document of this API."""
    return JSONResponse(openapi_document(state_of(request).settings.base_url))


@api_route
async def list_contests(request: Request, organizer_id: int) -> Response:
    """The organizer's contests."""
    described = await _session(
        request, organizer_contests.describe_contests, organizer_id, now_of(request)
    )
    base_url = state_of(request).settings.base_url
    return JSONResponse({"items": [contest_json(contest, base_url) for contest in described]})


@api_route
async def create_contest(request: Request, organizer_id: int) -> Response:
    """Creates a draft; the answer carries its compliance findings."""
    try:
        contest = formats.parse_contest_form(as_form(await json_body(request)))
        described = await _session(
            request, organizer_contests.create_draft, organizer_id, contest, now_of(request)
        )
    except BadRequest as bad:
        return bad.response
    except REFUSED as exc:
        return refused_change(exc)
    base_url = state_of(request).settings.base_url
    return JSONResponse(contest_json(described, base_url), status_code=201)


@api_route
async def read_contest(request: Request, organizer_id: int) -> Response:
    """One contest."""
    try:
        contest_id = _contest_id(request)
        described = await _session(
            request, organizer_contests.describe_contest, organizer_id, contest_id, now_of(request)
        )
    except ContestNotFound as exc:
        return refused_change(exc)
    return JSONResponse(contest_json(described, state_of(request).settings.base_url))


@api_route
async def update_contest(request: Request, organizer_id: int) -> Response:
    """Changes the fields sent (the others keep their values); published contests need a
    ``reason`` and pass the same rule checks as in the workspace."""
    state = state_of(request)
    try:
        data = await json_body(request)
        changes = json_as_form(data, extra=("reason",))  # refuses unknown fields, before 404
        described = await _session(
            request,
            organizer_contests.change_contest,
            organizer_id,
            _contest_id(request),
            changes,
            replaces_prizes=isinstance(data, dict) and "prizes" in data,
            reason=str((data.get("reason") if isinstance(data, dict) else None) or ""),
            now=now_of(request),
        )
    except BadRequest as bad:
        return bad.response
    except REFUSED as exc:
        return refused_change(exc)
    state.contests.forget(described.slug)
    return JSONResponse(contest_json(described, state.settings.base_url))


@api_route
async def publish_contest(request: Request, organizer_id: int) -> Response:
    """Publishes a draft, with the same rule checks as the workspace."""
    state = state_of(request)
    try:
        contest_id = _contest_id(request)
        described = await _session(
            request, organizer_contests.publish_draft, organizer_id, contest_id, now_of(request)
        )
    except REFUSED as exc:
        return refused_change(exc)
    state.contests.forget(described.slug)
    return JSONResponse(contest_json(described, state.settings.base_url))


@api_route
async def list_entries(request: Request, organizer_id: int) -> Response:
    """A page of the contest's entries, oldest first; ``next`` is the cursor of the next page."""
    params = request.query_params
    try:
        limit = min(max(int(params.get("limit", "100")), 1), 500)
        after = int(params.get("after", "0"))
    except ValueError:
        return error(400, "invalid_query", "limit and after must be whole numbers.")
    if not 0 <= after <= MAX_ID:
        return error(400, "invalid_query", f"after is between 0 and {MAX_ID}.")
    status = params.get("status")
    if status not in {None, "pending", "confirmed"}:
        return error(400, "invalid_query", "status is pending or confirmed.")
    try:
        contest_id, source = _contest_id(request), params.get("source")
        page = await _session(
            request,
            organizer_contests.entries_page,
            organizer_id,
            contest_id,
            after=after,
            limit=limit,
            status=status,
            source=source,
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
            [
                str(item.get("email", "")),
                str(item.get("client_since", "")),
                str(item.get("orders_count", 0)),
                "|".join(str(s) for s in segments) if isinstance(segments, list) else "",
            ]
        )
    buffer.seek(0)
    yield from buffer


@api_route
async def upsert_clients(request: Request, organizer_id: int) -> Response:
    """Adds or updates clients (at most 10,000 a call); rows with a problem are reported."""
    try:
        data = await json_body(request)
    except BadRequest as bad:
        return bad.response
    items = data.get("clients") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return error(422, "invalid", 'Send {"clients": [{"email": ..., "client_since": ...}]}.')
    if len(items) > MAX_CLIENTS:
        return error(413, "too_large", f"At most {MAX_CLIENTS} clients per call.")
    report = await run_in_threadpool(
        clients.import_clients,
        state_of(request).engine,
        organizer_id,
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


@api_route
async def contest_draw(request: Request, organizer_id: int) -> Response:
    """GET: the contest's draw record. POST: runs the draw once (a second call returns the
    first record with 200 instead of 201) and tells the winners."""
    try:
        contest_id = _contest_id(request)
        if request.method == "GET":
            text = await _session(request, organizer_contests.draw_record, organizer_id, contest_id)
            if text is None:
                return error(404, "not_drawn", "This contest has not been drawn.")
            return Response(text, media_type="application/json")
        slug = await _session(request, organizer_contests.contest_slug, organizer_id, contest_id)
    except ContestNotFound as exc:
        return refused_change(exc)
    return await _run_draw(request, organizer_id, slug)


async def _run_draw(request: Request, organizer_id: int, slug: str) -> Response:
    """Draws once with the public value sent (if any), tells the winners; 201, or 200 again."""
    state = state_of(request)
    public_value = ""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await json_body(request)
        except BadRequest as bad:
            return bad.response
        if isinstance(body, dict) and isinstance(body.get("public_value"), str):
            public_value = body["public_value"][:200]
    try:
        drawn = await run_in_threadpool(
            results.draw_and_notify,
            state.engine,
            slug,
            now_of(request),
            secret_key=state.settings.secret_keys[0].reveal(),
            operator=f"api:{organizer_id}",
            public_value=public_value,
        )
    except drawing.DrawRefused as refusal:
        return refusal_json(refusal)
    state.contests.forget(slug)
    state.sender.wake.set()
    status = 201 if drawn.created else 200
    return Response(drawn.record_json, media_type="application/json", status_code=status)


routes = [
    Route("/openapi.json", openapi, name="openapi", methods=["GET"]),
    Route("/contests", list_contests, name="contests", methods=["GET"]),
    Route("/contests", create_contest, name="create_contest", methods=["POST"]),
    Route("/contests/{contest_id}", read_contest, name="contest", methods=["GET"]),
    Route("/contests/{contest_id}", update_contest, name="update_contest", methods=["PATCH"]),
    Route("/contests/{contest_id}/publish", publish_contest, name="publish", methods=["POST"]),
    Route("/contests/{contest_id}/entries", list_entries, name="entries", methods=["GET"]),
    Route("/contests/{contest_id}/draw", contest_draw, name="draw", methods=["GET", "POST"]),
    Route("/clients", upsert_clients, name="clients", methods=["POST"]),
]
