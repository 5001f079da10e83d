"""A new organizer, without the demo seed, from `contest create-organizer` to a voucher code
received by their shop's webhook: every step in the browser, as a merchant would do it."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.live import DESKTOP, PHONE, LiveServer, screenshot, wait_for_link
from tests.shop_servers import WebhookReceiver

pytestmark = pytest.mark.browser

EMAIL = "owner@boutique.example"
PASSWORD = "a long and private passphrase 42"
SECRET = "whsec-b9e2c47d1a58f063"
CLAIM_LINK = r"http://\S+/claim/\S+"


def create_organizer(server: LiveServer) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "contest.cli", "create-organizer", EMAIL, "--password-stdin"],
        input=PASSWORD + "\n",
        env={"CONTEST_DATA_DIR": str(server.data_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr  # what the command said, when it fails


def local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def fill_contest(page: Page, opens: datetime, closes: datetime) -> None:
    """The contest form, every section opened (they may be collapsed)."""
    page.locator("details").evaluate_all("sections => sections.forEach(s => s.open = true)")
    page.get_by_label("Titre", exact=True).fill("Les bons de la rentrée")
    page.get_by_label("Adresse", exact=True).fill("rentree")
    page.get_by_label("France").check()
    page.get_by_label("Fuseau horaire").fill("UTC")
    page.get_by_label("Ouverture le").fill(local(opens))
    page.get_by_label("Clôture le").fill(local(closes))
    page.get_by_label("Tirage le").fill(local(closes + timedelta(hours=1)))
    page.get_by_label("Âge minimum").fill("18")
    page.locator("#f-prize-0-description").fill("Bon d'achat de 50 €")
    page.locator("#f-prize-0-quantity").fill("1")
    page.locator("#f-prize-0-unit_value").fill("50")
    page.locator("#f-prize-0-currency").fill("EUR")
    page.locator("#f-prize-0-voucher_validity_days").fill("90")
    page.locator("#f-prize-0-voucher_min_order").fill("0")
    page.get_by_label("Mode de désignation des gagnants", exact=True).fill(
        "Tirage au sort vérifiable."
    )
    page.get_by_label("Valeur publique mêlée au tirage").select_option(
        label="Une valeur détenue par un commissaire de justice"
    )
    page.get_by_label("Quel tirage de loterie, ou quel commissaire de justice").fill(
        "Me Martin, commissaire de justice à Paris"
    )
    page.get_by_label("Information des gagnants", exact=True).fill("par e-mail")
    page.get_by_label("Jours pour réclamer un lot").fill("30")
    page.get_by_label("Information sur les données personnelles").fill(
        "La Boutique traite vos données pour organiser le jeu. Contact : dpo@boutique.example."
    )
    page.get_by_label("Mois de conservation des données après le jeu").fill("12")


def enter_and_confirm(browser: Browser, server: LiveServer, address: str) -> None:
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{server.url}/c/rentree")
    page.get_by_label("Adresse e-mail").fill(address)
    page.get_by_label(re.compile("J'ai 18 ans ou plus")).check()
    page.get_by_role("button", name="Je participe").click()
    expect(page.get_by_role("heading", name="Consultez votre boîte mail")).to_be_visible()
    page.goto(wait_for_link(server, address))
    page.get_by_role("button", name="Confirmer ma participation").click()
    expect(page.get_by_role("heading", name="Vous participez !")).to_be_visible()
    context.close()


def let_the_contest_end(server: LiveServer) -> None:
    """The closing and draw dates pass: moved to this instant in the server's database (after
    the confirmations, which count only if they came before the close), the server keeping
    the machine's own clock."""
    now = datetime.now(UTC)
    past = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    with closing(sqlite3.connect(server.data_dir / "contest.db")) as db:
        query = "SELECT draw_beacon FROM contest WHERE slug = 'rentree'"
        [announced] = db.execute(query).fetchone()
        beacon = json.loads(announced) | {"at": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
        db.execute(
            "UPDATE contest SET closes_at = ?, draw_at = ?, draw_beacon = ? WHERE slug = 'rentree'",
            (past, past, json.dumps(beacon)),
        )
        db.commit()


def winner_claim_link(server: LiveServer, addresses: tuple[str, ...]) -> tuple[str, str]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for address in addresses:
            try:
                return address, wait_for_link(server, address, CLAIM_LINK, timeout=0.5)
            except AssertionError:
                continue
    raise AssertionError("no winner was told")


def test_a_new_organizer_runs_a_contest_to_a_voucher_in_their_shop(
    browser: Browser, live_server: LiveServer
) -> None:
    create_organizer(live_server)
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.get_by_role("link", name="Organisation").first.click()
    page.get_by_label("Raison sociale").fill("La Boutique")
    page.get_by_label("Adresse du siège").fill("1 rue de la Paix, 75002 Paris")
    page.get_by_label("Contact public (e-mail)").fill("contact@boutique.example")
    page.get_by_label("Contact pour la protection des données (e-mail)").fill(
        "dpo@boutique.example"
    )
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("heading", name="Votre organisation")).to_be_visible()

    with WebhookReceiver(SECRET) as shop:
        page.get_by_role("link", name="Connexions").first.click()
        page.get_by_role("link", name="Connecter Webhook signé").first.click()
        page.get_by_label("Adresse du destinataire").fill(shop.endpoint)
        page.get_by_label("Secret de signature").fill(SECRET)
        page.get_by_role("button", name="Enregistrer", exact=True).click()
        page.get_by_role("button", name="Envoyer un test").first.click()
        expect(page.get_by_role("status")).to_contain_text("Test réussi")
        expect(page.locator("main")).not_to_contain_text(SECRET)
        screenshot(page, "30-connection-tested")

        page.goto(f"{live_server.url}/admin/contests/new")
        now = datetime.now(UTC)
        fill_contest(page, now - timedelta(days=1), now + timedelta(days=7))
        expect(page.locator("#compliance")).to_contain_text(
            "Aucune règle ne s'oppose à ce jeu", timeout=10_000
        )
        page.get_by_role("button", name="Enregistrer", exact=True).click()
        page.get_by_role("button", name="Publier").click()
        expect(page.get_by_text("Ouvert", exact=True)).to_be_visible()
        contest_page = page.url

        addresses = ("lea@example.net", "hugo@example.net")
        for address in addresses:
            enter_and_confirm(browser, live_server, address)

        let_the_contest_end(live_server)
        page.goto(contest_page)
        expect(page.locator("#draw-title + p")).to_contain_text("Me Martin")
        page.get_by_label("La valeur annoncée").fill("4127")
        page.get_by_role("button", name="Tirer les gagnants au sort").click()
        expect(page.locator("main")).to_contain_text("gagnant", timeout=10_000)
        screenshot(page, "31-drawn")

        winner, claim = winner_claim_link(live_server, addresses)
        claimer = browser.new_context(viewport=PHONE, locale="fr-FR").new_page()
        claimer.goto(claim)
        claimer.get_by_role("button", name="Réclamer mon lot").click()
        code = claimer.locator("[data-voucher]").get_attribute("data-voucher")
        screenshot(claimer, "32-voucher-claimed")

        deadline = time.monotonic() + 20
        issued: list[bytes] = []
        while not issued and time.monotonic() < deadline:
            issued = [
                r.body
                for r in shop.requests("POST")
                if json.loads(r.body).get("type") == "voucher.issued"
            ]
            time.sleep(0.2)
        signatures = [
            r.headers["x-contest-signature"]
            for r in shop.requests("POST")
            if json.loads(r.body).get("type") == "voucher.issued"
        ]
    assert issued, "the shop's webhook received the voucher"
    event = json.loads(issued[0])
    assert event["code"] == code and event["winner_email"] == winner
    expected = "sha256=" + hmac.new(SECRET.encode(), issued[0], hashlib.sha256).hexdigest()
    assert signatures[0] == expected
    context.close()
