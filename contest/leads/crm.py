"""Pushing leads to the organizer's CRM: a signed webhook, or Brevo's contacts API (httpx).

Events go through the outbox like every message (kind ``crm``), so they are retried with
backoff and delivered once: the webhook receiver de-duplicates by ``Idempotency-Key``, and Brevo
upserts contacts (``updateEnabled``) and treats a repeated delete of a gone contact as done.
Events: ``lead.created`` (a confirmed marketing consent), ``consent.changed`` (a withdrawal)
and ``lead.erased`` (an erasure, carrying only the hash of the address). Once delivered, the
event's personal data are removed from the outbox row; the organizer's delivery log keeps the
event type, the outcome and the dates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import outbox, tables
from contest.clock import SYSTEM_CLOCK
from contest.outbound import OutboundPolicy, OutboundRefused, outbound_client
from contest.outbox import OutboxItem, Undeliverable
from contest.prizes.shops import sign_webhook

EVENTS = ("lead.created", "consent.changed", "lead.erased")
BREVO_URL = "https://api.brevo.com/v3"


class CrmRefused(Undeliverable):
    """The CRM refused the event (bad key, bad list): the organizer must fix the settings."""


class CrmRetryable(Exception):
    """A network error, a timeout, a 5xx or a 429: the outbox tries again later."""


def enqueue_event(
    connection: Connection,
    organizer_id: int,
    event: str,
    data: Mapping[str, Any],
    key: str,
    now: datetime,
) -> bool:
    """Queues an event when the organizer has a CRM connection; False when there is none."""
    if event not in EVENTS:
        raise ValueError(f"unknown CRM event {event}")
    crm = tables.crmconnection
    if (
        connection.execute(sa.select(crm.c.id).where(crm.c.organizer_id == organizer_id)).first()
        is None
    ):
        return False
    outbox.enqueue(
        connection,
        key=f"crm:{event}:{key}",
        template=event,
        recipient="",
        language="",
        payload={"organizer": organizer_id, "data": dict(data), "at": now.isoformat()},
        now=now,
        kind="crm",
    )
    return True


def _check(response: httpx.Response, accepted: set[int]) -> None:
    if response.status_code in accepted:
        return
    if response.status_code == 429 or response.status_code >= 500:
        raise CrmRetryable(f"CRM answered {response.status_code}")
    raise CrmRefused(f"CRM refused the event ({response.status_code}): {response.text[:200]}")


def deliver_webhook(client: httpx.Client, settings: Mapping[str, Any], item: OutboxItem) -> None:
    body = json.dumps(
        {
            "type": item.template,
            "idempotency_key": item.idempotency_key,
            "occurred_at": item.payload.get("at"),
            "data": item.payload.get("data", {}),
        },
        sort_keys=True,
    ).encode()
    timestamp = str(int(SYSTEM_CLOCK.now().timestamp()))
    response = client.post(
        str(settings["url"]),
        content=body,
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": item.idempotency_key,
            "X-Contest-Timestamp": timestamp,
            "X-Contest-Signature": sign_webhook(str(settings["secret"]), body),
        },
    )
    _check(response, {200, 201, 202, 204})


def deliver_brevo(client: httpx.Client, settings: Mapping[str, Any], item: OutboxItem) -> None:
    """Brevo API v3: POST /contacts (upsert) or DELETE /contacts/{email}.

    Follows https://developers.brevo.com/reference/createcontact and
    https://developers.brevo.com/reference/deletecontact.
    """
    base = str(settings.get("base_url") or BREVO_URL).rstrip("/")
    headers = {"api-key": str(settings["api_key"]), "accept": "application/json"}
    data = item.payload.get("data", {})
    if item.template == "lead.erased":
        email = data.get("email")
        if not email:  # only the hash is left: nothing Brevo can match
            return
        response = client.delete(f"{base}/contacts/{quote(str(email))}", headers=headers)
        _check(response, {204, 404})
        return
    body: dict[str, Any] = {
        "email": data["email"],
        "attributes": {"FIRSTNAME": data.get("first_name", "")},
        "updateEnabled": True,
    }
    if item.template == "consent.changed" and not data.get("marketing", False):
        body["emailBlacklisted"] = True
    elif settings.get("list_id"):
        body["listIds"] = [int(settings["list_id"])]
    response = client.post(f"{base}/contacts", json=body, headers=headers)
    _check(response, {201, 204})


DELIVERERS: dict[str, Callable[[httpx.Client, Mapping[str, Any], OutboxItem], None]] = {
    "webhook": deliver_webhook,
    "brevo": deliver_brevo,
}


class CrmDelivery:
    """The outbox handler for ``crm`` rows."""

    def __init__(
        self,
        engine: Engine,
        client: Callable[[], httpx.Client] = lambda: outbound_client(OutboundPolicy()),
    ) -> None:
        self.engine = engine
        self.client = client

    def __call__(self, item: OutboxItem) -> None:
        crm = tables.crmconnection
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(crm.c.kind, crm.c.settings).where(
                    crm.c.organizer_id == int(item.payload["organizer"])
                )
            ).first()
        if row is None or row.kind not in DELIVERERS:
            raise CrmRefused("no CRM connection configured any more")
        try:
            with self.client() as client:
                DELIVERERS[row.kind](client, row.settings, item)
        except httpx.TransportError as exc:
            raise CrmRetryable(type(exc).__name__) from exc
        except OutboundRefused as exc:
            raise CrmRefused(str(exc)) from exc
        except KeyError as exc:
            raise CrmRefused(f"missing CRM setting {exc}") from exc
        with self.engine.begin() as connection:  # the log keeps the event, not the person
            outbox_t = tables.outboxmessage
            connection.execute(
                sa.update(outbox_t)
                .where(outbox_t.c.id == item.id)
                .values(payload={"organizer": item.payload["organizer"], "data": {}})
            )
