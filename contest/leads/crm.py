"""Pushing leads to the organizer's CRM: a signed webhook, or Brevo's contacts API (httpx).

Events go through the outbox like every message (kind ``crm``), so they are retried with
backoff and delivered once: the webhook receiver de-duplicates by ``Idempotency-Key``, and Brevo
upserts contacts (``updateEnabled``) and treats a repeated delete of a gone contact as done.
Events: ``lead.created`` (a confirmed marketing consent, with the lead's answers to the
contest's qualifying questions), ``consent.changed`` (a withdrawal) and ``lead.erased`` (an
erasure: Brevo deletes the contact by its address; the webhook carries only a pseudonym keyed
with its secret, :func:`erased_pseudonym`). Once delivered, the event's personal data (the
erased address included) are removed from the outbox row; an erasure given up (refused, or
failing past its retries) keeps the event's key in the address's place. The organizer's
delivery log keeps the event type, the outcome and the dates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import outbox, tables
from contest.clock import SYSTEM_CLOCK
from contest.contests.formats import questions_of_row
from contest.forms import QUESTIONS
from contest.outbound import OutboundPolicy, OutboundRefused, outbound_client
from contest.outbox import OutboxItem, Undeliverable
from contest.prizes.shops import sign_webhook
from contest.prizes.shops.common import check_setting_names, shop_url
from contest.secretbox import SealBroken

ERASED = "lead.erased"
EVENTS = ("lead.created", "consent.changed", ERASED)
BREVO_URL = "https://api.brevo.com/v3"
# kind: (required settings, optional settings), as for the shop connectors.
CRM_SETTINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "brevo": (("api_key",), ("list_id", "base_url")),
    "webhook": (("url", "secret"), ()),
}
CRM_SECRET_SETTINGS: dict[str, tuple[str, ...]] = {"brevo": ("api_key",), "webhook": ("secret",)}


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
    person_id: int | None = None,
    recipient: str = "",
) -> bool:
    """Queues an event when the organizer has a CRM connection; False when there is none.
    ``person_id`` lets the delivery add the person's preferences link (never sent itself). A
    ``lead.created`` event for a person and a ``contest`` also carries what they answered to
    its qualifying questions (:func:`qualifying_answers`). ``recipient`` is the address a
    ``lead.erased`` event erases: kept in the outbox row only until it is delivered, or given
    up (then the row names the event by its key, ``lead.erased:{key}``)."""
    if event not in EVENTS:
        raise ValueError(f"unknown CRM event {event}")
    crm = tables.crmconnection
    if (
        connection.execute(sa.select(crm.c.id).where(crm.c.organizer_id == organizer_id)).first()
        is None
    ):
        return False
    if event == "lead.created" and person_id is not None and data.get("contest"):
        data = {
            **data,
            **qualifying_answers(connection, organizer_id, str(data["contest"]), person_id),
        }
    outbox.enqueue(
        connection,
        key=f"crm:{event}:{key}",
        template=event,
        recipient=recipient,
        language="",
        payload={
            "organizer": organizer_id,
            "data": dict(data),
            "at": now.isoformat(),
            **({"person": person_id} if person_id is not None else {}),
            **({outbox.PSEUDONYM: f"{event}:{key}"} if event == ERASED and recipient else {}),
        },
        now=now,
        kind="crm",
    )
    return True


def qualifying_answers(
    connection: Connection, organizer_id: int, slug: str, person_id: int
) -> dict[str, Any]:
    """What the person answered to the qualifying questions of the organizer's contest
    ``slug``, as a CRM event carries it: ``answers`` (question key -> the keys of the answers
    chosen), ``crm_fields`` (for each question mapped to a CRM field: the field -> the
    answers' wordings, joined by ", ") and ``tags`` (for each question mapped to a segment:
    "segment:answer key"). Nothing when the contest asks no question or none was answered."""
    entry, contest = tables.entry, tables.contest
    row = connection.execute(
        sa.select(entry.c.answers, contest.c.questions)
        .join(contest, contest.c.id == entry.c.contest_id)
        .where(
            contest.c.slug == slug,
            contest.c.organizer_id == organizer_id,
            entry.c.person_id == person_id,
        )
    ).first()
    if row is None:
        return {}
    answered = row.answers.get(QUESTIONS)
    if not isinstance(answered, dict) or not answered:
        return {}
    fields: dict[str, str] = {}
    tags: list[str] = []
    for question in questions_of_row(row.questions):
        keys = answered.get(question.key) or []
        if question.maps_to == "crm_field" and keys:
            fields[question.target] = ", ".join(question.labels(keys))
        elif keys:
            tags.extend(f"{question.target}:{key}" for key in keys)
    return {"answers": answered, "crm_fields": fields, "tags": tags}


def validate_crm_settings(kind: str, settings: Mapping[str, str]) -> None:
    """Raises ValueError naming the missing, unknown or malformed setting (never a value)."""
    if kind not in CRM_SETTINGS:
        raise ValueError(f"unknown CRM connector {kind!r}: choose {', '.join(CRM_SETTINGS)}")
    check_setting_names(kind, settings, *CRM_SETTINGS[kind])
    if kind == "webhook":
        shop_url(settings["url"], "webhook url")
        if len(settings["secret"].strip()) < 16:
            raise ValueError("a webhook secret is at least 16 characters")
        return
    list_id = (settings.get("list_id") or "").strip()
    if list_id and not (list_id.isdigit() and int(list_id) > 0):
        raise ValueError("list_id is the number of a Brevo contact list, such as 3")
    if (settings.get("base_url") or "").strip():
        shop_url(settings["base_url"], "base_url")


def check_crm(kind: str, settings: Mapping[str, str], client: httpx.Client) -> str:
    """A harmless real call, for "Send a test": Brevo's account (and list) read, or a signed
    ``ping`` to the webhook. Says in one line what came back; raises CrmRefused or
    CrmRetryable like a delivery would."""
    if kind == "webhook":
        key = f"ping-{secrets.token_hex(8)}"
        response = _post_webhook(client, settings, "ping", key, None, {})
        _check(response, {200, 201, 202, 204})
        return f"The receiver accepted a signed ping ({response.status_code})."
    base = str(settings.get("base_url") or BREVO_URL).rstrip("/")
    headers = {"api-key": str(settings["api_key"]), "accept": "application/json"}
    response = client.get(f"{base}/account", headers=headers)
    _check(response, {200})
    try:
        company = str(response.json().get("companyName") or "").strip()
    except (ValueError, AttributeError):
        raise CrmRefused("Brevo's answer is not JSON: is base_url Brevo's API?") from None
    said = f"Brevo answered: account {company or '(no company name)'}"
    if settings.get("list_id"):
        listed = client.get(f"{base}/contacts/lists/{int(settings['list_id'])}", headers=headers)
        _check(listed, {200})
        said += f", list {settings['list_id']} found"
    return said + "."


def _check(response: httpx.Response, accepted: set[int]) -> None:
    if response.status_code in accepted:
        return
    if response.status_code == 429 or response.status_code >= 500:
        raise CrmRetryable(f"CRM answered {response.status_code}")
    raise CrmRefused(f"CRM refused the event ({response.status_code}): {response.text[:200]}")


def erased_pseudonym(secret: str, address: str) -> str:
    """What a ``lead.erased`` webhook carries instead of the address: HMAC-SHA256 of the
    normalised address keyed with the connection's webhook secret. The receiver, holding the
    same secret, computes it for its own contacts to find the one to erase; anyone else cannot
    test guesses against it, as they could an unsalted hash."""
    message = address.strip().lower().encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def deliver_webhook(client: httpx.Client, settings: Mapping[str, Any], item: OutboxItem) -> None:
    data = item.payload.get("data", {})
    at = item.payload.get("at")
    if item.template == ERASED:  # the address stays here: only its keyed pseudonym goes out
        data = {"email_hmac_sha256": erased_pseudonym(str(settings["secret"]), item.recipient)}
    response = _post_webhook(client, settings, item.template, item.idempotency_key, at, data)
    _check(response, {200, 201, 202, 204})


def _post_webhook(
    client: httpx.Client,
    settings: Mapping[str, Any],
    event: str,
    key: str,
    occurred_at: str | None,
    data: Mapping[str, Any],
) -> httpx.Response:
    body = json.dumps(
        {"type": event, "idempotency_key": key, "occurred_at": occurred_at, "data": dict(data)},
        sort_keys=True,
    ).encode()
    timestamp = str(int(SYSTEM_CLOCK.now().timestamp()))
    return client.post(
        str(settings["url"]),
        content=body,
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "X-Contest-Timestamp": timestamp,
            "X-Contest-Signature": sign_webhook(str(settings["secret"]), body),
        },
    )


def deliver_brevo(client: httpx.Client, settings: Mapping[str, Any], item: OutboxItem) -> None:
    """Brevo API v3: POST /contacts (upsert) or DELETE /contacts/{email}; a lead's answers
    mapped to CRM fields become the contact's attributes of those names.

    Follows https://developers.brevo.com/reference/createcontact and
    https://developers.brevo.com/reference/deletecontact.
    """
    base = str(settings.get("base_url") or BREVO_URL).rstrip("/")
    headers = {"api-key": str(settings["api_key"]), "accept": "application/json"}
    data = item.payload.get("data", {})
    if item.template == ERASED:  # the address is kept in the outbox row until this is done
        response = client.delete(f"{base}/contacts/{quote(item.recipient)}", headers=headers)
        _check(response, {204, 404})
        return
    body: dict[str, Any] = {
        "email": data["email"],
        # The answers to qualifying questions mapped to CRM fields, as contact attributes
        # (Brevo's contacts carry no tags: the segment-mapped answers go to the webhook only).
        "attributes": {**data.get("crm_fields", {}), "FIRSTNAME": data.get("first_name", "")},
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
        crm_of: Callable[[Connection, int], tuple[str, dict[str, str]] | None],
        client: Callable[[], httpx.Client] = lambda: outbound_client(OutboundPolicy()),
        preferences: Callable[[int, int], str] | None = None,
    ) -> None:
        """``crm_of`` gives the organizer's CRM connection: its kind and settings, secrets
        opened (contest.connections), or None. ``preferences`` gives a person's preferences
        link (organizer id, person id), added to the webhook's ``lead.created`` events."""
        self.engine = engine
        self.crm_of = crm_of
        self.client = client
        self.preferences = preferences

    def __call__(self, item: OutboxItem) -> None:
        with self.engine.connect() as connection:
            try:
                found = self.crm_of(connection, int(item.payload["organizer"]))
            except SealBroken as exc:
                raise CrmRefused(f"{exc}: type the CRM's secrets again") from exc
        if found is None or found[0] not in DELIVERERS:
            raise CrmRefused("no CRM connection configured any more")
        kind, settings = found
        person = item.payload.get("person")
        if self.preferences is not None and person is not None and kind == "webhook":
            link = self.preferences(int(item.payload["organizer"]), int(person))
            data = {**item.payload.get("data", {}), "preferences_url": link}
            item = replace(item, payload={**item.payload, "data": data})
        try:
            with self.client() as client:
                DELIVERERS[kind](client, settings, item)
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
                .values(payload={"organizer": item.payload["organizer"], "data": {}}, recipient="")
            )
