"""A generic webhook: the voucher as JSON, signed with HMAC-SHA256, with an idempotency key."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable

import httpx

from contest.prizes.shops.common import (
    ShopConfigurationError,
    ShopHttp,
    ShopResult,
    ShopRetryable,
    Voucher,
    as_secret,
    shop_url,
)
from contest.settings import Secret

SIGNATURE_HEADER = "X-Contest-Signature"
TIMESTAMP_HEADER = "X-Contest-Timestamp"


def sign_webhook(secret: str | Secret, body: bytes) -> str:
    """The ``X-Contest-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    key = as_secret(secret).reveal().encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_webhook_signature(secret: str | Secret, body: bytes, header: str | None) -> bool:
    """True if ``header`` signs exactly ``body`` with ``secret`` (constant-time comparison).

    For receivers: check it on the raw body before parsing it; the event's ``timestamp``
    (also sent as ``X-Contest-Timestamp``) is covered by the signature and lets a receiver
    refuse old replays, and ``idempotency_key`` lets it ignore a redelivery.
    """
    if not header or not as_secret(secret).reveal():
        return False
    return hmac.compare_digest(sign_webhook(secret, body).encode(), header.strip().encode())


class WebhookConnector:
    """POSTs a signed ``voucher.issued`` event to the organizer's own endpoint.

    Any 2xx means done; the receiver de-duplicates by ``Idempotency-Key``. A 409 means the
    same key is still being processed (IETF draft "The Idempotency-Key HTTP Header Field"),
    so it is retried like a 5xx or a 429.
    """

    def __init__(
        self,
        url: str,
        secret: str | Secret,
        client: httpx.Client,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = shop_url(url, "webhook url")
        self._secret = as_secret(secret)
        if len(self._secret.reveal()) < 16:
            raise ShopConfigurationError("a webhook secret is at least 16 characters")
        self._http = ShopHttp("webhook", client, (self._secret,))
        self.clock = clock

    def __repr__(self) -> str:
        return f"WebhookConnector({self.url!r})"

    def create_voucher(self, voucher: Voucher) -> ShopResult:
        response = self._post("voucher.issued", voucher.to_payload(), voucher.idempotency_key)
        if response.status_code == 409:
            raise ShopRetryable("webhook: the same Idempotency-Key is still being processed")
        if not 200 <= response.status_code < 300:
            raise self._http.reject(response, response.text or response.reason_phrase)
        return ShopResult(voucher.idempotency_key, created=True)

    def check(self) -> str:
        """Sends a signed ``ping`` event (no voucher): the receiver answers like for one."""
        key = f"ping-{secrets.token_hex(8)}"
        response = self._post("ping", {"idempotency_key": key}, key)
        if not 200 <= response.status_code < 300:
            raise self._http.reject(response, response.text or response.reason_phrase)
        return f"The receiver accepted a signed ping ({response.status_code})."

    def _post(self, event_type: str, data: dict[str, str | None], key: str) -> httpx.Response:
        timestamp = str(int(self.clock()))
        event = {"type": event_type, "timestamp": int(timestamp), **data}
        body = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
        return self._http.send(
            "POST",
            self.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign_webhook(self._secret, body),
                TIMESTAMP_HEADER: timestamp,
                "Idempotency-Key": key,
            },
        )
