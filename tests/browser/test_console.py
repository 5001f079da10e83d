"""No page writes an error to the browser's console: no script error, no htmx complaint, no
resource the Content-Security-Policy refused (the inline colours of a contest included)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.browser.live import DESKTOP, PHONE, LiveServer, demo_password, wait_for_link
from tests.contest.test_api import CONTEST

pytestmark = pytest.mark.browser
GREEN = ("#0b6e4f", "rgb(11, 110, 79)")  # a brand colour no default stylesheet has


class Console:
    """The errors a page reports: console messages of type ``error`` and uncaught exceptions."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        self.page = page

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text}")


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    yield context
    context.close()


def sign_in(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/admin/login")
    page.get_by_label("Adresse e-mail").fill("demo@example.org")
    page.get_by_label("Mot de passe").fill(demo_password(server))
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mes jeux")).to_be_visible()


def test_entering_confirming_and_the_workspace_log_no_console_error(
    context: BrowserContext, live_server: LiveServer
) -> None:
    page = context.new_page()
    console = Console(page)
    address = "console@example.org"
    page.goto(f"{live_server.url}/c/demo")
    page.wait_for_function("() => window.htmx !== undefined")
    with page.expect_response(re.compile(r"/c/demo/started$")) as started:
        page.get_by_label("Adresse e-mail").focus()  # the form start, counted once
    assert started.value.status == 204
    assert "form_token=" in (started.value.request.post_data or ""), "counted once per form"
    page.get_by_label("Adresse e-mail").fill(address)
    page.get_by_label("Prénom").fill("Chloé")
    page.get_by_label(re.compile("J'ai 18 ans ou plus")).check()
    page.get_by_role("button", name="Je participe").click()
    expect(page.get_by_role("heading", name="Consultez votre boîte mail")).to_be_visible()

    page.goto(wait_for_link(live_server, address))
    page.get_by_role("button", name="Confirmer ma participation").click()
    expect(page.get_by_role("heading", name="Vous participez !")).to_be_visible()

    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server)
    page.get_by_role("link", name=re.compile("Gagnez 500 €")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gagnez 500 €")
    page.goto(f"{live_server.url}/admin/contests/new")
    with page.expect_response(re.compile(r"/admin/contests/check$")):  # the compliance panel
        page.get_by_label("Titre", exact=True).fill("Jeu sans erreur")
    page.goto(f"{live_server.url}/admin/leads")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert console.errors == []


def test_the_contest_colours_are_inline_and_apply_under_the_policy(
    context: BrowserContext, live_server: LiveServer
) -> None:
    page = context.new_page()
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/api-tokens")
    page.get_by_label("Nom (ce qui va l'utiliser)").fill("Colours")
    page.get_by_label("Ce qu'il peut faire").select_option("editor")
    page.get_by_role("button", name="Créer", exact=True).click()
    token = page.locator("code.token").inner_text()
    api = {"Authorization": f"Bearer {token}"}
    body = {**CONTEST, "slug": "green", "requires_purchase": False, "brand_color": GREEN[0]}
    made = context.request.post(f"{live_server.url}/api/v1/contests", data=body, headers=api)
    assert made.status == 201, made.text()
    published = context.request.post(
        f"{live_server.url}/api/v1/contests/{made.json()['id']}/publish", headers=api
    )
    assert published.status == 200, published.text()

    page = context.new_page()
    console = Console(page)
    answer = page.goto(f"{live_server.url}/c/green")
    assert answer is not None and "theme.css" not in answer.text()
    assert "sha256-" in answer.headers["content-security-policy"]
    button = page.get_by_role("button", name="Je participe")
    colour = button.evaluate("(element) => getComputedStyle(element).backgroundColor")
    assert colour == GREEN[1]
    assert console.errors == []
