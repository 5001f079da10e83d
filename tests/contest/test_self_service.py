"""A real organizer, without the demo seed, from ``contest create-organizer`` to a voucher
delivered to their shop, through the API; and the connections' screens and guards."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.app import create_app
from contest.clock import FixedClock
from contest.demo import demo_password
from contest.mail import Sender
from contest.settings import Settings
from tests.contest.test_organization import EMAIL, PASSWORD, create_organizer
from tests.helpers import enter, link_in, read_eml, shown, sign_in, token_via_workspace
from tests.shop_servers import ShopifyShop, WebhookReceiver

SECRET = "whsec-7d1c9a4e2b8f6035"
IDENTITY = {
    "legal_name": "La Boutique",
    "legal_form": "SAS",
    "postal_address": "1 rue de la Paix, 75002 Paris",
    "company_number": "RCS Paris 123 456 789",
    "contact_email": "contact@shop.example",
    "privacy_contact": "dpo@shop.example",
    "sender_name": "La Boutique",
}


@pytest.fixture
def bare(settings: Settings, engine: Engine, clock: FixedClock) -> Iterator[TestClient]:
    """The app on an empty database: no demo organizer, no demo contest."""
    app = create_app(settings, engine=engine, send_mail=False, clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def contest_body(clock: FixedClock) -> dict[str, object]:
    now = clock.now()
    return {
        "title": "Summer vouchers",
        "slug": "summer",
        "language": "fr",
        "jurisdictions": ["FR"],
        "timezone": "UTC",
        "opens_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "draw_at": (now + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M"),
        "min_age": 18,
        "marketing_label_fr": "Je souhaite recevoir vos offres par e-mail.",
        "marketing_label_en": "I would like your offers by e-mail.",
        "draw_method": "Tirage au sort vérifiable.",
        "winner_notification": "par e-mail",
        "claim_days": 30,
        "privacy_notice": "La Boutique traite vos données pour le jeu. Contact : dpo@shop.example.",
        "retention_months": 12,
        "prizes": [
            {
                "description": "Bon d'achat de 50 €",
                "quantity": 1,
                "unit_value": "50",
                "currency": "EUR",
                "kind": "voucher",
                "voucher_validity_days": 90,
            }
        ],
    }


def enter_and_confirm(
    client: TestClient, sender: Sender, settings: Settings, email: str, **fields: str
) -> None:
    entered = enter(client, "summer", email=email, **fields)
    assert entered.status_code == 303, shown(entered)  # type: ignore[attr-defined]
    sender.run_once()
    [mail] = [m for m in read_eml(settings.mail_dir) if m["To"] == email]
    link = link_in(mail, r"http://testserver/c/summer/confirm/\S+")
    confirmed = client.post(link.removeprefix("http://testserver"), follow_redirects=False)
    assert confirmed.status_code == 303


def test_from_create_organizer_to_a_signed_voucher_through_the_api(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    engine: Engine,
    bare: TestClient,
    sender: Sender,
    clock: FixedClock,
) -> None:
    assert create_organizer(monkeypatch, settings) == 0
    api = {"Authorization": f"Bearer {token_via_workspace(bare, EMAIL, PASSWORD)}"}

    organization = bare.patch("/api/v1/organization", json=IDENTITY, headers=api)
    assert organization.status_code == 200
    assert organization.json()["missing_for_publishing"] == []

    with WebhookReceiver(SECRET) as shop:
        made = bare.post(
            "/api/v1/shop-connections",
            json={"kind": "webhook", "settings": {"url": shop.endpoint, "secret": SECRET}},
            headers=api,
        )
        assert made.status_code == 201, made.text
        assert SECRET not in made.text, "a secret is never shown again in full"
        connection_id = made.json()["id"]
        tested = bare.post(f"/api/v1/shop-connections/{connection_id}/test", headers=api)
        assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text

        bailiff = {"randomness": "bailiff", "randomness_detail": "Me Martin, Paris"}
        created = bare.post("/api/v1/contests", json=contest_body(clock) | bailiff, headers=api)
        assert created.status_code == 201, created.text
        contest_id = created.json()["id"]
        published = bare.post(f"/api/v1/contests/{contest_id}/publish", headers=api)
        assert published.status_code == 200, published.text

        enter_and_confirm(bare, sender, settings, "ann@example.org")
        enter_and_confirm(bare, sender, settings, "bob@example.org")

        clock.advance(timedelta(days=9))
        drawn = bare.post(
            f"/api/v1/contests/{contest_id}/draw", json={"public_value": "4127"}, headers=api
        )
        assert drawn.status_code == 201, drawn.text
        sender.run_once()
        [win] = [m for m in read_eml(settings.mail_dir) if "gagné" in m["Subject"]]
        claim = link_in(win, r"http://testserver/c/summer/claim/\S+").removeprefix(
            "http://testserver"
        )
        claimed = bare.post(claim)
        code = re.search(r'data-voucher="([^"]+)"', claimed.text).group(1)  # type: ignore[union-attr]
        sender.run_once()  # the voucher e-mail and the shop job

        [voucher_post] = [
            r for r in shop.requests("POST") if json.loads(r.body).get("type") == "voucher.issued"
        ]
    event = json.loads(voucher_post.body)
    assert event["code"] == code and event["winner_email"] == win["To"]
    signature = "sha256=" + hmac.new(SECRET.encode(), voucher_post.body, hashlib.sha256).hexdigest()
    assert voucher_post.headers["x-contest-signature"] == signature
    with engine.connect() as connection:
        status = connection.execute(sa.select(tables.prizeaward.c.status)).scalar_one()
    assert status == "delivered", "the shop confirmed the code"
    actions = {item["action"] for item in bare.get("/api/v1/audit", headers=api).json()["items"]}
    assert {"connection.saved", "connection.tested", "contest.drawn"} <= actions


def test_secrets_are_sealed_in_the_database_and_kept_when_left_empty(
    client: TestClient, bearer: dict[str, str], engine: Engine
) -> None:
    made = client.post(
        "/api/v1/shop-connections",
        json={
            "kind": "woocommerce",
            "settings": {
                "base_url": "https://shop.example",
                "consumer_key": "ck_0123456789abcdef0123",
                "consumer_secret": "cs_fedcba9876543210fedc",
            },
        },
        headers=bearer,
    )
    assert made.status_code == 201, made.text
    assert made.json()["secrets"]["consumer_secret"] == "••••fedc"
    with engine.connect() as connection:
        row = connection.execute(sa.select(tables.shopconnection)).one()
    assert "cs_fedcba" not in json.dumps(row.settings) + row.sealed, "sealed at rest"
    path = f"/api/v1/shop-connections/{made.json()['id']}"
    changed = client.patch(
        path, json={"settings": {"consumer_secret": "", "currency": "EUR"}}, headers=bearer
    )
    assert changed.status_code == 200 and changed.json()["secrets"]["consumer_secret"] == "••••fedc"
    again = client.post(
        "/api/v1/shop-connections",
        json={"kind": "webhook", "settings": {"url": "https://x.example/h", "secret": "s" * 20}},
        headers=bearer,
    )
    assert again.status_code == 409
    missing = client.patch(path, json={"settings": {"base_url": "ftp://shop"}}, headers=bearer)
    assert missing.status_code == 422
    assert client.delete(path, headers=bearer).status_code == 204
    assert client.get("/api/v1/shop-connections", headers=bearer).json() == {"items": []}


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest",
        "https://10.0.0.5/hooks",
        "https://[::1]/hooks",
        "https://localhost/hooks",
    ],
)
def test_a_test_call_to_a_private_address_is_refused_clearly(
    settings: Settings, engine: Engine, clock: FixedClock, demo: None, url: str
) -> None:
    strict = dataclasses.replace(settings, outbound_allow=())
    app = create_app(strict, engine=engine, send_mail=False, clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        token = token_via_workspace(client, "demo@example.org", demo_password(settings))
        api = {"Authorization": f"Bearer {token}"}
        made = client.post(
            "/api/v1/crm-connections",
            json={"kind": "webhook", "settings": {"url": url, "secret": SECRET}},
            headers=api,
        )
        assert made.status_code == 201, made.text
        tested = client.post(f"/api/v1/crm-connections/{made.json()['id']}/test", headers=api)
    assert tested.status_code == 200
    outcome = tested.json()
    assert outcome["ok"] is False
    assert "private, local or reserved" in outcome["message"]
    assert "CONTEST_OUTBOUND_ALLOW" in outcome["message"]


def test_the_connections_screen_adds_tests_and_removes_a_webhook(
    client: TestClient, settings: Settings
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    overview = shown(client.get("/admin/connections"))
    assert "Connecter Shopify" in overview and "Connecter Brevo" in overview
    form = client.get("/admin/connections/shop/new?kind=webhook")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    short = client.post(
        "/admin/connections/shop/new?kind=webhook",
        data={"csrf": csrf, "url": "https://hooks.example/x", "secret": "short"},
    )
    assert short.status_code == 422 and "16" in shown(short)
    empty = client.post(
        "/admin/connections/shop/new?kind=woocommerce",
        data={"csrf": csrf, "base_url": "", "consumer_key": "", "consumer_secret": ""},
    )
    assert empty.status_code == 422
    choice = client.get("/admin/connections/shop/new?kind=woocommerce").text
    assert re.search(r'<select id="c-individual_use" name="individual_use"', choice)
    assert '<option value="false">Non</option>' in choice, "yes or no, not a word to type"
    assert (
        "À remplir : Adresse de la boutique, Clé client (consumer key), "
        "Secret client (consumer secret)." in shown(empty)
    )
    with WebhookReceiver(SECRET) as shop:
        saved = client.post(
            "/admin/connections/shop/new?kind=webhook",
            data={"csrf": csrf, "url": shop.endpoint, "secret": SECRET},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        page = client.get("/admin/connections").text
        assert SECRET not in page and "••••6035" in page
        connection_id = re.search(r"/admin/connections/shop/(\d+)/test", page).group(1)  # type: ignore[union-attr]
        tested = client.post(f"/admin/connections/shop/{connection_id}/test", data={"csrf": csrf})
        assert "Test réussi" in shown(tested), shown(tested)
        assert shop.requests("POST"), "a real call reached the receiver"
    removed = client.post(
        f"/admin/connections/shop/{connection_id}/remove",
        data={"csrf": csrf},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert "Connecter WooCommerce" in shown(client.get("/admin/connections"))


def test_a_shopify_shop_is_connected_and_tested_through_the_api(
    client: TestClient, settings: Settings
) -> None:
    token = token_via_workspace(client, "demo@example.org", demo_password(settings))
    api = {"Authorization": f"Bearer {token}"}
    with ShopifyShop() as shop:
        made = client.post(
            "/api/v1/shop-connections",
            json={
                "kind": "shopify",
                "settings": {"shop_url": shop.url, "access_token": shop.token},
            },
            headers=api,
        )
        assert made.status_code == 201, made.text
        assert made.json()["secrets"] == {"access_token": "••••" + shop.token[-4:]}
        tested = client.post(f"/api/v1/shop-connections/{made.json()['id']}/test", headers=api)
        assert tested.json() == {
            "ok": True,
            "message": "Shopify answered: shop Atelier Demo, prices in EUR.",
        }
        assert shop.discounts == {}, "a test creates nothing in the shop"

        wrong = client.patch(
            f"/api/v1/shop-connections/{made.json()['id']}",
            json={"settings": {"access_token": "shpat_revoked_token_0000"}},
            headers=api,
        )
        assert wrong.status_code == 200, wrong.text
        failed = client.post(f"/api/v1/shop-connections/{made.json()['id']}/test", headers=api)
    assert failed.json()["ok"] is False
    assert "Invalid API key or access token" in failed.json()["message"]
    assert "shpat_revoked_token_0000" not in failed.text


def test_a_webhook_is_connected_through_the_api_with_its_settings_beside_its_kind(
    client: TestClient, settings: Settings
) -> None:
    """The body the contract shows: ``kind``, its ``url`` and credentials side by side."""
    token = token_via_workspace(client, "demo@example.org", demo_password(settings))
    api = {"Authorization": f"Bearer {token}"}
    with WebhookReceiver(SECRET) as shop:
        made = client.post(
            "/api/v1/shop-connections",
            json={"kind": "webhook", "url": shop.endpoint, "secret": SECRET},
            headers=api,
        )
        assert made.status_code == 201, made.text
        assert made.json()["settings"] == {"url": shop.endpoint}
        tested = client.post(f"/api/v1/shop-connections/{made.json()['id']}/test", headers=api)
        assert tested.json()["ok"] is True, tested.text
    typed = client.patch(
        f"/api/v1/shop-connections/{made.json()['id']}", json={"url": 12}, headers=api
    )
    assert typed.status_code == 422
