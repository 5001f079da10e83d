"""The OpenAPI 3.1 document of /api/v1/, written to match contest.web.api exactly; the contest
fields' schemas come from their one declaration (``contest.contests.fields``)."""

from __future__ import annotations

from typing import Any

from contest.contests.formats import json_schema, settings_schema
from contest.organization import OrganizationSettings

NULLABLE_STRING = {"type": ["string", "null"]}
DATETIME = {"type": ["string", "null"], "format": "date-time"}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


CONTEST_FIELDS = json_schema(output=False)
ORGANIZATION_FIELDS = settings_schema(OrganizationSettings)

FINDING = {
    "type": "object",
    "properties": {
        "rule_id": {"type": "string"},
        "severity": {"type": "string", "enum": ["refuse", "warn"]},
        "message_fr": {"type": "string"},
        "message_en": {"type": "string"},
        "source": {"type": "string"},
        "field": NULLABLE_STRING,
    },
    "required": ["rule_id", "severity", "message_fr", "message_en", "source", "field"],
}


def openapi_document(base_url: str) -> dict[str, Any]:
    contest_id = {
        "name": "contest_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    }
    contest_out = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["draft", "scheduled", "open", "closed", "drawn", "archived"],
            },
            **json_schema(output=True),
            "compliance": {
                "type": "object",
                "properties": {
                    "ok": {"type": "boolean"},
                    "findings": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Finding"},
                    },
                },
                "required": ["ok", "findings"],
            },
        },
        "required": ["id", "url", "status", "title", "slug", "compliance", "prizes"],
    }
    # Answers every operation may give: no valid token, or the database busy for a moment.
    auth_errors = {
        "401": _error("Missing, unknown or revoked token."),
        "503": _error("The database is busy for a moment; retry after the Retry-After seconds."),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Contest platform API",
            "version": "1.0.0",
            "description": (
                "Organizer API. Every call but this document needs "
                "`Authorization: Bearer <token>`, a token created in the workspace. Rule "
                "refusals answer 422 with the rule ids, messages in French and English and "
                "their legal sources."
            ),
        },
        "servers": [{"url": f"{base_url}/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/contests": {
                "get": {
                    "operationId": "listContests",
                    "summary": "The organizer's contests",
                    "responses": {
                        "200": {
                            "description": "The contests.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "items": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Contest"},
                                            }
                                        },
                                        "required": ["items"],
                                    }
                                }
                            },
                        },
                        **auth_errors,
                    },
                },
                "post": {
                    "operationId": "createContest",
                    "summary": "Create a draft contest",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ContestSettings"}
                            }
                        },
                    },
                    "responses": {
                        "201": _json("Contest", "The draft, with its compliance findings."),
                        "400": _error("The body is not JSON."),
                        "409": _error("The slug is taken."),
                        "413": _error("The body is too large."),
                        "415": _error("The body is not sent as JSON."),
                        "422": _error("Invalid fields."),
                        **auth_errors,
                    },
                },
            },
            "/contests/{contest_id}": {
                "parameters": [contest_id],
                "get": {
                    "operationId": "readContest",
                    "summary": "One contest",
                    "responses": {
                        "200": _json("Contest", "The contest."),
                        "404": _error("No such contest for this organizer."),
                        **auth_errors,
                    },
                },
                "patch": {
                    "operationId": "updateContest",
                    "summary": "Change a contest (a published one needs a reason)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ContestChange"}
                            }
                        },
                    },
                    "responses": {
                        "200": _json("Contest", "The contest after the change."),
                        "400": _error("The body is not JSON."),
                        "404": _error("No such contest for this organizer."),
                        "409": _error("The slug is taken."),
                        "413": _error("The body is too large."),
                        "415": _error("The body is not sent as JSON."),
                        "422": _error("Invalid fields, or a legal rule refuses the change."),
                        **auth_errors,
                    },
                },
            },
            "/contests/{contest_id}/publish": {
                "parameters": [contest_id],
                "post": {
                    "operationId": "publishContest",
                    "summary": "Publish a draft (refused while a legal rule refuses it)",
                    "responses": {
                        "200": _json("Contest", "The published contest."),
                        "404": _error("No such contest for this organizer."),
                        "409": _error("The contest is not a draft."),
                        "422": _error("A legal rule refuses the contest."),
                        **auth_errors,
                    },
                },
            },
            "/contests/{contest_id}/entries": {
                "parameters": [contest_id],
                "get": {
                    "operationId": "listEntries",
                    "summary": "A page of the contest's entries",
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["pending", "confirmed"]},
                        },
                        {"name": "source", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "after",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                        },
                    ],
                    "responses": {
                        "200": _json("EntriesPage", "Entries, oldest first."),
                        "400": _error("Invalid query parameters."),
                        "404": _error("No such contest for this organizer."),
                        **auth_errors,
                    },
                },
            },
            "/contests/{contest_id}/draw": {
                "parameters": [contest_id],
                "get": {
                    "operationId": "readDraw",
                    "summary": "The contest's signed draw record (no personal data)",
                    "responses": {
                        "200": _json(
                            "DrawRecord", "The record; check it with contest verify-draw."
                        ),
                        "404": _error("No such contest, or not drawn yet."),
                        **auth_errors,
                    },
                },
                "post": {
                    "operationId": "runDraw",
                    "summary": "Run the draw of a closed contest (once)",
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "public_value": {"type": "string", "maxLength": 200}
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json("DrawRecord", "The new record; the winners are told."),
                        "200": _json("DrawRecord", "Already drawn: the first record."),
                        "400": _error("The body is not JSON."),
                        "404": _error("No such contest for this organizer."),
                        "409": _error("The contest cannot be drawn now (the code says why)."),
                        "413": _error("The body is too large."),
                        "415": _error("The body is not sent as JSON."),
                        **auth_errors,
                    },
                },
            },
            "/organization": {
                "get": {
                    "operationId": "readOrganization",
                    "summary": "The organization's legal identity, e-mail sender and defaults",
                    "responses": {
                        "200": _json("Organization", "The organization."),
                        **auth_errors,
                    },
                },
                "patch": {
                    "operationId": "updateOrganization",
                    "summary": "Change the fields sent; the others keep their values",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/OrganizationChange"}
                            }
                        },
                    },
                    "responses": {
                        "200": _json("Organization", "The organization as saved."),
                        "400": _error("The body is not JSON."),
                        "413": _error("The body is too large."),
                        "415": _error("The body is not sent as JSON."),
                        "422": _error("A field is unknown or not well formed."),
                        **auth_errors,
                    },
                },
            },
            "/clients": {
                "post": {
                    "operationId": "upsertClients",
                    "summary": "Add or update clients (at most 10,000 per call)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ClientsInput"}
                            }
                        },
                    },
                    "responses": {
                        "200": _json("ClientsReport", "What was added, updated or refused."),
                        "400": _error("The body is not JSON."),
                        "413": _error("Too many clients or too large a body."),
                        "415": _error("The body is not sent as JSON."),
                        "422": _error("The body is not a list of clients."),
                        **auth_errors,
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "OrganizationChange": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": ORGANIZATION_FIELDS,
                },
                "Organization": {
                    "type": "object",
                    "properties": {
                        **ORGANIZATION_FIELDS,
                        "missing_for_publishing": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": list(ORGANIZATION_FIELDS),
                },
                "ContestSettings": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": CONTEST_FIELDS,
                    "required": ["title", "slug"],
                },
                "ContestChange": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        **CONTEST_FIELDS,
                        "reason": {"type": "string", "maxLength": 500},
                    },
                },
                "Contest": contest_out,
                "Finding": FINDING,
                "DrawRecord": {
                    "type": "object",
                    "properties": {
                        "format": {"type": "string"},
                        "algorithm": {"type": "string"},
                        "commitment": {"type": "string"},
                        "secret": {"type": "string"},
                        "pool": {"type": "object"},
                        "winners": {"type": "array", "items": {"type": "object"}},
                        "alternates": {"type": "array", "items": {"type": "object"}},
                    },
                    "required": ["format", "algorithm", "commitment", "secret", "pool", "winners"],
                },
                "Entry": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"type": "string", "enum": ["pending", "confirmed"]},
                        "created_at": {"type": "string", "format": "date-time"},
                        "confirmed_at": DATETIME,
                        "source": {"type": "string"},
                        "chances": {"type": "integer"},
                        "language": {"type": "string"},
                        "email": {"type": "string"},
                        "first_name": {"type": "string"},
                    },
                    "required": ["id", "status", "created_at", "source", "chances", "email"],
                },
                "EntriesPage": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Entry"}},
                        "next": {"type": ["integer", "null"]},
                    },
                    "required": ["items", "next"],
                },
                "ClientsInput": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "clients": {
                            "type": "array",
                            "maxItems": 10000,
                            "items": {
                                "type": "object",
                                "properties": {
                                    "email": {"type": "string"},
                                    "client_since": {"type": "string"},
                                    "orders_count": {"type": "integer", "minimum": 0},
                                    "segments": {"type": "array", "items": {"type": "string"}},
                                },
                                "required": ["email", "client_since"],
                            },
                        }
                    },
                    "required": ["clients"],
                },
                "ClientsReport": {
                    "type": "object",
                    "properties": {
                        "created": {"type": "integer"},
                        "updated": {"type": "integer"},
                        "unchanged": {"type": "integer"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "index": {"type": "integer"},
                                    "field": NULLABLE_STRING,
                                    "message_fr": {"type": "string"},
                                    "message_en": {"type": "string"},
                                },
                            },
                        },
                    },
                    "required": ["created", "updated", "unchanged", "errors"],
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "fields": {"type": "object"},
                                "rules": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Finding"},
                                },
                            },
                            "required": ["code", "message"],
                        }
                    },
                    "required": ["error"],
                },
            },
        },
    }
