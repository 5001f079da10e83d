"""The component schemas of the contests' and the organization's API operations; the
contest and organization fields come from their one declaration."""

from __future__ import annotations

from typing import Any

from contest.contests.formats import json_schema, settings_schema
from contest.organization import OrganizationSettings

NULLABLE_STRING = {"type": ["string", "null"]}
DATETIME = {"type": ["string", "null"], "format": "date-time"}
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

CONTEST = {
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

CONTEST_SCHEMAS: dict[str, Any] = {
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
    "Contest": CONTEST,
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
}

ORGANIZATION_SCHEMAS: dict[str, Any] = {
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
}
