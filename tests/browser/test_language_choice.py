"""A participant switches a French contest to English once and keeps English to the end.

The choice made with the switcher holds through the form, its errors, "check your inbox", the
e-mail, the confirmation and the participant's own page, with no ``?lang=`` typed by hand;
switching back works the same way. Dates and amounts follow the language.
"""

from __future__ import annotations

import email.policy
import re
from email import message_from_bytes

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.live import PHONE, LiveServer, screenshot, wait_for_link

pytestmark = pytest.mark.browser
MONTHS_EN = (
    r"(January|February|March|April|May|June|July|August|September|October|November|December)"
)


def subject_of_mail_to(server: LiveServer, recipient: str) -> str:
    for path in server.mails():
        message = message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == recipient:
            return str(message["Subject"])
    raise AssertionError(f"no e-mail to {recipient}")


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_language_picked_once_holds_to_the_participant_page(
    browser: Browser, live_server: LiveServer, javascript: bool
) -> None:
    suffix = "js" if javascript else "nojs"
    address = f"english-{suffix}@example.org"
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/c/demo")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    switcher = page.get_by_role("navigation", name="Langue")
    expect(switcher).to_be_visible()
    expect(switcher.locator("[aria-current=true]")).to_have_text("Français")

    switcher.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Enter the contest")).to_be_visible()
    expect(page.locator(".prizes")).to_contain_text("€300.00")
    expect(page.locator(".dates")).to_contain_text(re.compile(MONTHS_EN))
    [cookie] = [c for c in context.cookies() if c["name"] == "lang"]
    assert (cookie["value"], cookie["sameSite"], cookie["httpOnly"]) == ("en", "Lax", True)
    assert cookie["secure"] is False, "Secure only when the site is served over https"
    screenshot(page, f"06-contest-page-english-{suffix}", full_page=False)

    page.get_by_label("E-mail address").fill("not-an-address")
    page.get_by_role("button", name="Enter the contest").click()
    expect(page.locator("#e-email")).to_have_text(
        "This e-mail address does not look right. Please check it."
    )
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("E-mail address").fill(address)
    page.get_by_label(re.compile("I am 18 or over")).check()
    page.get_by_role("button", name="Enter the contest").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    link = wait_for_link(live_server, address)
    assert link.endswith("?lang=en"), "the e-mail's links carry its language"
    link = link.removesuffix("?lang=en")  # the remembered choice alone must hold
    assert subject_of_mail_to(live_server, address).startswith("Confirm")
    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm your entry")).to_be_visible()
    page.get_by_role("button", name="Confirm my entry").click()
    expect(page.get_by_role("heading", name="You are taking part!")).to_be_visible()
    expect(page.locator(".me")).to_contain_text(re.compile(rf"Draw on \d{{1,2}} {MONTHS_EN}"))
    assert "lang=" not in page.url
    screenshot(page, f"07-own-page-english-{suffix}", full_page=False)

    page.get_by_role("navigation", name="Language").get_by_role("link", name="Français").click()
    expect(page.get_by_role("heading", name="Vous participez !")).to_be_visible()
    page.get_by_role("link", name="Règlement du jeu").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Règlement du jeu")
    page.goto(f"{live_server.url}/c/demo")
    expect(page.locator(".prizes")).to_contain_text("300,00 €")
    context.close()
