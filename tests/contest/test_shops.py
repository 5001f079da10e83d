"""Shop connectors against local HTTP servers that follow each API's documentation.

WooCommerce: https://woocommerce.github.io/woocommerce-rest-api-docs/#coupons (create, list with
``?code=``, the 400 ``woocommerce_rest_coupon_code_already_exists`` error) and #authentication-
over-https (Basic with the consumer key and secret; 401 for bad keys).
PrestaShop: https://devdocs.prestashop-project.org/8/webservice/ (getting-started: key as the
Basic user and no password, ``filter[field]=[value]``, ``display=[id]``, XML create answering
201 with the created resource; errors and codes of ``WebserviceRequest``; ``cart_rules`` fields
from ``CartRule::$definition``). Shopify: the GraphQL Admin API (``discountCodeBasicCreate``,
``codeDiscountNodeByCode``, ``shop``; ``X-Shopify-Access-Token``). Webhook: the receiver
documented in ``contest/prizes/shops/webhook.py``.
Details of each fake are in ``tests/shop_servers.py``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import hmac
import logging
import socket
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from contest.prizes.shops import (
    PrestaShopConnector,
    ShopConfigurationError,
    ShopConnector,
    ShopifyConnector,
    ShopRejected,
    ShopResult,
    ShopRetryable,
    Voucher,
    WebhookConnector,
    WooCommerceConnector,
    connector_from_settings,
    verify_webhook_signature,
    vouchers_csv,
)
from contest.settings import Secret
from tests.shop_servers import PrestaShopShop, ShopifyShop, WebhookReceiver, WooCommerceShop

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2030, 5, 1, 10, 0, tzinfo=UTC)
VOUCHER = Voucher(
    code="SUMMER-K7MX3-PCR9A-FH2TW",
    kind="amount",
    value=Decimal("20"),
    currency="EUR",
    min_order=Decimal("50.00"),
    expires_at=datetime(2030, 6, 30, 21, 59, 59, tzinfo=UTC),  # 23:59:59 in Paris (CEST)
    description="Concours d'été : bon de 20 €",
    winner_email="ann@example.org",
    idempotency_key="voucher:contest-7:entry-42",
)
PERCENT = dataclasses.replace(
    VOUCHER,
    code="K7MX3-PCR9A-FH2TW",
    kind="percent",
    value=Decimal("15"),
    min_order=None,
    expires_at=None,
    winner_email="",
    idempotency_key="voucher:contest-7:entry-43",
)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as http:
        yield http


@pytest.fixture
def woo() -> Iterator[WooCommerceShop]:
    with WooCommerceShop(clock=lambda: NOW) as shop:
        yield shop


@pytest.fixture
def presta() -> Iterator[PrestaShopShop]:
    with PrestaShopShop(clock=lambda: NOW) as shop:
        yield shop


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def woocommerce(shop: WooCommerceShop, http: httpx.Client, **options: Any) -> WooCommerceConnector:
    options.setdefault("timezone", PARIS)
    return WooCommerceConnector(
        shop.url, shop.consumer_key, Secret(shop.consumer_secret), http, **options
    )


def prestashop(
    shop: PrestaShopShop, http: httpx.Client, key: str | None = None
) -> PrestaShopConnector:
    return PrestaShopConnector(shop.url, key or shop.key, http, timezone=PARIS, clock=lambda: NOW)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- WooCommerce ------------------------------------------------------------------------------


def test_woocommerce_creates_the_coupon_with_the_documented_fields_and_basic_auth(
    woo: WooCommerceShop, http: httpx.Client
) -> None:
    result = woocommerce(woo, http).create_voucher(VOUCHER)

    assert result == ShopResult("719", created=True)
    lookup, create = woo.received
    assert (lookup.method, lookup.path, lookup.query) == (
        "GET",
        "/wp-json/wc/v3/coupons",
        {"code": ["SUMMER-K7MX3-PCR9A-FH2TW"]},
    )
    assert (create.method, create.path) == ("POST", "/wp-json/wc/v3/coupons")
    assert create.basic_auth() == (woo.consumer_key, woo.consumer_secret)
    assert create.headers["content-type"] == "application/json"
    assert create.json() == {
        "code": "SUMMER-K7MX3-PCR9A-FH2TW",
        "discount_type": "fixed_cart",
        "amount": "20.00",
        "individual_use": True,
        "usage_limit": 1,
        "usage_limit_per_user": 1,
        "minimum_amount": "50.00",
        "date_expires": "2030-06-30T23:59:59",
        "email_restrictions": ["ann@example.org"],
        "description": "Concours d'été : bon de 20 €",
    }
    (coupon,) = woo.coupons.values()
    assert coupon["code"] == "summer-k7mx3-pcr9a-fh2tw"  # WooCommerce keeps codes in lowercase
    assert (coupon["amount"], coupon["minimum_amount"]) == ("20.00", "50.00")


def test_woocommerce_percent_voucher_without_minimum_expiry_or_e_mail(
    woo: WooCommerceShop, http: httpx.Client
) -> None:
    woocommerce(woo, http).create_voucher(PERCENT)

    body = woo.requests("POST")[0].json()
    assert (body["discount_type"], body["amount"]) == ("percent", "15.00")
    assert not {"minimum_amount", "date_expires", "email_restrictions"} & set(body)
    assert next(iter(woo.coupons.values()))["discount_type"] == "percent"


def test_woocommerce_retry_after_a_lost_answer_finds_the_coupon_instead_of_creating_another(
    woo: WooCommerceShop, http: httpx.Client
) -> None:
    connector = woocommerce(woo, http)
    woo.drop_next_answer("POST")  # the coupon is created, the answer never arrives

    with pytest.raises(ShopRetryable):
        connector.create_voucher(VOUCHER)
    retried = connector.create_voucher(VOUCHER)

    assert retried == ShopResult("719", created=False)
    assert len(woo.coupons) == 1
    assert len(woo.requests("POST")) == 1


def test_woocommerce_code_already_exists_error_is_read_as_already_created(
    woo: WooCommerceShop, http: httpx.Client
) -> None:
    connector = woocommerce(woo, http)
    connector.create_voucher(VOUCHER)
    woo.hide_next_listing()  # the lookup misses it, so the POST meets the duplicate error

    result = connector.create_voucher(VOUCHER)

    assert result == ShopResult("719", created=False)
    assert [r.method for r in woo.received] == ["GET", "POST", "GET", "POST", "GET"]
    assert len(woo.coupons) == 1


def test_woocommerce_coupon_found_in_the_trash_is_not_taken_for_delivered(
    woo: WooCommerceShop, http: httpx.Client
) -> None:
    connector = woocommerce(woo, http)
    connector.create_voucher(VOUCHER)
    woo.coupons[719]["status"] = "trash"  # the organizer trashed it in WordPress

    with pytest.raises(ShopRejected, match="719 with this code is in the trash"):
        connector.create_voucher(VOUCHER)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_woocommerce_server_errors_and_rate_limits_are_retryable(
    woo: WooCommerceShop, http: httpx.Client, status: int
) -> None:
    woo.fail_next(status, "POST")

    with pytest.raises(ShopRetryable, match=str(status)) as failure:
        woocommerce(woo, http).create_voucher(VOUCHER)

    assert failure.value.retry_after == (30.0 if status in (429, 503) else None)
    assert woo.coupons == {}


@pytest.mark.parametrize(
    ("key", "secret", "message"),
    [
        ("ck_unknown", None, "Consumer key is invalid."),
        (None, "cs_wrong-secret-value", "Consumer secret is invalid."),
    ],
)
def test_woocommerce_bad_keys_are_rejected_with_the_shop_message_but_never_the_secret(
    woo: WooCommerceShop,
    http: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    key: str | None,
    secret: str | None,
    message: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    connector = WooCommerceConnector(
        woo.url, key or woo.consumer_key, secret or woo.consumer_secret, http
    )

    with pytest.raises(ShopRejected, match="401") as failure:
        connector.create_voucher(VOUCHER)

    assert message in str(failure.value)
    for secret_text in (secret or woo.consumer_secret, key or woo.consumer_key):
        assert secret_text not in str(failure.value)
        assert secret_text not in repr(failure.value)
        assert secret_text not in repr(connector)
        assert secret_text not in caplog.text


def test_woocommerce_read_only_key_is_rejected(http: httpx.Client) -> None:
    with WooCommerceShop(permissions="read", clock=lambda: NOW) as shop:
        with pytest.raises(ShopRejected, match="does not have write permissions"):
            woocommerce(shop, http).create_voucher(VOUCHER)


def test_a_secret_echoed_by_the_shop_is_masked(woo: WooCommerceShop, http: httpx.Client) -> None:
    woo.fail_next(400, "POST", f"bad request from {woo.consumer_secret}".encode())

    with pytest.raises(ShopRejected) as failure:
        woocommerce(woo, http).create_voucher(VOUCHER)

    assert woo.consumer_secret not in str(failure.value)
    assert "**********" in str(failure.value)


def test_woocommerce_refuses_a_voucher_in_another_currency_than_the_shop(
    woo: WooCommerceShop, http: httpx.Client
) -> None:
    dollars = dataclasses.replace(VOUCHER, currency="USD")

    with pytest.raises(ShopRejected, match="EUR"):
        woocommerce(woo, http, currency="EUR").create_voucher(dollars)

    assert woo.received == []


# --- PrestaShop -------------------------------------------------------------------------------


def test_prestashop_creates_the_cart_rule_as_xml_with_the_key_as_user(
    presta: PrestaShopShop, http: httpx.Client
) -> None:
    result = prestashop(presta, http).create_voucher(VOUCHER)

    assert result == ShopResult("1", created=True)
    lookup, currency, create = presta.received
    assert (lookup.method, lookup.path) == ("GET", "/api/cart_rules")
    assert lookup.query == {"filter[code]": ["[SUMMER-K7MX3-PCR9A-FH2TW]"], "display": ["[id]"]}
    assert (currency.path, currency.query) == (
        "/api/currencies",
        {"filter[iso_code]": ["[EUR]"], "filter[deleted]": ["[0]"], "display": ["[id]"]},
    )
    assert (create.method, create.path) == ("POST", "/api/cart_rules")
    assert create.basic_auth() == (presta.key, "")
    assert create.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(create.body)
    assert root.tag == "prestashop"
    (rule,) = root
    assert rule.tag == "cart_rule"
    assert rule.find("id") is None
    fields = {child.tag: child.text for child in rule if child.tag != "name"}
    assert fields == {
        "code": "SUMMER-K7MX3-PCR9A-FH2TW",
        "description": "Concours d'été : bon de 20 €",
        "date_from": "2030-05-01 11:55:00",  # the clock, in Paris, minus five minutes of skew
        "date_to": "2030-06-30 23:59:59",
        "quantity": "1",
        "quantity_per_user": "1",
        "priority": "1",
        "partial_use": "0",
        "minimum_amount": "50.00",
        "minimum_amount_tax": "1",
        "minimum_amount_currency": "1",
        "minimum_amount_shipping": "0",
        "free_shipping": "0",
        "reduction_percent": "0",
        "reduction_amount": "20.00",
        "reduction_tax": "1",
        "reduction_currency": "1",
        "highlight": "0",
        "active": "1",
    }
    (language,) = rule.iterfind("name/language")
    assert (language.get("id"), language.text) == ("1", "Concours d'été : bon de 20 €")
    stored = presta.cart_rules[1]
    assert (stored["code"], stored["reduction_amount"]) == ("SUMMER-K7MX3-PCR9A-FH2TW", "20.00")


def test_prestashop_percent_voucher_needs_no_currency(
    presta: PrestaShopShop, http: httpx.Client
) -> None:
    prestashop(presta, http).create_voucher(PERCENT)

    assert [r.path for r in presta.received] == ["/api/cart_rules", "/api/cart_rules"]
    stored = presta.cart_rules[1]
    assert (stored["reduction_percent"], stored["reduction_amount"]) == ("15.00", "0")
    assert (stored["minimum_amount"], stored["date_to"]) == ("0.00", PrestaShopConnector.NO_EXPIRY)
    assert stored["name"] == {"1": "Concours d'été : bon de 20 €"}


def test_prestashop_escapes_markup_in_the_xml(presta: PrestaShopShop, http: httpx.Client) -> None:
    tricky = dataclasses.replace(
        VOUCHER, description='Fête <b>"Noël"</b> & ]]> <cart_rule><id>9</id></cart_rule>'
    )

    prestashop(presta, http).create_voucher(tricky)

    stored = presta.cart_rules[1]
    assert stored["description"] == tricky.description
    assert stored["name"] == {"1": tricky.description}


def test_prestashop_retry_after_a_lost_answer_finds_the_cart_rule(
    presta: PrestaShopShop, http: httpx.Client
) -> None:
    connector = prestashop(presta, http)
    presta.drop_next_answer("POST")

    with pytest.raises(ShopRetryable):
        connector.create_voucher(VOUCHER)
    retried = connector.create_voucher(VOUCHER)

    assert retried == ShopResult("1", created=False)
    assert len(presta.cart_rules) == 1
    assert len(presta.requests("POST")) == 1


def test_prestashop_bad_key_is_rejected_without_the_key_in_the_message(
    presta: PrestaShopShop, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "A" * 32
    connector = prestashop(presta, http, key=wrong)

    with pytest.raises(ShopRejected, match="401") as failure:
        connector.create_voucher(VOUCHER)

    assert "No permission for this authentication key [21]" in str(failure.value)
    assert wrong not in str(failure.value)
    assert wrong not in repr(connector)
    assert wrong not in caplog.text
    assert presta.cart_rules == {}


def test_the_fake_prestashop_asks_for_the_key_like_the_real_one(
    presta: PrestaShopShop, http: httpx.Client
) -> None:
    response = http.get(f"{presta.url}/api/cart_rules")

    assert response.status_code == 401
    assert "No password required" in response.headers["www-authenticate"]
    assert "[16]" in PrestaShopConnector._errors(response)


def test_prestashop_key_without_cart_rule_rights_is_rejected(http: httpx.Client) -> None:
    with PrestaShopShop(
        permissions={"cart_rules": {"GET"}, "currencies": {"GET"}}, clock=lambda: NOW
    ) as shop:
        with pytest.raises(ShopRejected, match=r"Method POST is not allowed .*\[25\]"):
            prestashop(shop, http).create_voucher(VOUCHER)


def test_prestashop_unknown_currency_is_rejected(
    presta: PrestaShopShop, http: httpx.Client
) -> None:
    dollars = dataclasses.replace(VOUCHER, currency="USD")  # deleted in the fake shop

    with pytest.raises(ShopRejected, match="no currency USD"):
        prestashop(presta, http).create_voucher(dollars)


def test_prestashop_disabled_webservice_503_is_retryable(
    presta: PrestaShopShop, http: httpx.Client
) -> None:
    presta.enabled = False

    with pytest.raises(ShopRetryable, match=r"503: .*webservice is disabled"):
        prestashop(presta, http).create_voucher(VOUCHER)


def test_prestashop_refuses_a_key_of_the_wrong_length(http: httpx.Client) -> None:
    with pytest.raises(ShopConfigurationError, match="32 characters") as failure:
        PrestaShopConnector("https://shop.example", "short-secret-key", http)
    assert "short-secret-key" not in str(failure.value)


# --- Webhook ----------------------------------------------------------------------------------


def test_webhook_posts_a_signed_event_that_the_receiver_accepts(
    receiver: WebhookReceiver, http: httpx.Client
) -> None:
    connector = WebhookConnector(receiver.endpoint, receiver.secret, http, clock=lambda: 1900000000)

    result = connector.create_voucher(VOUCHER)

    assert result == ShopResult(VOUCHER.idempotency_key, created=True)
    (request,) = receiver.received
    assert request.headers["idempotency-key"] == VOUCHER.idempotency_key
    assert request.headers["x-contest-timestamp"] == "1900000000"
    assert verify_webhook_signature(
        receiver.secret, request.body, request.headers["x-contest-signature"]
    )
    assert receiver.events[VOUCHER.idempotency_key] == {
        "type": "voucher.issued",
        "timestamp": 1900000000,
        "idempotency_key": "voucher:contest-7:entry-42",
        "code": "SUMMER-K7MX3-PCR9A-FH2TW",
        "kind": "amount",
        "value": "20",
        "currency": "EUR",
        "min_order": "50.00",
        "expires_at": "2030-06-30T21:59:59+00:00",
        "description": "Concours d'été : bon de 20 €",
        "winner_email": "ann@example.org",
    }


def test_webhook_redelivery_is_recognised_by_its_idempotency_key(
    receiver: WebhookReceiver, http: httpx.Client
) -> None:
    connector = WebhookConnector(receiver.endpoint, receiver.secret, http)

    connector.create_voucher(VOUCHER)
    connector.create_voucher(VOUCHER)

    assert len(receiver.received) == 2
    assert list(receiver.events) == [VOUCHER.idempotency_key]


def test_webhook_signed_with_the_wrong_secret_is_rejected(
    receiver: WebhookReceiver, http: httpx.Client
) -> None:
    wrong = "not-the-receiver-secret"
    connector = WebhookConnector(receiver.endpoint, wrong, http)

    with pytest.raises(ShopRejected, match="401") as failure:
        connector.create_voucher(VOUCHER)

    assert wrong not in str(failure.value)
    assert wrong not in repr(connector)
    assert receiver.events == {}


def test_webhook_conflict_on_a_key_in_progress_is_retryable(
    receiver: WebhookReceiver, http: httpx.Client
) -> None:
    receiver.fail_next(409)

    with pytest.raises(ShopRetryable, match="still being processed"):
        WebhookConnector(receiver.endpoint, receiver.secret, http).create_voucher(VOUCHER)


def test_webhook_signature_fails_for_a_tampered_body_another_secret_or_no_header() -> None:
    secret = "whsec-7d1c9a4e2b8f6035"
    body = b'{"code":"K7MX3-PCR9A-FH2TW","value":"20"}'
    header = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    assert verify_webhook_signature(secret, body, header)
    assert verify_webhook_signature(Secret(secret), body, header)
    assert not verify_webhook_signature(secret, body.replace(b"20", b"90"), header)
    assert not verify_webhook_signature("another-secret-entirely", body, header)
    assert not verify_webhook_signature(secret, body, None)
    assert not verify_webhook_signature(secret, body, header.removeprefix("sha256="))
    assert not verify_webhook_signature("", body, header)


# --- Failures common to every connector -------------------------------------------------------

CONNECTORS: dict[str, Callable[[str, httpx.Client], ShopConnector]] = {
    "woocommerce": lambda url, http: WooCommerceConnector(url, "ck_x", "cs_secret", http),
    "prestashop": lambda url, http: PrestaShopConnector(url, "K" * 32, http),
    "webhook": lambda url, http: WebhookConnector(url + "/hook", "whsec-0123456789abcdef", http),
}


@pytest.mark.parametrize("kind", CONNECTORS)
def test_connection_refused_is_retryable(kind: str, http: httpx.Client) -> None:
    connector = CONNECTORS[kind](f"http://127.0.0.1:{closed_port()}", http)

    with pytest.raises(ShopRetryable) as failure:
        connector.create_voucher(VOUCHER)

    assert "secret" not in str(failure.value)


@pytest.mark.parametrize("kind", CONNECTORS)
def test_a_shop_too_slow_to_answer_is_retryable(kind: str) -> None:
    with WooCommerceShop(clock=lambda: NOW) as slow, httpx.Client(timeout=0.2) as http:
        slow.delay_next(0.6)  # any path: the answer comes too late to matter
        connector = CONNECTORS[kind](slow.url, http)

        with pytest.raises(ShopRetryable, match="no answer in time"):
            connector.create_voucher(VOUCHER)


@pytest.mark.parametrize(
    "url",
    ["http://shop.example", "ftp://shop.example", "https://user:pw@shop.example", "shop.example"],
)
def test_shop_addresses_must_be_https_except_on_this_machine(url: str, http: httpx.Client) -> None:
    with pytest.raises(ShopConfigurationError):
        WooCommerceConnector(url, "ck_x", "cs_x", http)


# --- CSV export -------------------------------------------------------------------------------


def test_csv_export_quotes_text_and_defuses_formulas() -> None:
    hostile = dataclasses.replace(
        VOUCHER,
        description='=HYPERLINK("http://evil.example","win"), "quoted"\nsecond line',
        winner_email="+33@example.org",
    )
    lines = list(vouchers_csv([hostile, PERCENT]))

    assert lines[0] == (
        "code,kind,value,currency,min_order,expires_at,description,winner_email\r\n"
    )
    header, first, second = list(csv.reader("".join(lines).splitlines(keepends=True)))
    assert first == [
        "SUMMER-K7MX3-PCR9A-FH2TW",
        "amount",
        "20",
        "EUR",
        "50.00",
        "2030-06-30T21:59:59+00:00",
        '\'=HYPERLINK("http://evil.example","win"), "quoted"\nsecond line',
        "'+33@example.org",
    ]
    assert second[4:6] == ["", ""]
    for cell in ("-1+2", "@SUM(A1)", "\t=1", " =1", "\uff1d1"):
        row = list(vouchers_csv([dataclasses.replace(VOUCHER, description=cell)]))[1]
        assert next(csv.reader([row]))[6] == "'" + cell


# --- Vouchers and settings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "gift"}, "kind is one of amount, percent"),
        ({"value": Decimal("0")}, "value is positive"),
        ({"value": Decimal("-5")}, "non-negative"),
        ({"value": Decimal("10.005")}, "at most two decimals"),
        ({"value": Decimal("NaN")}, "finite"),
        ({"value": Decimal("1e30")}, "below"),
        ({"kind": "percent", "value": Decimal("120")}, "at most 100"),
        ({"currency": "eur"}, "ISO 4217"),
        ({"min_order": Decimal("-1")}, "min_order is a finite, non-negative"),
        ({"expires_at": datetime(2030, 6, 30)}, "timezone-aware"),  # noqa: DTZ001 - on purpose
        ({"code": "TWO WORDS"}, "without spaces"),
        ({"code": ""}, "without spaces"),
        ({"description": "bell\x07"}, "no control characters"),
        ({"idempotency_key": ""}, "idempotency key"),
    ],
)
def test_voucher_refuses_invalid_values(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(VOUCHER, **changes)


def test_voucher_survives_an_outbox_payload_round_trip() -> None:
    assert Voucher.from_payload(VOUCHER.to_payload()) == VOUCHER
    assert Voucher.from_payload(PERCENT.to_payload()) == PERCENT


def test_connector_from_settings_builds_each_kind(http: httpx.Client) -> None:
    woo = connector_from_settings(
        "woocommerce",
        {
            "base_url": "https://shop.example/",
            "consumer_key": "ck_live",
            "consumer_secret": "cs_live_secret",
            "timezone": "Europe/Paris",
            "currency": "eur",
            "individual_use": "no",
        },
        http,
    )
    presta = connector_from_settings(
        "prestashop",
        {"base_url": "https://boutique.example", "api_key": "P" * 32, "language_ids": "1, 2"},
        http,
    )
    hook = connector_from_settings(
        "webhook", {"url": "https://erp.example/hooks", "secret": "whsec-0123456789abcdef"}, http
    )

    assert isinstance(woo, WooCommerceConnector)
    assert (woo.base_url, woo.currency, woo.individual_use) == (
        "https://shop.example",
        "EUR",
        False,
    )
    assert woo.timezone == PARIS
    assert isinstance(presta, PrestaShopConnector) and presta.language_ids == (1, 2)
    assert isinstance(hook, WebhookConnector)
    assert "cs_live_secret" not in repr(woo) and "P" * 32 not in repr(presta)
    assert "whsec" not in repr(hook)


@pytest.mark.parametrize(
    ("kind", "settings", "message"),
    [
        ("magento", {}, "unknown shop connector 'magento'"),
        ("shopify", {"shop_url": "https://s.example"}, "missing access_token"),
        (
            "shopify",
            {"shop_url": "https://s.example", "access_token": "shpat_x", "api_version": "v2"},
            "api_version",
        ),
        (
            "woocommerce",
            {"base_url": "https://s.example", "consumer_key": "ck"},
            "missing consumer_secret",
        ),
        ("prestashop", {"base_url": "https://s.example", "api_key": " "}, "missing api_key"),
        (
            "webhook",
            {"url": "https://h.example", "secret": "s" * 20, "token": "x"},
            "unknown setting token",
        ),
        (
            "prestashop",
            {"base_url": "https://s.example", "api_key": "P" * 32, "timezone": "Paris"},
            "unknown timezone",
        ),
        (
            "prestashop",
            {"base_url": "https://s.example", "api_key": "P" * 32, "language_ids": "fr"},
            "language_ids",
        ),
        ("webhook", {"url": "http://h.example", "secret": "s" * 20}, "https://"),
        ("webhook", {"url": "https://h.example", "secret": "short"}, "at least 16"),
    ],
)
def test_connector_from_settings_explains_what_is_wrong(
    http: httpx.Client, kind: str, settings: dict[str, str], message: str
) -> None:
    with pytest.raises(ShopConfigurationError, match=message) as failure:
        connector_from_settings(kind, settings, http)
    assert "P" * 32 not in str(failure.value)


# --- Shopify ----------------------------------------------------------------------------------


@pytest.fixture
def shopify_shop() -> Iterator[ShopifyShop]:
    with ShopifyShop() as shop:
        yield shop


class _Clock:
    def now(self) -> datetime:
        return NOW


def shopify(shop: ShopifyShop, http: httpx.Client, token: str | None = None) -> ShopifyConnector:
    return ShopifyConnector(shop.url, token or shop.token, http, clock=_Clock())


def test_shopify_creates_a_single_use_code_discount_in_one_call(
    shopify_shop: ShopifyShop, http: httpx.Client
) -> None:
    result = shopify(shopify_shop, http).create_voucher(VOUCHER)

    assert result.created and result.external_id.startswith("gid://shopify/DiscountCodeNode/")
    made = shopify_shop.discounts[VOUCHER.code.lower()]["input"]
    assert made["code"] == VOUCHER.code
    assert made["customerGets"]["value"] == {
        "discountAmount": {"amount": "20.00", "appliesOnEachItem": False}
    }
    assert made["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "50.00"}}
    assert (made["usageLimit"], made["appliesOncePerCustomer"]) == (1, True)
    assert made["startsAt"] == NOW.isoformat()
    assert made["endsAt"] == VOUCHER.expires_at.isoformat()  # type: ignore[union-attr]
    assert made["context"] == {"all": "ALL"}
    sent = shopify_shop.requests("POST")
    assert all(r.headers["x-shopify-access-token"] == shopify_shop.token for r in sent)
    assert all(r.path == "/admin/api/2025-10/graphql.json" for r in sent)


def test_shopify_percent_voucher_is_a_fraction_and_needs_no_currency(
    http: httpx.Client,
) -> None:
    with ShopifyShop(currency="USD") as shop:
        shopify(shop, http).create_voucher(PERCENT)
        made = shop.discounts[PERCENT.code.lower()]["input"]
    assert made["customerGets"]["value"] == {"percentage": 0.15}
    assert "endsAt" not in made and "minimumRequirement" not in made


def test_shopify_retry_after_a_lost_answer_finds_the_discount(
    shopify_shop: ShopifyShop, http: httpx.Client
) -> None:
    connector = shopify(shopify_shop, http)
    shopify_shop.lose_next_create_answer()

    with pytest.raises(ShopRetryable):
        connector.create_voucher(PERCENT)
    retried = connector.create_voucher(PERCENT)

    assert retried.created is False
    assert list(shopify_shop.discounts) == [PERCENT.code.lower()]


def test_shopify_code_taken_is_read_as_already_created(
    shopify_shop: ShopifyShop, http: httpx.Client
) -> None:
    connector = shopify(shopify_shop, http)
    first = connector.create_voucher(PERCENT)
    shopify_shop.hide_next_lookup()  # the lookup misses it: the create meets TAKEN

    again = connector.create_voucher(PERCENT)

    assert again.external_id == first.external_id and again.created is False
    assert len(shopify_shop.discounts) == 1


def test_shopify_refuses_a_voucher_in_another_currency_than_the_shop(http: httpx.Client) -> None:
    with ShopifyShop(currency="CAD") as shop:
        with pytest.raises(ShopRejected, match="sells in CAD, the voucher is in EUR"):
            shopify(shop, http).create_voucher(VOUCHER)
        assert shop.discounts == {}


def test_shopify_bad_token_and_missing_scope_are_rejected_without_the_token(
    shopify_shop: ShopifyShop, http: httpx.Client
) -> None:
    wrong = "shpat_0000wrong0000token0000"
    with pytest.raises(ShopRejected, match="Invalid API key or access token") as failure:
        shopify(shopify_shop, http, token=wrong).create_voucher(PERCENT)
    assert wrong not in str(failure.value)

    with ShopifyShop(scopes=("read_discounts",)) as read_only:
        with pytest.raises(ShopRejected, match="Access denied"):
            shopify(read_only, http).create_voucher(PERCENT)


def test_shopify_throttling_and_server_errors_are_retryable(
    shopify_shop: ShopifyShop, http: httpx.Client
) -> None:
    shopify_shop.throttle_next()
    with pytest.raises(ShopRetryable, match="THROTTLED"):
        shopify(shopify_shop, http).create_voucher(PERCENT)
    shopify_shop.fail_next(503)
    with pytest.raises(ShopRetryable, match="503"):
        shopify(shopify_shop, http).create_voucher(PERCENT)
    assert shopify_shop.discounts == {}


# --- Send a test ------------------------------------------------------------------------------


def test_each_connector_check_makes_a_harmless_real_call_and_says_what_came_back(
    woo: WooCommerceShop,
    presta: PrestaShopShop,
    shopify_shop: ShopifyShop,
    receiver: WebhookReceiver,
    http: httpx.Client,
) -> None:
    hook = WebhookConnector(receiver.endpoint, receiver.secret, http)

    assert "can read coupons" in woocommerce(woo, http).check()
    assert "can read cart rules" in prestashop(presta, http).check()
    assert "shop Atelier Demo, prices in EUR" in shopify(shopify_shop, http).check()
    assert "accepted a signed ping (200)" in hook.check()

    assert woo.coupons == {} and shopify_shop.discounts == {}
    assert [event["type"] for event in receiver.events.values()] == ["ping"]
    assert [r.method for r in woo.received] == ["GET"]
    assert all(r.method == "GET" for r in presta.received)


def test_a_check_with_bad_credentials_fails_with_the_shop_s_reason(
    woo: WooCommerceShop, receiver: WebhookReceiver, http: httpx.Client
) -> None:
    with pytest.raises(ShopRejected, match="Consumer secret is invalid"):
        WooCommerceConnector(woo.url, woo.consumer_key, "cs_wrong-secret", http).check()
    with pytest.raises(ShopRejected, match="invalid signature"):
        WebhookConnector(receiver.endpoint, "another-secret-0123456", http).check()
