"""A participant on a phone enters with the keyboard alone: Tab, Shift+Tab, Space and Enter.

Every control reached shows where the focus is; the focus follows the form's order; a refused
form announces its errors, ties each one to its field and takes the focus to them; the answer
takes the focus to its heading. With htmx and without JavaScript alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.live import PHONE, LiveServer, screenshot, wait_for_link

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    key: element.id || element.getAttribute("href") || element.tagName.toLowerCase(),
    inForm: !!element.closest("#entry form"),
    ringed: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
      || style.boxShadow !== "none",
    top: box.top + window.scrollY,
  };
}"""

TABBABLE = """() => [...document.querySelectorAll(
  "#entry form input:not([type=hidden]), #entry form a[href], #entry form button, "
  + "#entry form select, #entry form textarea"
)].filter((e) => !e.disabled && e.getClientRects().length).map(
  (e) => e.id || e.getAttribute("href") || e.tagName.toLowerCase()
)"""


def focused(page: Page) -> dict[str, Any]:
    """Where the focus is, and whether it can be seen."""
    state: dict[str, Any] = page.evaluate(FOCUSED)
    assert state["ringed"], f"no visible focus on {state['key']}"
    return state


def tab_to(page: Page, key: str, backwards: bool = False, limit: int = 30) -> None:
    """Presses Tab (or Shift+Tab) until ``key`` has the focus, checking each stop is visible."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if focused(page)["key"] == key:
            return
    raise AssertionError(f"{key} never got the focus")


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_participant_enters_with_the_keyboard_alone(
    browser: Browser, live_server: LiveServer, javascript: bool
) -> None:
    suffix = "js" if javascript else "nojs"
    address = f"keyboard-{suffix}@example.org"
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/c/demo")

    tab_to(page, "f-email")
    order = [focused(page)]
    while order[-1]["key"] != "button":
        page.keyboard.press("Tab")
        order.append(focused(page))
    assert [stop["key"] for stop in order] == page.evaluate(TABBABLE)
    assert all(stop["inForm"] for stop in order)
    tops = [stop["top"] for stop in order]
    assert tops == sorted(tops), "the focus goes down the form, as it reads"

    tab_to(page, "f-email", backwards=True)
    page.keyboard.type("not-an-address")
    page.keyboard.press("Tab")
    page.keyboard.type("Camille")
    tab_to(page, "button")
    page.keyboard.press("Enter")

    summary = page.locator("#form-error")
    expect(summary.get_by_role("link")).to_have_count(2)
    assert summary.get_attribute("role") == "alert"
    assert summary.get_attribute("aria-live") == "assertive"
    expect(summary).to_be_focused()
    for field, message in [("#f-email", "#e-email"), ("#f-accept", "#e-accept")]:
        expect(page.locator(field)).to_have_attribute("aria-invalid", "true")
        expect(page.locator(field)).to_have_attribute("aria-describedby", message[1:])
        expect(page.locator(message)).to_have_class("error")
        expect(page.locator(message)).not_to_be_empty()
    expect(page.locator("[aria-invalid=true]")).to_have_count(2)
    screenshot(page, f"05-keyboard-errors-{suffix}", full_page=False)

    page.keyboard.press("Tab")
    assert focused(page)["key"] == "#f-email"
    page.keyboard.press("Enter")  # the summary's link takes the focus to the field
    expect(page.locator("#f-email")).to_be_focused()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(address)
    tab_to(page, "f-accept")
    page.keyboard.press("Space")
    expect(page.locator("#f-accept")).to_be_checked()
    tab_to(page, "c-marketing_email")
    page.keyboard.press("Space")
    tab_to(page, "f-accept", backwards=True)
    expect(page.locator("#f-accept")).to_be_checked()
    tab_to(page, "button")
    page.keyboard.press("Enter")

    heading = page.get_by_role("heading", name="Consultez votre boîte mail")
    expect(heading).to_be_visible()
    expect(heading).to_be_focused()
    expect(page.locator("#c-marketing_email")).to_have_count(0)

    page.goto(wait_for_link(live_server, address))
    tab_to(page, "button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Vous participez !")).to_be_visible()
    context.close()
