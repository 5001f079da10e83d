"""PrestaShop: vouchers as webservice cart rules, looked up by code before being created."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import httpx

from contest.clock import SYSTEM_CLOCK
from contest.prizes.shops.common import (
    ShopConfigurationError,
    ShopHttp,
    ShopRejected,
    ShopResult,
    Voucher,
    as_secret,
    log,
    money_text,
    shop_url,
)
from contest.settings import Secret


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
        self.base_url = shop_url(base_url, "PrestaShop base_url")
        self._key = as_secret(api_key)
        if len(self._key.reveal()) != self.KEY_LENGTH:
            raise ShopConfigurationError(
                f"a PrestaShop webservice key is {self.KEY_LENGTH} characters"
            )
        if not language_ids:
            raise ShopConfigurationError("PrestaShop needs at least one language id")
        self._http = ShopHttp("PrestaShop", client, (self._key,))
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

    def check(self) -> str:
        """Lists one cart rule: proves the address, the key and its GET permission."""
        response = self._request("GET", "cart_rules", params={"display": "[id]", "limit": "1"})
        if response.status_code != 200:
            raise self._http.reject(response, self._errors(response))
        self._parse(response)
        return "PrestaShop answered 200: the key can read cart rules."

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
            ("minimum_amount", money_text(voucher.min_order or Decimal(0))),
            ("minimum_amount_tax", "1"),
            ("minimum_amount_currency", currency_id or "0"),
            ("minimum_amount_shipping", "0"),
            ("free_shipping", "0"),
            ("reduction_percent", money_text(voucher.value) if percent else "0"),
            ("reduction_amount", "0" if percent else money_text(voucher.value)),
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
