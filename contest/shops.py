"""Creating a winner's voucher in the organizer's shop, through the shop's own HTTP API.

Connectors: WooCommerce (REST API v3 coupons), PrestaShop (webservice cart rules), a generic
webhook signed with HMAC-SHA256, and a CSV export for shops without an API. The outbox calls
``create_voucher`` and retries with backoff, so every connector is idempotent: it first looks
the code up in the shop, and a retried call after a lost answer returns ``created=False``
instead of creating the voucher twice. The webhook sends an ``Idempotency-Key`` instead.

Failures are of two kinds. :class:`ShopRetryable`: the network, a timeout, a 5xx or a 429;
the outbox tries again later. :class:`ShopRejected`: the shop refused the request (a 4xx) and
says why; trying again cannot help, the organizer must fix the configuration.

Keys and secrets live in :class:`~contest.settings.Secret`, travel only in the
``Authorization`` header (never in a URL), and are masked in every message built from an
answer; reprs show the shop's address only. Shop addresses must be ``https://`` (plain
``http://`` is accepted for the local machine only).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from contest.clock import SYSTEM_CLOCK
from contest.settings import Secret

log = logging.getLogger(__name__)

Kind = Literal["amount", "percent"]
KINDS = ("amount", "percent")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 9
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CURRENCY = re.compile(r"[A-Z]{3}")
_MESSAGE_LIMIT = 300


class ShopError(Exception):
    """Creating the voucher in the shop failed."""


class ShopRetryable(ShopError):
    """A passing failure (network, timeout, 5xx, 429): try again later, with backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ShopRejected(ShopError):
    """The shop refused the request (4xx): retrying cannot help, the configuration must change."""


class ShopConfigurationError(ValueError):
    """The organizer's connector settings are incomplete or invalid."""


@dataclass(frozen=True)
class Voucher:
    """A voucher to create in the shop, exactly once (``idempotency_key`` names the cause).

    Refuses (ValueError) an unknown kind, a value that is not positive or has more than two
    decimals, a percentage above 100, a currency that is not three capital letters, a naive
    expiry date, a code with spaces or control characters, and an empty idempotency key.
    """

    code: str
    kind: Kind
    value: Decimal
    currency: str
    min_order: Decimal | None
    expires_at: datetime | None
    description: str
    winner_email: str
    idempotency_key: str

    def __post_init__(self) -> None:
        if not self.code or any(c.isspace() or not c.isprintable() for c in self.code):
            raise ValueError("a voucher code is printable characters without spaces")
        if self.kind not in KINDS:
            raise ValueError(f"a voucher kind is one of {', '.join(KINDS)}")
        for name, amount in (("value", self.value), ("min_order", self.min_order)):
            if amount is None:
                continue
            if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
                raise ValueError(f"the voucher {name} is a finite, non-negative Decimal")
            if amount >= MAX_AMOUNT:
                raise ValueError(f"the voucher {name} is below {MAX_AMOUNT}")
            if amount != amount.quantize(CENT):
                raise ValueError(f"the voucher {name} has at most two decimals")
        if self.value <= 0:
            raise ValueError("the voucher value is positive")
        if self.kind == "percent" and self.value > 100:
            raise ValueError("a percentage is at most 100")
        if not _CURRENCY.fullmatch(self.currency):
            raise ValueError("a currency is an ISO 4217 code such as EUR")
        if self.expires_at is not None and self.expires_at.utcoffset() is None:
            raise ValueError("the expiry date must be timezone-aware")
        if _CONTROL.search(self.description) or _CONTROL.search(self.winner_email):
            raise ValueError("the description and e-mail hold no control characters")
        if not self.idempotency_key:
            raise ValueError("a voucher needs an idempotency key")

    def to_payload(self) -> dict[str, str | None]:
        """The voucher as JSON-ready strings, for an outbox row's payload."""
        return {
            "code": self.code,
            "kind": self.kind,
            "value": str(self.value),
            "currency": self.currency,
            "min_order": None if self.min_order is None else str(self.min_order),
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "description": self.description,
            "winner_email": self.winner_email,
            "idempotency_key": self.idempotency_key,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Voucher:
        """The voucher back from :meth:`to_payload`; raises ValueError or KeyError if damaged."""
        min_order, expires_at = payload.get("min_order"), payload.get("expires_at")
        return cls(
            code=payload["code"],
            kind=payload["kind"],
            value=Decimal(payload["value"]),
            currency=payload["currency"],
            min_order=None if min_order is None else Decimal(min_order),
            expires_at=None if expires_at is None else datetime.fromisoformat(expires_at),
            description=payload.get("description", ""),
            winner_email=payload.get("winner_email", ""),
            idempotency_key=payload["idempotency_key"],
        )


@dataclass(frozen=True)
class ShopResult:
    external_id: str
    created: bool


class ShopConnector(Protocol):
    def create_voucher(self, voucher: Voucher) -> ShopResult:
        """Creates the voucher once; raises ShopRetryable or ShopRejected."""
        ...


# --- Shared HTTP handling -----------------------------------------------------------------


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):f}"


def _shop_url(url: str, setting: str) -> str:
    """The address without its trailing slash; https, or http on the local machine only."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ShopConfigurationError(f"{setting} must be an address such as https://shop.example")
    if parts.username is not None or parts.password is not None:
        raise ShopConfigurationError(f"{setting} must not hold credentials: use the key settings")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise ShopConfigurationError(
            f"{setting} must start with https:// (keys and winners' data travel with it)"
        )
    if parts.query or parts.fragment:
        raise ShopConfigurationError(f"{setting} must not have a query string or fragment")
    return url.strip().rstrip("/")


def _as_secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


class _Http:
    """Sends requests for one connector; turns failures into ShopRetryable or ShopRejected."""

    def __init__(self, shop: str, client: httpx.Client, secrets: tuple[Secret, ...]) -> None:
        self.shop = shop
        self.client = client
        self.secrets = secrets

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret.reveal():
                text = text.replace(secret.reveal(), "**********")
        text = " ".join(text.split())
        return text if len(text) <= _MESSAGE_LIMIT else text[:_MESSAGE_LIMIT] + "..."

    def send(self, method: str, url: str, **options: Any) -> httpx.Response:
        """The answer if it is not a passing failure: raises ShopRetryable on those."""
        try:
            response = self.client.request(method, url, **options)
        except httpx.TimeoutException as exc:
            raise ShopRetryable(f"{self.shop}: no answer in time ({type(exc).__name__})") from None
        except httpx.RequestError as exc:
            detail = self.scrub(str(exc)) or type(exc).__name__
            raise ShopRetryable(f"{self.shop}: {detail}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise ShopRetryable(
                f"{self.shop} answered {response.status_code}: {self.scrub(response.text)}",
                retry_after=_retry_after(response),
            )
        if 300 <= response.status_code < 400:
            location = self.scrub(response.headers.get("location", ""))
            raise ShopRejected(
                f"{self.shop} redirects to {location or 'another address'}: "
                "configure the final address"
            )
        return response

    def reject(self, response: httpx.Response, message: str) -> ShopRejected:
        return ShopRejected(f"{self.shop} refused ({response.status_code}): {self.scrub(message)}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


# --- WooCommerce --------------------------------------------------------------------------


class WooCommerceConnector:
    """A WooCommerce coupon per voucher, through the REST API v3 (``/wp-json/wc/v3/coupons``).

    Authentication is HTTP Basic with the consumer key and secret, the documented method over
    HTTPS. ``timezone`` is the site's (WordPress Settings > General), since ``date_expires``
    is written in it. With ``currency`` set, vouchers in another currency are refused: a
    WooCommerce shop has one currency and a coupon does not name it.
    """

    PATH = "/wp-json/wc/v3/coupons"
    ALREADY_EXISTS = "woocommerce_rest_coupon_code_already_exists"

    def __init__(
        self,
        base_url: str,
        consumer_key: str | Secret,
        consumer_secret: str | Secret,
        client: httpx.Client,
        *,
        timezone: tzinfo = UTC,
        currency: str | None = None,
        individual_use: bool = True,
    ) -> None:
        self.base_url = _shop_url(base_url, "WooCommerce base_url")
        self._key = _as_secret(consumer_key)
        self._secret = _as_secret(consumer_secret)
        if not self._key.reveal() or not self._secret.reveal():
            raise ShopConfigurationError("WooCommerce needs a consumer key and a consumer secret")
        self._http = _Http("WooCommerce", client, (self._key, self._secret))
        self.timezone = timezone
        self.currency = currency
        self.individual_use = individual_use

    def __repr__(self) -> str:
        return f"WooCommerceConnector({self.base_url!r})"

    def create_voucher(self, voucher: Voucher) -> ShopResult:
        """Creates the coupon, or finds it when an earlier attempt already did."""
        uses_currency = voucher.kind == "amount" or voucher.min_order is not None
        if self.currency and uses_currency and voucher.currency != self.currency:
            raise ShopRejected(
                f"WooCommerce shop sells in {self.currency}, the voucher is in {voucher.currency}"
            )
        existing = self._find(voucher.code)
        if existing is not None:
            return ShopResult(existing, created=False)
        response = self._request("POST", json=self.coupon(voucher))
        if response.status_code in (200, 201):
            coupon = self._json(response)
            if not isinstance(coupon, dict) or "id" not in coupon:
                raise self._http.reject(response, "the answer is not a WooCommerce coupon")
            log.info("WooCommerce coupon %s created", coupon["id"])
            return ShopResult(str(coupon["id"]), created=True)
        error = self._error(response)
        if response.status_code == 400 and error[0] == self.ALREADY_EXISTS:
            existing = self._find(voucher.code)
            if existing is None:  # listed soon: a replica or a cache lags behind
                raise ShopRetryable("WooCommerce says the code exists but does not list it yet")
            return ShopResult(existing, created=False)
        raise self._http.reject(response, f"{error[0]}: {error[1]}")

    def coupon(self, voucher: Voucher) -> dict[str, Any]:
        """The JSON body of ``POST /wp-json/wc/v3/coupons`` for the voucher."""
        body: dict[str, Any] = {
            "code": voucher.code,
            "discount_type": "percent" if voucher.kind == "percent" else "fixed_cart",
            "amount": _money(voucher.value),
            "individual_use": self.individual_use,
            "usage_limit": 1,
            "usage_limit_per_user": 1,
            "description": voucher.description,
        }
        if voucher.min_order is not None:
            body["minimum_amount"] = _money(voucher.min_order)
        if voucher.expires_at is not None:
            local = voucher.expires_at.astimezone(self.timezone)
            body["date_expires"] = local.strftime("%Y-%m-%dT%H:%M:%S")
        if voucher.winner_email:
            body["email_restrictions"] = [voucher.winner_email]
        return body

    def _request(self, method: str, **options: Any) -> httpx.Response:
        auth = httpx.BasicAuth(self._key.reveal(), self._secret.reveal())
        return self._http.send(method, self.base_url + self.PATH, auth=auth, **options)

    def _find(self, code: str) -> str | None:
        """The id of the coupon with this code (WooCommerce compares codes in lowercase)."""
        response = self._request("GET", params={"code": code})
        if response.status_code != 200:
            error = self._error(response)
            raise self._http.reject(response, f"{error[0]}: {error[1]}")
        coupons = self._json(response)
        if not isinstance(coupons, list):
            raise self._http.reject(response, "the answer is not a list of coupons")
        for coupon in coupons:
            if isinstance(coupon, dict) and str(coupon.get("code", "")).lower() == code.lower():
                if coupon.get("status") == "trash":
                    raise ShopRejected(
                        f"WooCommerce coupon {coupon.get('id')} with this code is in the trash: "
                        "restore it or delete it for good"
                    )
                return str(coupon["id"])
        return None

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self._http.reject(
                response, "the answer is not JSON: is base_url the WordPress site's address?"
            ) from None

    @staticmethod
    def _error(response: httpx.Response) -> tuple[str, str]:
        """The WP REST error's ``code`` and ``message``, or what the answer holds instead."""
        try:
            data = response.json()
        except ValueError:
            return "http_error", response.text
        if isinstance(data, dict):
            return str(data.get("code", "http_error")), str(data.get("message", ""))
        return "http_error", response.text


# --- PrestaShop ---------------------------------------------------------------------------


class PrestaShopConnector:
    """A PrestaShop cart rule per voucher, through the webservice (``/api/cart_rules``, XML).

    Authentication is HTTP Basic with the webservice key as user and no password. The key
    needs GET and POST on ``cart_rules`` and GET on ``currencies`` (amounts name a currency by
    its shop id, looked up from the ISO code). Dates are written in ``timezone``, the shop's
    (International > Localization); a voucher without expiry gets ``NO_EXPIRY``.
    """

    NO_EXPIRY = "2099-12-31 23:59:59"
    KEY_LENGTH = 32  # the webservice refuses other keys (error 18)
    DATE = "%Y-%m-%d %H:%M:%S"
    CLOCK_SKEW = timedelta(minutes=5)
    _FILTER_SAFE = re.compile(r"[A-Za-z0-9._-]+")

    def __init__(
        self,
        base_url: str,
        api_key: str | Secret,
        client: httpx.Client,
        *,
        language_ids: tuple[int, ...] = (1,),
        timezone: tzinfo = UTC,
        clock: Callable[[], datetime] = SYSTEM_CLOCK.now,
    ) -> None:
        self.base_url = _shop_url(base_url, "PrestaShop base_url")
        self._key = _as_secret(api_key)
        if len(self._key.reveal()) != self.KEY_LENGTH:
            raise ShopConfigurationError(
                f"a PrestaShop webservice key is {self.KEY_LENGTH} characters"
            )
        if not language_ids:
            raise ShopConfigurationError("PrestaShop needs at least one language id")
        self._http = _Http("PrestaShop", client, (self._key,))
        self.language_ids = language_ids
        self.timezone = timezone
        self.clock = clock
        self._currency_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"PrestaShopConnector({self.base_url!r})"

    def create_voucher(self, voucher: Voucher) -> ShopResult:
        """Creates the cart rule, or finds it when an earlier attempt already did.

        Refuses codes other than letters, digits, dots, dashes and underscores: the webservice
        filter syntax gives brackets, bars, commas and percent signs a meaning.
        """
        if not self._FILTER_SAFE.fullmatch(voucher.code):
            raise ShopRejected("PrestaShop codes here are letters, digits, '.', '-' and '_'")
        existing = self._first_id("cart_rules", {"code": voucher.code})
        if existing is not None:
            return ShopResult(existing, created=False)
        currency_id = None
        if voucher.kind == "amount" or voucher.min_order is not None:
            currency_id = self._currency_id(voucher.currency)
        response = self._request(
            "POST",
            "cart_rules",
            content=self.cart_rule_xml(voucher, currency_id),
            headers={"Content-Type": "application/xml; charset=utf-8"},
        )
        if response.status_code not in (200, 201):
            raise self._http.reject(response, self._errors(response))
        rule_id = (self._parse(response).findtext("cart_rule/id") or "").strip()
        if not rule_id:
            raise self._http.reject(response, "the answer holds no cart_rule id")
        log.info("PrestaShop cart rule %s created", rule_id)
        return ShopResult(rule_id, created=True)

    def cart_rule_xml(self, voucher: Voucher, currency_id: str | None) -> bytes:
        """The XML body of ``POST /api/cart_rules``; ElementTree escapes every value."""
        now = self.clock().astimezone(self.timezone) - self.CLOCK_SKEW
        if voucher.expires_at is None:
            date_to = self.NO_EXPIRY
        else:
            date_to = voucher.expires_at.astimezone(self.timezone).strftime(self.DATE)
        percent = voucher.kind == "percent"
        fields = [
            ("code", voucher.code),
            ("description", voucher.description),
            ("date_from", now.strftime(self.DATE)),
            ("date_to", date_to),
            ("quantity", "1"),
            ("quantity_per_user", "1"),
            ("priority", "1"),
            ("partial_use", "0"),
            ("minimum_amount", _money(voucher.min_order or Decimal(0))),
            ("minimum_amount_tax", "1"),
            ("minimum_amount_currency", currency_id or "0"),
            ("minimum_amount_shipping", "0"),
            ("free_shipping", "0"),
            ("reduction_percent", _money(voucher.value) if percent else "0"),
            ("reduction_amount", "0" if percent else _money(voucher.value)),
            ("reduction_tax", "1"),
            ("reduction_currency", currency_id or "0"),
            ("highlight", "0"),
            ("active", "1"),
        ]
        root = ET.Element("prestashop")
        rule = ET.SubElement(root, "cart_rule")
        for name, value in fields:
            ET.SubElement(rule, name).text = value
        names = ET.SubElement(rule, "name")
        label = (voucher.description or voucher.code)[:254]
        for language_id in self.language_ids:
            ET.SubElement(names, "language", id=str(language_id)).text = label
        body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return body

    def _currency_id(self, iso_code: str) -> str:
        if iso_code not in self._currency_ids:
            found = self._first_id("currencies", {"iso_code": iso_code, "deleted": "0"})
            if found is None:
                raise ShopRejected(f"PrestaShop has no currency {iso_code}: add it to the shop")
            self._currency_ids[iso_code] = found
        return self._currency_ids[iso_code]

    def _first_id(self, resource: str, filters: Mapping[str, str]) -> str | None:
        params = {f"filter[{name}]": f"[{value}]" for name, value in filters.items()}
        response = self._request("GET", resource, params={**params, "display": "[id]"})
        if response.status_code != 200:
            raise self._http.reject(response, self._errors(response))
        for element in self._parse(response).iterfind(f"{resource}/*/id"):
            found = (element.text or "").strip()
            if found:
                return found
        return None

    def _request(self, method: str, resource: str, **options: Any) -> httpx.Response:
        auth = httpx.BasicAuth(self._key.reveal(), "")
        return self._http.send(method, f"{self.base_url}/api/{resource}", auth=auth, **options)

    def _parse(self, response: httpx.Response) -> ET.Element:
        try:
            return ET.fromstring(response.content)
        except ET.ParseError:
            raise self._http.reject(
                response, "the answer is not webservice XML: is base_url the shop's address?"
            ) from None

    @staticmethod
    def _errors(response: httpx.Response) -> str:
        """The webservice's ``<errors>`` as ``message [code]``, or the raw answer."""
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            return response.text
        errors = []
        for error in root.iterfind("errors/error"):
            message, code = error.findtext("message") or "", error.findtext("code") or ""
            errors.append(f"{message.strip()} [{code.strip()}]")
        return "; ".join(errors) or response.text


# --- Signed webhook -----------------------------------------------------------------------

SIGNATURE_HEADER = "X-Contest-Signature"
TIMESTAMP_HEADER = "X-Contest-Timestamp"


def sign_webhook(secret: str | Secret, body: bytes) -> str:
    """The ``X-Contest-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    key = _as_secret(secret).reveal().encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_webhook_signature(secret: str | Secret, body: bytes, header: str | None) -> bool:
    """True if ``header`` signs exactly ``body`` with ``secret`` (constant-time comparison).

    For receivers: check it on the raw body before parsing it; the event's ``timestamp``
    (also sent as ``X-Contest-Timestamp``) is covered by the signature and lets a receiver
    refuse old replays, and ``idempotency_key`` lets it ignore a redelivery.
    """
    if not header or not _as_secret(secret).reveal():
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
        self.url = _shop_url(url, "webhook url")
        self._secret = _as_secret(secret)
        if len(self._secret.reveal()) < 16:
            raise ShopConfigurationError("a webhook secret is at least 16 characters")
        self._http = _Http("webhook", client, (self._secret,))
        self.clock = clock

    def __repr__(self) -> str:
        return f"WebhookConnector({self.url!r})"

    def create_voucher(self, voucher: Voucher) -> ShopResult:
        timestamp = str(int(self.clock()))
        event = {"type": "voucher.issued", "timestamp": int(timestamp), **voucher.to_payload()}
        body = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
        response = self._http.send(
            "POST",
            self.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign_webhook(self._secret, body),
                TIMESTAMP_HEADER: timestamp,
                "Idempotency-Key": voucher.idempotency_key,
            },
        )
        if response.status_code == 409:
            raise ShopRetryable("webhook: the same Idempotency-Key is still being processed")
        if not 200 <= response.status_code < 300:
            raise self._http.reject(response, response.text or response.reason_phrase)
        return ShopResult(voucher.idempotency_key, created=True)


# --- CSV export ---------------------------------------------------------------------------

CSV_COLUMNS = (
    "code",
    "kind",
    "value",
    "currency",
    "min_order",
    "expires_at",
    "description",
    "winner_email",
)
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV Injection").
_FORMULA_START = tuple("=+-@\t\r\n") + ("\uff1d", "\uff0b", "\uff0d", "\uff20")


def _cell(text: str) -> str:
    return "'" + text if text.lstrip(" ").startswith(_FORMULA_START) else text


def vouchers_csv(vouchers: Iterable[Voucher]) -> Iterator[str]:
    """CSV lines (header first) for shops without an API; cells never run as formulas.

    Expiry dates are ISO 8601 in UTC; a cell that a spreadsheet would read as a formula is
    prefixed with an apostrophe.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Iterable[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(cell) for cell in cells])
        return buffer.getvalue()

    yield line(CSV_COLUMNS)
    for voucher in vouchers:
        yield line(
            [
                voucher.code,
                voucher.kind,
                str(voucher.value),
                voucher.currency,
                "" if voucher.min_order is None else str(voucher.min_order),
                ""
                if voucher.expires_at is None
                else voucher.expires_at.astimezone(UTC).isoformat(timespec="seconds"),
                voucher.description,
                voucher.winner_email,
            ]
        )


# --- From the organizer's settings --------------------------------------------------------

CONNECTOR_SETTINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required settings, optional settings)
    "woocommerce": (
        ("base_url", "consumer_key", "consumer_secret"),
        ("timezone", "currency", "individual_use"),
    ),
    "prestashop": (("base_url", "api_key"), ("timezone", "language_ids")),
    "webhook": (("url", "secret"), ()),
}


def connector_from_settings(
    kind: str, settings: Mapping[str, str], client: httpx.Client
) -> ShopConnector:
    """The connector the organizer configured.

    Raises ShopConfigurationError naming the unknown kind, the missing or unknown settings,
    or the invalid value (never a secret's value).
    """
    if kind not in CONNECTOR_SETTINGS:
        raise ShopConfigurationError(
            f"unknown shop connector {kind!r}: choose {', '.join(CONNECTOR_SETTINGS)} "
            "(a shop without an API imports the CSV export)"
        )
    required, optional = CONNECTOR_SETTINGS[kind]
    missing = [name for name in required if not (settings.get(name) or "").strip()]
    if missing:
        raise ShopConfigurationError(f"{kind} connector: missing {', '.join(missing)}")
    unknown = sorted(set(settings) - set(required) - set(optional))
    if unknown:
        raise ShopConfigurationError(f"{kind} connector: unknown setting {', '.join(unknown)}")
    timezone = _timezone(settings.get("timezone") or "UTC")
    if kind == "woocommerce":
        currency = (settings.get("currency") or "").strip().upper() or None
        if currency is not None and not _CURRENCY.fullmatch(currency):
            raise ShopConfigurationError("woocommerce connector: currency is a code such as EUR")
        return WooCommerceConnector(
            settings["base_url"],
            settings["consumer_key"].strip(),
            settings["consumer_secret"].strip(),
            client,
            timezone=timezone,
            currency=currency,
            individual_use=_flag(settings.get("individual_use", "true"), "individual_use"),
        )
    if kind == "prestashop":
        return PrestaShopConnector(
            settings["base_url"],
            settings["api_key"].strip(),
            client,
            language_ids=_ids(settings.get("language_ids") or "1"),
            timezone=timezone,
        )
    return WebhookConnector(settings["url"], settings["secret"], client)


def _timezone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ShopConfigurationError(
            f"unknown timezone {name!r}: use a name such as Europe/Paris"
        ) from None


def _flag(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ShopConfigurationError(f"{name} is true or false")


def _ids(value: str) -> tuple[int, ...]:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ShopConfigurationError("language_ids is a list of shop language ids, e.g. 1,2")
    return tuple(int(part) for part in parts)


__all__ = [
    "CONNECTOR_SETTINGS",
    "PrestaShopConnector",
    "ShopConfigurationError",
    "ShopConnector",
    "ShopError",
    "ShopRejected",
    "ShopResult",
    "ShopRetryable",
    "Voucher",
    "WebhookConnector",
    "WooCommerceConnector",
    "connector_from_settings",
    "sign_webhook",
    "verify_webhook_signature",
    "vouchers_csv",
]
