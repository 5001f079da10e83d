"""A participant on a phone enters, confirms from the e-mail, and reaches their own page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.live import PHONE, LiveServer, screenshot, wait_for_link

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_participant_enters_confirms_and_sees_their_page(
    browser: Browser, live_server: LiveServer, javascript: bool
) -> None:
    suffix = "js" if javascript else "nojs"
    address = f"phone-{suffix}@example.org"
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/c/demo")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gagnez 500 €")
    expect(page.get_by_text("Jeu gratuit sans obligation d'achat")).to_be_visible()
    for box in page.get_by_role("checkbox").all():
        expect(box).not_to_be_checked()
    screenshot(page, f"01-contest-page-{suffix}")
    screenshot(page, f"01-contest-page-{suffix}-first-screen", full_page=False)

    page.get_by_label("Adresse e-mail").fill("not-an-address")
    page.get_by_label("Prénom").fill("Camille")
    page.get_by_role("button", name="Je participe").click()
    expect(page.locator("#e-email")).to_contain_text("Cette adresse e-mail semble incorrecte")
    expect(page.locator("#e-accept")).to_contain_text("Veuillez accepter le règlement")
    expect(page.get_by_role("alert")).to_contain_text("Merci de vérifier ces réponses")
    screenshot(page, f"02-form-errors-{suffix}")

    page.get_by_label("Adresse e-mail").fill(address)
    page.get_by_label(re.compile("J'ai 18 ans ou plus")).check()
    page.get_by_role("button", name="Je participe").click()
    expect(page.get_by_role("heading", name="Consultez votre boîte mail")).to_be_visible()
    screenshot(page, f"03-check-inbox-{suffix}")

    link = wait_for_link(live_server, address)
    page.goto(link)
    page.get_by_role("button", name="Confirmer ma participation").click()
    expect(page.get_by_role("heading", name="Vous participez !")).to_be_visible()
    card = page.locator("[data-chances]")
    expect(card).to_have_attribute("data-chances", "1")
    expect(card).to_have_attribute("data-referrals", "0")
    screenshot(page, f"04-own-page-{suffix}")
    context.close()


def test_the_entry_form_starts_in_the_first_screen_of_a_phone(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/c/demo")
    field = page.get_by_label("Adresse e-mail").bounding_box()
    assert field is not None and field["y"] + field["height"] <= PHONE["height"]
    expect(page.locator(".prizes")).to_be_visible()  # further down, not gone
    context.close()
