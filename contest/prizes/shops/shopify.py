"""Shopify: vouchers as code discounts, through the GraphQL Admin API.

The REST price-rule resources are legacy since API 2024-10; code discounts are made with the
``discountCodeBasicCreate`` mutation, which creates the discount and its code in one call (no
half-made price rule if the answer is lost). ``codeDiscountNodeByCode`` looks the code up
first, so a retried call finds what an earlier attempt made.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx

from contest.clock import SYSTEM_CLOCK, Clock
from contest.prizes.shops.common import (
    ShopConfigurationError,
    ShopHttp,
    ShopRejected,
    ShopResult,
    ShopRetryable,
    Voucher,
    as_secret,
    log,
    money_text,
    shop_url,
)
from contest.settings import Secret

API_VERSION = "2025-10"  # the first with ``context`` for a discount's eligibility
_VERSION = re.compile(r"20\d\d-(01|04|07|10)")

LOOKUP = """query voucher($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}"""
CREATE = """mutation voucher($discount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $discount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}"""
SHOP = "query { shop { name currencyCode } }"


class ShopifyConnector:
    """A basic code discount per voucher (a percentage or an amount off the order).

    Authentication is the ``X-Shopify-Access-Token`` header with the Admin API token of a
    custom app that has the ``write_discounts`` and ``read_discounts`` scopes. Amounts are in
    the shop's currency: a voucher in another currency is refused rather than given a value
    the winner did not win.
    """

    def __init__(
        self,
        shop_address: str,
        access_token: str | Secret,
        client: httpx.Client,
        *,
        api_version: str = API_VERSION,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.shop_url = shop_url(shop_address, "Shopify shop_url")
        self._token = as_secret(access_token)
        if not self._token.reveal():
            raise ShopConfigurationError("Shopify needs an Admin API access token")
        if not _VERSION.fullmatch(api_version):
            raise ShopConfigurationError("api_version is a Shopify API version such as 2025-10")
        self.endpoint = f"{self.shop_url}/admin/api/{api_version}/graphql.json"
        self._http = ShopHttp("Shopify", client, (self._token,))
        self.clock = clock
        self._currency: str | None = None

    def __repr__(self) -> str:
        return f"ShopifyConnector({self.shop_url!r})"

    def check(self) -> str:
        """Reads the shop's name and currency: proves the address and the token."""
        shop = self._query(SHOP, {})["shop"]
        self._currency = str(shop.get("currencyCode") or "")
        return f"Shopify answered: shop {shop.get('name')!s}, prices in {self._currency}."

    def create_voucher(self, voucher: Voucher) -> ShopResult:
        """Creates the code discount, or finds it when an earlier attempt already did."""
        if voucher.kind == "amount" or voucher.min_order is not None:
            currency = self._shop_currency()
            if currency and currency != voucher.currency:
                raise ShopRejected(
                    f"Shopify shop sells in {currency}, the voucher is in {voucher.currency}"
                )
        existing = self._find(voucher.code)
        if existing is not None:
            return ShopResult(existing, created=False)
        data = self._query(CREATE, {"discount": self.discount(voucher)})
        created = data.get("discountCodeBasicCreate") or {}
        errors = created.get("userErrors") or []
        if errors:
            if any(error.get("code") == "TAKEN" for error in errors):
                existing = self._find(voucher.code)
                if existing is None:
                    raise ShopRetryable("Shopify says the code is taken but does not find it yet")
                return ShopResult(existing, created=False)
            raise ShopRejected(
                "Shopify refused the discount: "
                + self._http.scrub("; ".join(str(error.get("message")) for error in errors))
            )
        node = created.get("codeDiscountNode") or {}
        if not node.get("id"):
            raise ShopRejected("Shopify's answer holds no discount id")
        log.info("Shopify code discount %s created", node["id"])
        return ShopResult(str(node["id"]), created=True)

    def discount(self, voucher: Voucher) -> dict[str, Any]:
        """The ``DiscountCodeBasicInput`` for the voucher: once, for one customer order."""
        if voucher.kind == "percent":
            value: dict[str, Any] = {"percentage": float(voucher.value / 100)}
        else:
            value = {
                "discountAmount": {
                    "amount": money_text(voucher.value),
                    "appliesOnEachItem": False,
                }
            }
        now: datetime = self.clock.now()
        discount: dict[str, Any] = {
            "title": (voucher.description or voucher.code)[:255],
            "code": voucher.code,
            "startsAt": now.isoformat(),
            "context": {"all": "ALL"},
            "customerGets": {"value": value, "items": {"all": True}},
            "usageLimit": 1,
            "appliesOncePerCustomer": True,
        }
        if voucher.expires_at is not None:
            discount["endsAt"] = voucher.expires_at.isoformat()
        if voucher.min_order is not None:
            discount["minimumRequirement"] = {
                "subtotal": {"greaterThanOrEqualToSubtotal": money_text(voucher.min_order)}
            }
        return discount

    def _shop_currency(self) -> str:
        if self._currency is None:
            self.check()
        return self._currency or ""

    def _find(self, code: str) -> str | None:
        node = self._query(LOOKUP, {"code": code}).get("codeDiscountNodeByCode")
        return str(node["id"]) if isinstance(node, dict) and node.get("id") else None

    def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The ``data`` of a GraphQL answer; throttling is retried, other errors refused."""
        response = self._http.send(
            "POST",
            self.endpoint,
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": self._token.reveal()},
        )
        if response.status_code != 200:
            raise self._http.reject(response, _error_text(response))
        try:
            body = response.json()
        except ValueError:
            raise self._http.reject(
                response, "the answer is not JSON: is shop_url the shop's myshopify address?"
            ) from None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            codes = {str((e.get("extensions") or {}).get("code")) for e in errors}
            if "THROTTLED" in codes:
                raise ShopRetryable("Shopify: too many calls for now (THROTTLED)")
            raise self._http.reject(response, _error_text(response))
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise self._http.reject(response, "the answer holds no data")
        return data


def _error_text(response: httpx.Response) -> str:
    """What Shopify says is wrong: ``errors`` as a string, or a list of messages."""
    try:
        body = response.json()
    except ValueError:
        return response.text or response.reason_phrase
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        said = (str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
        return "; ".join(said)
    return str(errors or response.text)
