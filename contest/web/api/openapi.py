"""The OpenAPI 3.1 document of /api/v1/, assembled from the operations' own declarations
(contest.web.api.base.ApiSection): what is documented is what is routed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from contest.roles import Role
from contest.web.api.base import CSV, Answer, ApiSection, Operation, path_parameters
from contest.web.api.schemas import FINDING

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "message_fr": {"type": ["string", "null"]},
                "rule_id": {"type": ["string", "null"]},
                "fields": {"type": "object"},
                "rules": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}


def _schema(schema: str | dict[str, Any]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _answer(answer: Answer) -> dict[str, Any]:
    schema, description = answer
    if schema is None:
        return {"description": description}
    if schema == CSV:
        return {"description": description, "content": {CSV: {"schema": {"type": "string"}}}}
    return {
        "description": description,
        "content": {"application/json": {"schema": _schema(schema)}},
    }


def _responses(operation: Operation) -> dict[str, Any]:
    responses = {status: _answer(answer) for status, answer in operation.ok.items()}
    common = {
        "401": "Missing, unknown or revoked token.",
        "403": f"The token's role is below {operation.role.value}.",
        "503": "The database is busy for a moment; retry after the Retry-After seconds.",
    }
    if operation.body is not None:
        common |= {
            "400": "The body is not JSON.",
            "413": "The body is too large.",
            "415": "The body is not sent as JSON.",
            "422": "The body is not valid.",
        }
    if "{" in operation.path:
        common["404"] = "Nothing with this id for this organizer."
    if operation.query:
        common["400"] = "Invalid query parameters."
    for status, description in (common | operation.errors).items():
        responses[status] = _error(description)
    if "413" in responses:  # the server's own limit answers before the API reads the body
        responses["413"]["content"]["text/plain"] = {"schema": {"type": "string"}}
        responses["413"]["description"] += " A body over the server's limit is refused in text."
    return responses


def _entry(operation: Operation) -> dict[str, Any]:
    who = (
        f"Needs a token with the role {operation.role.value} or above."
        if operation.role is not Role.VIEWER
        else "Any token of the organizer."
    )
    entry: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": f"{who} {operation.description}".strip(),
        "responses": _responses(operation),
    }
    if operation.query:
        entry["parameters"] = list(operation.query)
    if operation.body is not None:
        entry["requestBody"] = {
            "required": operation.body_required,
            "content": {"application/json": {"schema": _schema(operation.body)}},
        }
    return entry


def openapi_document(base_url: str, sections: Iterable[ApiSection]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Finding": FINDING, "Error": ERROR}
    for section in sections:
        schemas |= section.schemas
        for operation in section.operations:
            item = paths.setdefault(operation.path, {})
            if "{" in operation.path:
                item["parameters"] = path_parameters(operation.path)
            item[operation.method.lower()] = _entry(operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Contest platform API",
            "version": "1.0.0",
            "description": (
                "Organizer API. Every call but this document needs "
                "`Authorization: Bearer <token>`, a token an owner creates in the workspace "
                "with a role (viewer, editor or owner). Rule refusals answer 422 with the "
                "rule ids, messages in French and English and their legal sources."
            ),
        },
        "servers": [{"url": f"{base_url}/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
    }
