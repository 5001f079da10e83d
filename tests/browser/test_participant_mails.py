"""The participant's journey in an English browser on a bilingual contest: English texts and
preview tags, the friend-confirmed e-mail with the new chances, and the preferences link of
the confirmation e-mail withdrawing in one click, out of the next export."""

from __future__ import annotations

import email.policy
import re
from email import message_from_bytes

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.live import PHONE, LiveServer, screenshot, wait_for_link

pytestmark = pytest.mark.browser


def test_an_english_browser_gets_english_texts_and_a_preview_card(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/c/demo")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Win €500 of vouchers at La Boutique Démo"
    )
    expect(page.locator(".prizes")).to_contain_text("€300 voucher for La Boutique Démo")
    og_title = page.locator('meta[property="og:title"]')
    expect(og_title).to_have_attribute("content", "Win €500 of vouchers at La Boutique Démo")
    image = page.locator('meta[property="og:image"]').get_attribute("content")
    assert image and image.endswith("/c/demo/card.png?lang=en")
    answer = page.request.get(image)
    assert answer.ok and answer.headers["content-type"] == "image/png"
    assert answer.body()[:8] == b"\x89PNG\r\n\x1a\n"
    screenshot(page, "08-contest-page-english-browser", full_page=False)
    context.close()


def test_a_referrer_hears_of_a_confirmed_friend_then_unsubscribes_in_one_click(
    browser: Browser, live_server: LiveServer
) -> None:
    referrer, friend = "referrer-en@example.org", "friend-en@example.org"
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/c/demo")
    page.get_by_label("E-mail address").fill(referrer)
    page.get_by_label("First name (optional)").fill("Robin")
    page.get_by_label(re.compile("I am 18 or over")).check()
    page.locator("input[name=consent_marketing_email]").check()
    page.get_by_role("button", name="Enter the contest").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    page.goto(wait_for_link(live_server, referrer))
    page.get_by_role("button", name="Confirm my entry").click()
    expect(page.get_by_role("heading", name="You are taking part!")).to_be_visible()
    share = page.locator("#share-url").input_value()
    assert re.search(r"/r/[A-Z0-9]+$", share)

    visitor = browser.new_context(viewport=PHONE, locale="en-GB")
    other = visitor.new_page()
    other.goto(share)
    expect(other.locator(".invited")).to_contain_text("Robin invited you")
    other.get_by_label("E-mail address").fill(friend)
    other.get_by_label(re.compile("I am 18 or over")).check()
    other.get_by_role("button", name="Enter the contest").click()
    expect(other.get_by_role("heading", name="Check your inbox")).to_be_visible()
    other.goto(wait_for_link(live_server, friend))
    other.get_by_role("button", name="Confirm my entry").click()
    expect(other.get_by_role("heading", name="You are taking part!")).to_be_visible()
    visitor.close()

    live_server.cli("worker", "--once")  # the worker's round: the referrers' news goes out
    own = wait_for_link(live_server, referrer, r"http://\S+/me/\S+")
    news = mail_text(live_server, referrer, "friends confirmed")
    assert "You now have 2 chances in the draw" in news

    preferences = wait_for_link(live_server, referrer, r"http://\S+/unsubscribe/\S+")
    page.goto(preferences)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name=re.compile("Unsubscribe")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("unsubscribed", re.I))
    screenshot(page, "09-unsubscribed-in-one-click", full_page=False)
    exported = live_server.cli("export", "leads", "demo")
    assert referrer not in exported, "the next export leaves them out"
    page.goto(own)
    expect(page.get_by_role("heading", name="You are taking part!")).to_be_visible()
    context.close()


def mail_text(server: LiveServer, recipient: str, subject_part: str) -> str:
    """The plain text of the e-mail to ``recipient`` whose subject holds ``subject_part``."""
    for path in server.mails():
        message = message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == recipient and subject_part in str(message["Subject"]).lower():
            return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    raise AssertionError(f"no e-mail to {recipient} about {subject_part}")
