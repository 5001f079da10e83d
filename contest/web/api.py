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
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contest import apitokens, configuration, tables
from contest.configuration import ContestRefused, SlugTaken
from contest.contests import formats
from contest.contests.fields import ContestSettings
from contest.contests.formats import json_as_form, settings_json
from contest.contests.setting import ConfigErrors
from contest.draw import drawing
from contest.leads import clients
from contest.models import Contest, ContestStatus, Organizer
from contest.prizes import claims
from contest.storage import write_options
from contest.web.base import now_of, refusal_json, state_of
from contest.web.openapi import openapi_document
from rules import Finding, Verdict

MAX_BODY = 512 * 1024
MAX_CLIENTS = 10_000
MAX_ID = 2**31 - 1  # database integer ids


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
        state = state_of(request)

        def lookup() -> int | None:
            with state.engine.connect().execution_options(**write_options()) as connection:
                with connection.begin():
                    return apitokens.organizer_for(connection, token.strip(), now_of(request))

        organizer_id = await run_in_threadpool(lookup)
        if organizer_id is None:
            return error(401, "unauthorized", "This API token is unknown or revoked.")
        response: Response = await handler(request, organizer_id)
        return response

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


async def _json_body(request: Request) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _BadRequest(
            415, "unsupported_media_type", "Send JSON (Content-Type: application/json)."
        )
    body = await request.body()
    if len(body) > MAX_BODY:
        raise _BadRequest(413, "too_large", "The body is too large.")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _BadRequest(400, "invalid_json", "The body is not valid JSON.") from exc


class _BadRequest(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = error(status, code, message)


def as_form(data: Any) -> ImmutableMultiDict[str, str]:
    """A JSON configuration as the workspace form's fields, so both share one parser."""
    return ImmutableMultiDict(json_as_form(data, extra=("reason",)))


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def contest_json(
    row: Contest, contest: ContestSettings, verdict: Verdict, base_url: str
) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": f"{base_url}/c/{row.slug}",
        "status": row.status,
        **settings_json(contest),
        "compliance": {
            "ok": verdict.ok,
            "findings": [finding_json(f) for f in verdict.findings],
        },
    }


def _own(session: Session, organizer_id: int, contest_id: str) -> Contest | None:
    try:
        wanted = int(contest_id)
    except ValueError:
        return None
    if not 1 <= wanted <= MAX_ID:
        return None
    return session.exec(
        select(Contest).where(Contest.id == wanted, Contest.organizer_id == organizer_id)
    ).first()


def _describe(
    session: Session, row: Contest, organizer: Organizer, base_url: str, now: datetime
) -> dict[str, Any]:
    assert row.id is not None
    contest = configuration.input_of(row, configuration.prizes_of(session, row.id))
    verdict = configuration.judge(contest, organizer, now)
    return contest_json(row, contest, verdict, base_url)


async def openapi(request: Request) -> Response:
    """The OpenAPI 3.1 document of this API."""
    return JSONResponse(openapi_document(state_of(request).settings.base_url))


@api_route
async def list_contests(request: Request, organizer_id: int) -> Response:
    """The organizer's contests."""
    state = state_of(request)

    def load() -> list[dict[str, Any]]:
        with Session(state.engine) as session:
            organizer = session.get(Organizer, organizer_id)
            assert organizer is not None
            rows = session.exec(
                select(Contest)
                .where(Contest.organizer_id == organizer_id)
                .order_by(col(Contest.id))
            ).all()
            return [
                _describe(session, row, organizer, state.settings.base_url, now_of(request))
                for row in rows
            ]

    return JSONResponse({"items": await run_in_threadpool(load)})


@api_route
async def create_contest(request: Request, organizer_id: int) -> Response:
    """Creates a draft; the answer carries its compliance findings."""
    state = state_of(request)
    try:
        contest = formats.parse_contest_form(as_form(await _json_body(request)))
    except _BadRequest as bad:
        return bad.response
    except ConfigErrors as problems:
        return invalid(problems.errors)

    def save() -> dict[str, Any]:
        with Session(state.engine) as session:
            organizer = session.get(Organizer, organizer_id)
            assert organizer is not None
            row = configuration.create_contest(session, organizer, contest, now_of(request))
            return _describe(session, row, organizer, state.settings.base_url, now_of(request))

    try:
        body = await run_in_threadpool(save)
    except SlugTaken:
        return error(409, "slug_taken", "Another contest already uses this slug.")
    return JSONResponse(body, status_code=201)


@api_route
async def read_contest(request: Request, organizer_id: int) -> Response:
    """One contest."""
    state = state_of(request)

    def load() -> dict[str, Any] | None:
        with Session(state.engine) as session:
            row = _own(session, organizer_id, request.path_params["contest_id"])
            organizer = session.get(Organizer, organizer_id)
            if row is None or organizer is None:
                return None
            return _describe(session, row, organizer, state.settings.base_url, now_of(request))

    body = await run_in_threadpool(load)
    if body is None:
        return error(404, "not_found", "No such contest.")
    return JSONResponse(body)


@api_route
async def update_contest(request: Request, organizer_id: int) -> Response:
    """Changes the fields sent (the others keep their values); published contests need a
    ``reason`` and pass the same rule checks as in the workspace."""
    state = state_of(request)
    try:
        data = await _json_body(request)
        changes = as_form(data)
    except _BadRequest as bad:
        return bad.response
    except ConfigErrors as problems:
        return invalid(problems.errors)
    reason = data.get("reason") if isinstance(data, dict) else None

    def save() -> dict[str, Any] | Response:
        with Session(state.engine) as session:
            row = _own(session, organizer_id, request.path_params["contest_id"])
            organizer = session.get(Organizer, organizer_id)
            if row is None or organizer is None:
                return error(404, "not_found", "No such contest.")
            assert row.id is not None
            current = formats.form_values(
                configuration.input_of(row, configuration.prizes_of(session, row.id))
            )
            if isinstance(data, dict) and "prizes" in data:  # the list sent replaces the list
                current = {k: v for k, v in current.items() if not k.startswith("prize-")}
            merged: list[tuple[str, str]] = []
            for key, value in current.items():
                if key in changes:
                    continue
                values = value if isinstance(value, list) else [value]
                merged.extend((key, str(v)) for v in values)
            merged.extend(changes.multi_items())
            try:
                contest = formats.parse_contest_form(ImmutableMultiDict(merged))
                configuration.update_contest(
                    session, organizer, row, contest, now_of(request), reason=str(reason or "")
                )
            except ConfigErrors as problems:
                return invalid(problems.errors)
            except ContestRefused as refusal:
                return refused(refusal.verdict)
            except SlugTaken:
                return error(409, "slug_taken", "Another contest already uses this slug.")
            return _describe(session, row, organizer, state.settings.base_url, now_of(request))

    body = await run_in_threadpool(save)
    if isinstance(body, Response):
        return body
    state.contests.forget(body["slug"])
    return JSONResponse(body)


@api_route
async def publish_contest(request: Request, organizer_id: int) -> Response:
    """Publishes a draft, with the same rule checks as the workspace."""
    state = state_of(request)

    def act() -> dict[str, Any] | Response:
        with Session(state.engine) as session:
            row = _own(session, organizer_id, request.path_params["contest_id"])
            organizer = session.get(Organizer, organizer_id)
            if row is None or organizer is None:
                return error(404, "not_found", "No such contest.")
            if row.status != ContestStatus.DRAFT:
                return error(409, "not_a_draft", f"The contest is already {row.status}.")
            try:
                configuration.publish_contest(session, organizer, row, now_of(request))
            except ContestRefused as refusal:
                return refused(refusal.verdict)
            return _describe(session, row, organizer, state.settings.base_url, now_of(request))

    body = await run_in_threadpool(act)
    if isinstance(body, Response):
        return body
    state.contests.forget(body["slug"])
    return JSONResponse(body)


@api_route
async def list_entries(request: Request, organizer_id: int) -> Response:
    """A page of the contest's entries, oldest first; ``next`` is the cursor of the next page."""
    state = state_of(request)
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
    source = params.get("source")

    def load() -> dict[str, Any] | None:
        with Session(state.engine) as session:
            row = _own(session, organizer_id, request.path_params["contest_id"])
            if row is None:
                return None
            entry, person = tables.entry, tables.person
            query = (
                sa.select(
                    entry.c.id,
                    entry.c.public_id,
                    entry.c.status,
                    entry.c.created_at,
                    entry.c.confirmed_at,
                    entry.c.source,
                    entry.c.chances,
                    entry.c.language,
                    person.c.email,
                    person.c.first_name,
                )
                .join(person, person.c.id == entry.c.person_id)
                .where(entry.c.contest_id == row.id, entry.c.id > after)
                .order_by(entry.c.id)
                .limit(limit + 1)
            )
            if status:
                query = query.where(entry.c.status == status)
            if source:
                query = query.where(entry.c.source == source[:64])
            rows = session.connection().execute(query).all()
        items = [
            {
                "id": r.public_id,
                "status": r.status,
                "created_at": _iso(r.created_at),
                "confirmed_at": _iso(r.confirmed_at),
                "source": r.source,
                "chances": r.chances,
                "language": r.language,
                "email": r.email,
                "first_name": r.first_name,
            }
            for r in rows[:limit]
        ]
        return {"items": items, "next": rows[limit - 1].id if len(rows) > limit else None}

    body = await run_in_threadpool(load)
    if body is None:
        return error(404, "not_found", "No such contest.")
    return JSONResponse(body)


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
    state = state_of(request)
    try:
        data = await _json_body(request)
    except _BadRequest as bad:
        return bad.response
    items = data.get("clients") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return error(422, "invalid", 'Send {"clients": [{"email": ..., "client_since": ...}]}.')
    if len(items) > MAX_CLIENTS:
        return error(413, "too_large", f"At most {MAX_CLIENTS} clients per call.")

    def run() -> clients.ImportReport:
        return clients.import_clients(
            state.engine, organizer_id, _client_lines(items), now_of(request)
        )

    report = await run_in_threadpool(run)
    return JSONResponse(
        {
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
        },
    )


@api_route
async def contest_draw(request: Request, organizer_id: int) -> Response:
    """GET: the contest's draw record. POST: runs the draw once (a second call returns the
    first record with 200 instead of 201) and tells the winners."""

    state = state_of(request)

    def slug_of() -> str | None:
        with Session(state.engine) as session:
            row = _own(session, organizer_id, request.path_params["contest_id"])
            return row.slug if row else None

    slug = await run_in_threadpool(slug_of)
    if slug is None:
        return error(404, "not_found", "No such contest.")
    if request.method == "GET":

        def load() -> str | None:
            contest = state.contests.get(slug)
            if contest is None:
                return None
            with state.engine.connect() as connection:
                record = drawing.stored_record(connection, contest.id)
            return drawing.public_record_json(record) if record else None

        text = await run_in_threadpool(load)
        if text is None:
            return error(404, "not_drawn", "This contest has not been drawn.")
        return Response(text, media_type="application/json")
    public_value = ""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await _json_body(request)
        except _BadRequest as bad:
            return bad.response
        if isinstance(body, dict) and isinstance(body.get("public_value"), str):
            public_value = body["public_value"][:200]

    def act() -> tuple[str, bool] | drawing.DrawRefused:
        key, key_id = drawing.signing_key(state.settings.secret_keys[0].reveal())
        try:
            outcome = drawing.run_draw(
                state.engine,
                slug,
                now_of(request),
                signing_key=key,
                key_id=key_id,
                operator=f"api:{organizer_id}",
                public_value=public_value,
            )
        except drawing.DrawRefused as refusal:
            return refusal
        claims.notify_after_draw(state.engine, slug, now_of(request))
        return drawing.public_record_json(outcome.record), outcome.created

    result = await run_in_threadpool(act)
    if isinstance(result, drawing.DrawRefused):
        return refusal_json(result)
    state.contests.forget(slug)
    state.sender.wake.set()
    text, created = result
    return Response(text, media_type="application/json", status_code=201 if created else 200)


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
