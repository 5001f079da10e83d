"""What every shop connector shares: the voucher, the outcome, the errors, the HTTP handling.

See the package's docstring for the contract every connector keeps.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx

from contest.settings import Secret

log = logging.getLogger(__name__)

Kind = Literal["amount", "percent"]
KINDS = ("amount", "percent")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 9
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CURRENCY = re.compile(r"[A-Z]{3}")
MESSAGE_LIMIT = 300


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
        if not CURRENCY.fullmatch(self.currency):
            raise ValueError("a currency is an ISO 4217 code such as EUR")
        if self.expires_at is not None and self.expires_at.utcoffset() is None:
            raise ValueError("the expiry date must be timezone-aware")
        if CONTROL.search(self.description) or CONTROL.search(self.winner_email):
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

    def check(self) -> str:
        """Makes a harmless real call (a read, or a signed ping) and says, in one line, what
        the shop answered; raises ShopRetryable or ShopRejected like a delivery would."""
        ...


def check_setting_names(
    kind: str, settings: Mapping[str, str], required: tuple[str, ...], optional: tuple[str, ...]
) -> None:
    """Raises ShopConfigurationError naming the missing or unknown settings of a connector
    (shop or CRM), never a value."""
    missing = [name for name in required if not (settings.get(name) or "").strip()]
    if missing:
        raise ShopConfigurationError(f"{kind} connector: missing {', '.join(missing)}")
    unknown = sorted(set(settings) - set(required) - set(optional))
    if unknown:
        raise ShopConfigurationError(f"{kind} connector: unknown setting {', '.join(unknown)}")


# --- Shared HTTP handling -----------------------------------------------------------------


def money_text(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):f}"


def shop_url(url: str, setting: str) -> str:
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


def as_secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


class ShopHttp:
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
        return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "..."

    def send(
        self, method: str, url: str, *, redirect_ok: bool = False, **options: Any
    ) -> httpx.Response:
        """The answer if it is not a passing failure: raises ShopRetryable on those. A
        redirect is refused unless ``redirect_ok`` (an API whose answer is a redirect)."""
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
                retry_after=retry_after_seconds(response),
            )
        if 300 <= response.status_code < 400 and not redirect_ok:
            location = self.scrub(response.headers.get("location", ""))
            raise ShopRejected(
                f"{self.shop} redirects to {location or 'another address'}: "
                "configure the final address"
            )
        return response

    def reject(self, response: httpx.Response, message: str) -> ShopRejected:
        return ShopRejected(f"{self.shop} refused ({response.status_code}): {self.scrub(message)}")


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
