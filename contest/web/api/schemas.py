"""The component schemas of the contests' and the organization's API operations; the
contest and organization fields come from their one declaration."""

from __future__ import annotations

from typing import Any

from contest.contests import ContestSettings
from contest.contests.formats import json_schema, settings_schema
from contest.contests.setting import Kind, settings_of
from contest.organization import OrganizationSettings
from viral.links import KINDS as LINK_KINDS

NULLABLE_STRING = {"type": ["string", "null"]}
DATETIME = {"type": ["string", "null"], "format": "date-time"}


def blank_as_null(properties: dict[str, Any], declaration: type) -> dict[str, Any]:
    """Input properties where a setting that may be left empty may also be sent as null: it
    then takes its blank value (a blank minimum age is the usual 18), as an emptied form
    field does."""
    out = dict(properties)
    for name, spec in settings_of(declaration).items():
        kinds = out.get(name, {}).get("type")
        if spec.required or spec.many or spec.kind is Kind.BOOLEAN or not isinstance(kinds, str):
            continue
        out[name] = {**out[name], "type": [kinds, "null"]}
        if "enum" in out[name]:
            out[name]["enum"] = [*out[name]["enum"], None]
    return out


CONTEST_FIELDS = blank_as_null(json_schema(output=False), ContestSettings)
ORGANIZATION_FIELDS = settings_schema(OrganizationSettings)
ORGANIZATION_INPUT = blank_as_null(ORGANIZATION_FIELDS, OrganizationSettings)

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
    "required": ["id", "url", "status", "title", "slug", "compliance", "prizes", "questions"],
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
            "email": {
                "type": ["string", "null"],
                "description": "Only for a confirmed entry whose person's consent to offers "
                "by e-mail is current and whose address has not bounced; null otherwise.",
            },
            "first_name": {
                "type": ["string", "null"],
                "description": "Given with the address, under the same condition.",
            },
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
        "properties": ORGANIZATION_INPUT,
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

DNS_RECORD = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["dkim", "spf", "dmarc"]},
        "type": {"type": "string", "enum": ["TXT"]},
        "name": {"type": "string", "description": "Where to publish it."},
        "value": {"type": "string", "description": "What to publish."},
        "status": {
            "type": "string",
            "enum": ["match", "different", "missing", "unknown", "unchecked"],
            "description": "What the last check found: found and matching, found but "
            "different, missing, DNS did not answer, or never checked.",
        },
        "found": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["kind", "type", "name", "value", "status", "found"],
}

SENDING_DOMAIN_SCHEMAS: dict[str, Any] = {
    "SendingAddress": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "address": {
                "type": "string",
                "format": "email",
                "minLength": 3,
                "maxLength": 254,
                "description": "The address e-mails are sent from, on the organization's "
                "own domain.",
            }
        },
        "required": ["address"],
    },
    "SendingDomain": {
        "type": "object",
        "properties": {
            "address": {"type": "string"},
            "domain": {"type": "string"},
            "selector": {"type": "string"},
            "verified": {"type": "boolean"},
            "verified_at": DATETIME,
            "checked_at": DATETIME,
            "records": {"type": "array", "items": DNS_RECORD},
        },
        "required": [
            "address",
            "domain",
            "selector",
            "verified",
            "verified_at",
            "checked_at",
            "records",
        ],
    },
}


def _list_of(item: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": item}, **more},
        "required": ["items", *more],
    }


LEAD = {
    "type": "object",
    "properties": {
        "email": {"type": "string"},
        "first_name": {"type": "string"},
        "segment": {"type": "string"},
        "score": {"type": "integer"},
        "consent": {
            "type": "object",
            "properties": {
                "purpose": {"type": "string"},
                "state": {"type": "string"},
                "since": DATETIME,
                "version": NULLABLE_STRING,
            },
            "required": ["purpose", "state", "since", "version"],
        },
        "contests": {"type": "integer"},
        "first_source": NULLABLE_STRING,
        "last_activity_at": DATETIME,
    },
    "required": ["email", "segment", "score", "consent", "contests"],
}
LINK = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "url": {"type": "string"},
        "label": {"type": "string"},
        "kind": {"type": "string"},
        "utm_campaign": {"type": "string"},
        "clicks": {"type": "integer"},
        "entries": {"type": "integer"},
        "confirmed": {"type": "integer"},
    },
    "required": ["code", "url", "label", "kind", "clicks", "entries", "confirmed"],
}
HELD_REFERRAL = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["review", "rejected"]},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "created_at": DATETIME,
        "decided_at": DATETIME,
        "referrer_email": {"type": "string"},
        "referred_email": {"type": "string"},
    },
    "required": ["id", "status", "reasons", "created_at", "referrer_email", "referred_email"],
}
AWARD = {
    "type": "object",
    "properties": {
        "prize_rank": {"type": "integer"},
        "prize": {"type": "string"},
        "status": {
            "type": "string",
            "enum": ["notified", "claimed", "to_import", "delivered", "expired", "failed"],
            "description": "failed: the shop refused the voucher for good.",
        },
        "delivery": {"type": "string"},
        "shop_error": {
            **NULLABLE_STRING,
            "description": "The shop's last answer while the voucher is not delivered "
            "(refused, or failing and being retried).",
        },
        "claim_deadline": DATETIME,
        "claimed_at": DATETIME,
        "delivered_at": DATETIME,
        "voucher_issued": {"type": "boolean"},
    },
    "required": ["prize_rank", "prize", "status", "delivery", "shop_error", "voucher_issued"],
}

ACTIVITY_SCHEMAS: dict[str, Any] = {
    "LeadsPage": _list_of(LEAD, total={"type": "integer"}, next={"type": ["integer", "null"]}),
    "Links": _list_of(LINK),
    "LinkInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "label": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
            "kind": {
                "type": "string",
                "enum": sorted(LINK_KINDS),
                "description": "partner when left out.",
            },
            "utm_source": {"type": "string", "maxLength": 100},
            "utm_medium": {"type": "string", "maxLength": 100},
            "utm_campaign": {"type": "string", "maxLength": 40, "pattern": r"^$|^[A-Za-z0-9_.-]+$"},
        },
        "required": ["label"],
    },
    "ReviewQueue": _list_of(HELD_REFERRAL),
    "ReferralDecision": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"decision": {"type": "string", "enum": ["clear", "reject"]}},
        "required": ["decision"],
    },
    "ReferralDecided": {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "status": {"type": "string"}},
        "required": ["id", "status"],
    },
    "PrizeAwards": _list_of(AWARD),
}
