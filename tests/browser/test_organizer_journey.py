"""An organizer signs in, sees the compliance panel react while typing, fixes, publishes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.live import DESKTOP, LiveServer, demo_password, screenshot, sign_in_demo

pytestmark = pytest.mark.browser


def test_organizer_creates_a_contest_guided_by_the_compliance_panel(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Adresse e-mail").fill("demo@example.org")
    page.get_by_label("Mot de passe").fill(demo_password(live_server))
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mes jeux")).to_be_visible()
    screenshot(page, "10-organizer-home")

    page.get_by_role("link", name="Nouveau jeu").click()
    page.get_by_label("Titre", exact=True).fill("Jeu de Noël")
    page.get_by_label("Adresse", exact=True).fill("noel")
    page.get_by_label("France").check()
    page.get_by_label("Les participants doivent avoir fait un achat").check()
    panel = page.locator("#compliance")
    expect(panel.locator('[data-rule="FR-NOPURCHASE-1"]')).to_be_visible(timeout=10_000)
    screenshot(page, "11-compliance-panel-refuses", full_page=False)
    page.get_by_role("heading", level=1).scroll_into_view_if_needed()
    screenshot(page, "11-compliance-panel-refuses-top", full_page=False)

    page.get_by_label("Les participants doivent avoir fait un achat").uncheck()
    expect(panel.locator('[data-rule="FR-NOPURCHASE-1"]')).to_have_count(0, timeout=10_000)
    page.get_by_label("Ouverture le").fill("2026-01-01T09:00")
    page.get_by_label("Clôture le").fill("2099-12-31T18:00")
    page.get_by_label("Tirage le").fill("2100-01-02T10:00")
    page.get_by_label("Âge minimum").fill("18")
    page.locator("#f-prize-0-description").fill("Bon d'achat de 100 €")
    page.locator("#f-prize-0-quantity").fill("1")
    page.locator("#f-prize-0-unit_value").fill("100")
    page.locator("#f-prize-0-currency").fill("EUR")
    page.locator("#f-prize-0-voucher_validity_days").fill("365")
    page.locator("#f-prize-0-voucher_min_order").fill("0")
    page.get_by_label("Mode de désignation des gagnants", exact=True).fill(
        "Tirage au sort vérifiable."
    )
    page.get_by_label("Information des gagnants", exact=True).fill("par e-mail")
    page.get_by_label("Jours pour réclamer un lot").fill("30")
    page.get_by_label("Information sur les données personnelles").fill(
        "La Boutique Démo traite vos données pour organiser le jeu."
    )
    page.get_by_label("Mois de conservation des données après le jeu").fill("12")
    expect(panel).to_contain_text("Aucune règle ne s'oppose à ce jeu", timeout=10_000)
    screenshot(page, "12-compliance-panel-clear", full_page=False)

    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("heading", name="Jeu de Noël")).to_be_visible()
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_text("Ouvert", exact=True)).to_be_visible()
    screenshot(page, "13-published")

    page.goto(f"{live_server.url}/c/noel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jeu de Noël")
    context.close()


def test_saving_a_published_contest_as_shown_keeps_its_dates(
    browser: Browser, live_server: LiveServer
) -> None:
    """The demo's dates were stored with microseconds (the moment it was seeded); a browser's
    date-time field takes at most milliseconds, and used to empty them, so saving the form
    sent the dates back blank and was refused."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    sign_in_demo(page, live_server)
    page.goto(f"{live_server.url}/admin/contests/1/edit?lang=en")
    opens = page.get_by_label("Opens on")
    shown = opens.input_value()
    assert shown, "the stored opening is in its field"
    page.locator("#f-description").fill("Now with a longer description.")
    page.get_by_label("Reason for the change (published with the rules)").fill(
        "A clearer description."
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Edit", timeout=10_000)
    assert "/edit" not in page.url, page.locator("main").inner_text()[:500]
    page.goto(f"{live_server.url}/admin/contests/1/edit?lang=en")
    assert page.get_by_label("Opens on").input_value() == shown
    assert page.locator("#f-description").input_value() == ("Now with a longer description.")
    context.close()
