"""In Chromium, with the challenge on: the ALTCHA widget, served from this site within its
Content-Security-Policy, solves the proof of work and the entry goes through with it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from contest import botguard
from contest.botguard import RATE_ON
from contest.templating import STATIC_DIR
from tests.browser.conftest import demo_server
from tests.browser.live import PHONE, LiveServer, screenshot
from tests.helpers import form_token

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def widget_installed() -> None:
    """`make test` fetches the widget (after installing npm): missing, the test fails."""
    if not (Path(STATIC_DIR) / "js" / "altcha.min.js").exists():
        pytest.fail("the ALTCHA widget is not installed: make static/js/altcha.min.js (npm)")


@pytest.fixture(scope="module")
def flooded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own (the shared one must stay calm) whose demo contest has just taken
    a flood of entries from one network, with no ordinary limit per network."""
    with demo_server(
        tmp_path_factory.mktemp("flooded"), CONTEST_ENTRY_LIMIT_PER_NETWORK="off"
    ) as server:
        with httpx.Client(base_url=server.url) as client:
            token = form_token(client.get("/c/demo").text)
            for n in range(RATE_ON):
                data = {"form_token": token, "email": f"bot{n}@example.org", "accept_rules": "on"}
                assert client.post("/c/demo/entries", data=data).status_code in (200, 303)
            # The guard judges the traffic again every few seconds (botguard.RECHECK): its
            # stored decision is made old, so that the next look (once this process's copy of
            # it expires, a third of that) judges the flood.
            server.execute("UPDATE challengestate SET checked_at = '2000-01-01 00:00:00.000000'")
            deadline = time.monotonic() + botguard.RECHECK.total_seconds() + 15
            while "<altcha-widget" not in client.get("/c/demo").text:
                assert time.monotonic() < deadline, "the challenge did not turn on"
                time.sleep(0.5)
        yield server


def test_the_widget_solves_the_challenge_and_the_entry_goes_through(
    browser: Browser, flooded: LiveServer
) -> None:
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    problems: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", watch)
    page.goto(f"{flooded.url}/c/demo")
    widget = page.locator("altcha-widget")
    expect(widget).to_have_count(1)

    page.get_by_label("Adresse e-mail").fill("person@example.org")
    page.get_by_label("Prénom").fill("Camille")
    page.get_by_label("J'ai 18 ans ou plus", exact=False).check()
    # The widget starts on the form's first focus and fills its field when the work is done.
    solution = page.locator("input[name=altcha]")
    expect(solution).to_have_value(re.compile(r"^[A-Za-z0-9+/=]{100,}$"), timeout=60_000)
    screenshot(page, "bot-challenge-solved")
    page.get_by_role("button", name="Je participe").click()
    expect(page.get_by_role("heading", name="Consultez votre boîte mail")).to_be_visible()

    assert flooded.query("SELECT count(*) FROM spentchallenge") == [(1,)], "checked and spent"
    entered = "SELECT count(*) FROM person WHERE email = 'person@example.org'"
    assert flooded.query(entered) == [(1,)]
    assert not [text for text in problems if "Content Security Policy" in text], problems
    assert not problems, problems
    context.close()
