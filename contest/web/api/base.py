"""What every part of the JSON API shares: errors, bodies, the bearer token and its role, and
the one declaration of an operation, from which both its route and its OpenAPI entry come.

An operation is declared once, on its handler::

    section = ApiSection()

    @section.operation("GET", "/contests/{contest_id}", "readContest", "One contest",
                       ok={"200": ("Contest", "The contest.")}, errors={"404": "No such contest."})
    async def read_contest(request: Request, caller: Caller) -> Response: ...

Reading needs a viewer's token and changing an editor's, unless ``role`` says otherwise. The
answers every operation may give (401, 403, 503; 400, 413, 415 with a body; 404 with an id in
the path) are added to its document entry. What the entry declares is enforced
(contest.web.api.validation): query parameters before the handler runs (400), the body when
the handler reads it with :func:`json_body` (422), after the handler's own 404s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlmodel import Session
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from contest import apitokens
from contest.actors import act_as
from contest.organizer_contests import ContestNotFound
from contest.roles import Role, not_allowed
from contest.transactions import writing
from contest.web.api import validation
from contest.web.base import now_of, refusal_json, session_for, state_of
from rules import Finding, Verdict

MAX_BODY = 512 * 1024
MAX_ID = 2**31 - 1  # database integer ids
PATH_PARAMETER = re.compile(r"{(\w+)}")

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
        "A legal rule refuses this contest: "
        + ", ".join(dict.fromkeys(f.rule_id for f in verdict.refusals)),
        rules=[finding_json(f) for f in verdict.refusals],
    )


def invalid(errors: dict[str, tuple[str, str]]) -> JSONResponse:
    return error(
        422,
        "invalid",
        "Some fields are not valid.",
        fields={name: {"fr": fr, "en": en} for name, (fr, en) in errors.items()},
    )


class BadRequest(Exception):
    """A request the API cannot take as sent; ``response`` says why."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.response = error(status, code, message, **extra)


def _fields(found: Iterable[validation.Problem]) -> dict[str, dict[str, str]]:
    """Problems as the ``fields`` of an error: the first one found for each place."""
    fields: dict[str, dict[str, str]] = {}
    for where, french, english in found:
        fields.setdefault(where, {"fr": french, "en": english})
    return fields


async def json_body(request: Request) -> Any:
    """The body, parsed and checked against the operation's declared schema (BadRequest:
    415 not JSON, 413 too large, 400 not parseable, 422 refused by the schema)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest(
            415, "unsupported_media_type", "Send JSON (Content-Type: application/json)."
        )
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadRequest(413, "too_large", "The body is too large.")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(400, "invalid_json", "The body is not valid JSON.") from exc
    contract: Contract | None = request.scope.get(CONTRACT)
    if contract is not None and contract.body is not None:
        fields = _fields(validation.problems(data, contract.body, contract.components))
        if fields:
            raise BadRequest(422, "invalid", "Some fields are not valid.", fields=fields)
    return data


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; BadRequest (422) for any other JSON value."""
    data = await json_body(request)
    if not isinstance(data, dict):
        raise BadRequest(422, "invalid", "Send a JSON object.")
    return data


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def path_id(request: Request, name: str) -> int | None:
    """A database id from the path, or None when the text cannot be one."""
    try:
        wanted = int(request.path_params[name])
    except ValueError:
        return None
    return wanted if 1 <= wanted <= MAX_ID else None


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A whole number from the query string, within bounds; BadRequest (400) otherwise."""
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(400, "invalid_query", f"{name} must be a whole number.") from None
    if not low <= value <= high:
        raise BadRequest(400, "invalid_query", f"{name} is between {low} and {high}.")
    return value


async def in_api(
    request: Request,
    operation: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """One domain operation in a session of its own, in a worker thread."""
    engine = state_of(request).engine
    return await run_in_threadpool(session_for(request), engine, operation, *args, **kwargs)


async def in_api_writing(
    request: Request,
    operation: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """:func:`in_api` for a read that writes too (an audited read of personal data): its
    session takes the write lock from the start, as a change's does."""
    engine = state_of(request).engine
    writer = session_for(request, writes=True)
    return await run_in_threadpool(writer, engine, operation, *args, **kwargs)


def csv_stream(request: Request, chunks: Iterator[str], filename: str) -> StreamingResponse:
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@dataclass(frozen=True)
class Caller:
    """Who calls: the organizer whose data the token opens, the token's role, and the name
    the audit log gives the caller."""

    organizer_id: int
    role: Role
    actor: str


Handler = Callable[[Request, Caller], Awaitable[Response]]


@dataclass(frozen=True)
class Contract:
    """What an operation's document entry says a request holds: the body's schema (a
    component's name or inline), its query parameters, and the components named."""

    body: dict[str, Any] | None = None
    query: tuple[dict[str, Any], ...] = ()
    components: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        body: str | dict[str, Any] | None,
        query: tuple[dict[str, Any], ...],
        components: Mapping[str, Any],
    ) -> Contract:
        schema = {"$ref": f"{validation.REF}{body}"} if isinstance(body, str) else body
        return cls(schema, query, components)

    def query_refused(self, request: Request) -> JSONResponse | None:
        """A 400 for the query parameters the document refuses, None when all are valid."""
        found: list[validation.Problem] = []
        for parameter in self.query:
            name = parameter["name"]
            texts = request.query_params.getlist(name)
            if texts:
                found.extend(validation.query_problems(texts, parameter["schema"], name))
        if not found:
            return None
        return error(400, "invalid_query", "Invalid query parameters.", fields=_fields(found))


CONTRACT = "contest.api.contract"  # where a request's Contract is kept, in its scope


def api_route(
    handler: Handler, role: Role, contract: Contract | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """Authenticates the bearer token and checks its role, then the query parameters against
    the operation's contract (the body is checked when the handler reads it, after its own
    404s); the handler receives the caller."""

    async def guarded(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error(401, "unauthorized", "Send an API token: Authorization: Bearer <token>.")
        engine, now = state_of(request).engine, now_of(request)
        holder = await run_in_threadpool(writing, engine, apitokens.holder, token.strip(), now)
        if holder is None:
            return error(401, "unauthorized", "This API token is unknown or revoked.")
        if not holder.role.allows(role):
            return refusal_json(not_allowed(role))
        if contract is not None:
            request.scope[CONTRACT] = contract
            refused_query = contract.query_refused(request)
            if refused_query is not None:
                return refused_query
        caller = Caller(holder.organizer_id, holder.role, f"api:{holder.name}")
        act_as(caller.actor)
        try:
            return await handler(request, caller)
        except BadRequest as bad:
            return bad.response
        except ContestNotFound:  # another organizer's contest answers as a missing one
            return error(404, "not_found", "No such contest.")

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


# A response in an operation's declaration: (schema, description). The schema is the name of
# a component schema, an inline schema, None for no body, or CSV for a CSV download.
CSV = "text/csv"
Answer = tuple[str | dict[str, Any] | None, str]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    role: Role
    endpoint: Callable[[Request], Awaitable[Response]]
    ok: dict[str, Answer]
    errors: dict[str, str]
    body: str | dict[str, Any] | None
    body_required: bool
    query: tuple[dict[str, Any], ...]
    description: str = ""

    def route(self) -> Route:
        return Route(self.path, self.endpoint, name=self.operation_id, methods=[self.method])


@dataclass
class ApiSection:
    """A part of the API: its operations and the component schemas they name."""

    schemas: dict[str, Any] = field(default_factory=dict)
    operations: list[Operation] = field(default_factory=list)

    def operation(
        self,
        method: str,
        path: str,
        operation_id: str,
        summary: str,
        *,
        ok: dict[str, Answer],
        errors: dict[str, str] | None = None,
        role: Role | None = None,
        body: str | dict[str, Any] | None = None,
        body_required: bool = True,
        query: tuple[dict[str, Any], ...] = (),
        description: str = "",
    ) -> Callable[[Handler], Handler]:
        needed = role or (Role.VIEWER if method == "GET" else Role.EDITOR)

        def declare(handler: Handler) -> Handler:
            self.operations.append(
                Operation(
                    method,
                    path,
                    operation_id,
                    summary,
                    needed,
                    api_route(handler, needed, Contract.of(body, query, self.schemas)),
                    ok,
                    errors or {},
                    body,
                    body_required,
                    query,
                    description,
                )
            )
            return handler

        return declare

    def routes(self) -> list[Route]:
        return [operation.route() for operation in self.operations]


def query_parameter(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "query", "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in PATH_PARAMETER.findall(path)
    ]
