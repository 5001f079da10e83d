"""WooCommerce: vouchers as REST API v3 coupons, looked up by code before being created."""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Any

import httpx

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
        self.base_url = shop_url(base_url, "WooCommerce base_url")
        self._key = as_secret(consumer_key)
        self._secret = as_secret(consumer_secret)
        if not self._key.reveal() or not self._secret.reveal():
            raise ShopConfigurationError("WooCommerce needs a consumer key and a consumer secret")
        self._http = ShopHttp("WooCommerce", client, (self._key, self._secret))
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

    def check(self) -> str:
        """Lists one coupon: proves the address, the keys and the read permission."""
        response = self._request("GET", params={"per_page": 1})
        if response.status_code != 200:
            error = self._error(response)
            raise self._http.reject(response, f"{error[0]}: {error[1]}")
        total = response.headers.get("x-wp-total", "?")
        return f"WooCommerce answered 200: the keys can read coupons ({total} in the shop)."

    def coupon(self, voucher: Voucher) -> dict[str, Any]:
        """The JSON body of ``POST /wp-json/wc/v3/coupons`` for the voucher."""
        body: dict[str, Any] = {
            "code": voucher.code,
            "discount_type": "percent" if voucher.kind == "percent" else "fixed_cart",
            "amount": money_text(voucher.value),
            "individual_use": self.individual_use,
            "usage_limit": 1,
            "usage_limit_per_user": 1,
            "description": voucher.description,
        }
        if voucher.min_order is not None:
            body["minimum_amount"] = money_text(voucher.min_order)
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
