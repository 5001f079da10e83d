"""An organizer writes a campaign in the workspace, sees who it reaches and who is left out,
sends it, and sees its progress."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.live import DESKTOP, LiveServer, screenshot, sign_in_demo

pytestmark = pytest.mark.browser


def test_an_organizer_writes_counts_and_sends_a_campaign(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    page = context.new_page()
    sign_in_demo(page, live_server, "fr")
    page.get_by_role("navigation", name="Espace de travail").get_by_role(
        "link", name="Campagnes"
    ).click()
    expect(page.get_by_role("heading", name="Campagnes", level=1)).to_be_visible()
    expect(page.get_by_text("au plus 1 message tous les 7 jours")).to_be_visible()
    page.get_by_role("link", name="Nouvelle campagne").click()

    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.locator("#e-name")).to_be_visible()
    page.get_by_label("Nom (pour vous)").fill("Annonce de printemps")
    page.get_by_label("Jeu annoncé").select_option("demo")
    page.get_by_label("Objet en français").fill("Un nouveau jeu pour vous")
    page.get_by_label("Message en français").fill("Bonjour !\n\nNotre nouveau jeu est ouvert.")
    page.get_by_label("Segment").select_option("cold_prospect")
    page.get_by_role("button", name="Enregistrer le brouillon").click()

    expect(page.get_by_role("heading", name="Annonce de printemps")).to_be_visible()
    expect(page.get_by_text(re.compile(r"personnes? recevrai(en)?t la campagne"))).to_be_visible()
    expect(page.locator('[data-reason="no_consent"]')).to_be_visible()
    screenshot(page, "13-campaign-audience")
    page.get_by_role("button", name="Envoyer le test").click()
    expect(page.get_by_text("Un test part vers demo@example.org.")).to_be_visible()
    page.get_by_role("button", name="Lancer l'envoi").click()
    expect(page.get_by_role("heading", name="Avancement et résultats")).to_be_visible()
    expect(page.get_by_role("button", name="Mettre en pause")).to_be_visible()
    screenshot(page, "14-campaign-sending")
    context.close()
