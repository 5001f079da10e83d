"""Creating a winner's voucher in the organizer's shop, through the shop's own HTTP API.

Connectors: WooCommerce (REST API v3 coupons), PrestaShop (webservice cart rules), Shopify
(GraphQL Admin API code discounts), a generic webhook signed with HMAC-SHA256, and a CSV export
for shops without an API. Each also has ``check()``: a harmless real call for "Send a test".

The outbox calls ``create_voucher`` and retries with backoff, so every connector is
idempotent: it first looks the code up in the shop, and a retried call after a lost answer
returns ``created=False`` instead of creating the voucher twice. The webhook sends an
``Idempotency-Key`` instead.

Failures are of two kinds. :class:`ShopRetryable`: the network, a timeout, a 5xx or a 429;
the outbox tries again later. :class:`ShopRejected`: the shop refused the request (a 4xx) and
says why; trying again cannot help, the organizer must fix the configuration.

Keys and secrets live in :class:`~contest.settings.Secret`, travel only in the
``Authorization`` header (never in a URL), and are masked in every message built from an
answer; reprs show the shop's address only. Shop addresses must be ``https://`` (plain
``http://`` is accepted for the local machine only).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from contest.prizes.shops.common import (
    CURRENCY,
    ShopConfigurationError,
    ShopConnector,
    ShopError,
    ShopRejected,
    ShopResult,
    ShopRetryable,
    Voucher,
    check_setting_names,
)
from contest.prizes.shops.csvexport import vouchers_csv
from contest.prizes.shops.prestashop import PrestaShopConnector
from contest.prizes.shops.shopify import API_VERSION, ShopifyConnector
from contest.prizes.shops.webhook import WebhookConnector, sign_webhook, verify_webhook_signature
from contest.prizes.shops.woocommerce import WooCommerceConnector

CONNECTOR_SETTINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required settings, optional settings)
    "woocommerce": (
        ("base_url", "consumer_key", "consumer_secret"),
        ("timezone", "currency", "individual_use"),
    ),
    "prestashop": (("base_url", "api_key"), ("timezone", "language_ids")),
    "shopify": (("shop_url", "access_token"), ("api_version",)),
    "webhook": (("url", "secret"), ()),
}
# The settings that are secrets: sealed when stored, masked when shown, scrubbed from messages.
SECRET_SETTINGS: dict[str, tuple[str, ...]] = {
    "woocommerce": ("consumer_key", "consumer_secret"),
    "prestashop": ("api_key",),
    "shopify": ("access_token",),
    "webhook": ("secret",),
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
    check_setting_names(kind, settings, *CONNECTOR_SETTINGS[kind])
    timezone = _timezone(settings.get("timezone") or "UTC")
    if kind == "woocommerce":
        currency = (settings.get("currency") or "").strip().upper() or None
        if currency is not None and not CURRENCY.fullmatch(currency):
            raise ShopConfigurationError("woocommerce connector: currency is a code such as EUR")
        return WooCommerceConnector(
            settings["base_url"],
            settings["consumer_key"].strip(),
            settings["consumer_secret"].strip(),
            client,
            timezone=timezone,
            currency=currency,
            individual_use=_flag(settings.get("individual_use") or "true", "individual_use"),
        )
    if kind == "prestashop":
        return PrestaShopConnector(
            settings["base_url"],
            settings["api_key"].strip(),
            client,
            language_ids=_ids(settings.get("language_ids") or "1"),
            timezone=timezone,
        )
    if kind == "shopify":
        return ShopifyConnector(
            settings["shop_url"],
            settings["access_token"].strip(),
            client,
            api_version=(settings.get("api_version") or "").strip() or API_VERSION,
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
    "SECRET_SETTINGS",
    "PrestaShopConnector",
    "ShopConfigurationError",
    "ShopConnector",
    "ShopError",
    "ShopRejected",
    "ShopResult",
    "ShopRetryable",
    "ShopifyConnector",
    "Voucher",
    "WebhookConnector",
    "WooCommerceConnector",
    "connector_from_settings",
    "sign_webhook",
    "verify_webhook_signature",
    "vouchers_csv",
]
