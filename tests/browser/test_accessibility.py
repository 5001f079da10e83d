"""axe-core on every page, in French and English: no serious or critical violation.

Each test walks the pages as a participant or an organizer reaches them, runs axe on each and
reports, at the end, every serious or critical violation found: the rule, its impact, what it
asks and the offending elements.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.browser.live import DESKTOP, PHONE, LiveServer, demo_password, wait_for_link

pytestmark = pytest.mark.browser
BLOCKING = {"serious", "critical"}
LANGUAGES = ["fr", "en"]


class Audit:
    """Runs axe on pages and keeps the serious and critical violations, named by page."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.problems: list[str] = []
        self.pages: list[str] = []
        self.minor: set[str] = set()

    def __call__(self, page: Page, name: str) -> None:
        page.wait_for_load_state("load")
        self.pages.append(name)
        for violation in self.axe.run(page).response["violations"]:
            if violation["impact"] not in BLOCKING:
                self.minor.add(f"{violation['id']} ({violation['impact']})")
                continue
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
            self.problems.append(
                f"[{name}] {violation['id']} ({violation['impact']}): {violation['help']}\n"
                f"    {page.url}\n    " + "\n    ".join(targets)
            )

    def check(self) -> None:
        """Fails listing every blocking violation; shows the others, which do not block."""
        print(f"axe: {len(self.pages)} pages; not blocking: {sorted(self.minor)}")  # noqa: T201
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture(scope="module")
def awards(live_server: LiveServer) -> list[int]:
    """The closed demo contest drawn (once): the prizes its winners may claim."""
    live_server.cli("draw", "demo-closed")
    rows = live_server.query(
        "SELECT a.id FROM prizeaward a JOIN contest c ON c.id = a.contest_id "
        "WHERE c.slug = 'demo-closed' AND a.status = 'notified' ORDER BY a.id"
    )
    return [row[0] for row in rows]


def contest_id(server: LiveServer, slug: str) -> int:
    return int(server.query("SELECT id FROM contest WHERE slug = ?", slug)[0][0])


@pytest.mark.parametrize("language", LANGUAGES)
def test_participant_pages_have_no_serious_accessibility_problem(
    browser: Browser, live_server: LiveServer, awards: list[int], language: str
) -> None:
    audit = Audit()
    base = live_server.url
    context = browser.new_context(viewport=PHONE, locale=f"{language}-FR")
    page = context.new_page()

    page.goto(f"{base}/c/demo?lang={language}")
    audit(page, "contest page")
    page.locator("#entry button[type=submit]").click()
    expect(page.locator("#entry .error").first).to_be_visible()
    audit(page, "form with errors")
    address = f"axe-{language}@example.org"
    page.locator("#f-email").fill(address)
    page.locator("#f-accept").check()
    page.locator("#c-marketing_email").check()
    page.locator("#entry button[type=submit]").click()
    expect(page.locator("#entry.done")).to_be_visible()
    audit(page, "check your inbox (htmx)")

    page.goto(wait_for_link(live_server, address))
    audit(page, "confirm")
    page.locator("main button[type=submit]").click()
    expect(page.locator("[data-chances]")).to_be_visible()
    audit(page, "own page with share links")
    own_page = page.url.split("?")[0]
    page.goto(f"{own_page}/erase")
    audit(page, "erase")

    page.goto(f"{base}/c/demo/rules?lang={language}")
    audit(page, "rules")
    page.goto(f"{base}/c/demo/rules/versions?lang={language}")
    page.locator("details").first.evaluate("section => section.open = true")
    audit(page, "versions of the rules")
    page.goto(f"{base}/c/demo-closed?lang={language}")
    audit(page, "closed contest with its draw")

    award = awards[LANGUAGES.index(language)]
    page.goto(f"{base}/c/demo-closed/claim/{live_server.sign('CLAIM', award)}?lang={language}")
    audit(page, "claim")
    page.locator("main button[type=submit]").click()
    expect(page.locator("[data-voucher]")).to_be_visible()
    audit(page, "claim with a voucher")

    organizer_id, person_id = live_server.query(
        "SELECT organizer_id, id FROM person WHERE email = ?", address
    )[0]
    page.goto(f"{base}/unsubscribe/{live_server.sign('UNSUBSCRIBE', [organizer_id, person_id])}")
    audit(page, "unsubscribe")
    page.goto(f"{base}/invite-optout/{live_server.sign('INVITE_OPTOUT', 'x')}?lang={language}")
    audit(page, "invitation opt-out")
    page.goto(f"{base}/c/no-such-contest?lang={language}")
    audit(page, "404")
    page.goto(f"{base}/c/demo/confirm/broken?lang={language}")
    audit(page, "message: broken link")
    page.goto(f"{base}/embed/demo?lang={language}")
    audit(page, "pop-in page")

    page.goto(f"{base}/c/demo-clients?lang={language}")
    page.locator("#f-email").fill(f"prospect-axe-{language}@example.org")
    page.locator("#f-accept").check()
    page.locator("#entry button[type=submit]").click()
    expect(page.locator("#entry-title")).to_be_visible()  # the e-mail tells why
    audit(page, "client-only contest: check your inbox")
    told = live_server.sign("INTEREST", ["demo-clients", f"prospect-axe-{language}@example.org"])
    page.goto(f"{base}/c/demo-clients/interest?token={told}&lang={language}")
    audit(page, "a prospect's choice to hear of client-only contests")

    # Without htmx the form posts the plain way (axe itself needs JavaScript to run).
    plain = browser.new_context(viewport=PHONE, locale=f"{language}-FR")
    plain.route("**/htmx.min.js", lambda route: route.abort())
    page_without_htmx = plain.new_page()
    page_without_htmx.goto(f"{base}/c/demo?lang={language}")
    page_without_htmx.locator("#entry button[type=submit]").click()
    expect(page_without_htmx.locator("#entry .error").first).to_be_visible()
    audit(page_without_htmx, "form with errors (no JavaScript)")
    page_without_htmx.locator("#f-email").fill(f"axe-nojs-{language}@example.org")
    page_without_htmx.locator("#f-accept").check()
    page_without_htmx.locator("#entry button[type=submit]").click()
    expect(page_without_htmx.locator("#entry.done")).to_be_visible()
    audit(page_without_htmx, "check your inbox (no JavaScript)")
    plain.close()
    context.close()
    audit.check()


@pytest.mark.parametrize("language", LANGUAGES)
def test_organizer_pages_have_no_serious_accessibility_problem(
    browser: Browser, live_server: LiveServer, awards: list[int], language: str
) -> None:
    audit = Audit()
    base = live_server.url
    context = browser.new_context(viewport=DESKTOP, locale=f"{language}-FR")
    page = context.new_page()
    page.goto(f"{base}/admin/lang/{language}")
    page.goto(f"{base}/admin/login")
    audit(page, "login")
    page.locator("#l-email").fill("demo@example.org")
    page.locator("#l-password").fill("wrong password")
    page.locator("main button[type=submit]").click()
    expect(page.locator(".form-error-text")).to_be_visible()
    audit(page, "login refused")

    page.goto(f"{base}/admin/password-reset")
    audit(page, "reset request")
    page.locator("#r-email").fill("demo@example.org")
    page.locator("main button[type=submit]").click()
    expect(page.locator("main [role=status]")).to_be_visible()
    audit(page, "reset request sent")
    page.goto(wait_for_link(live_server, "demo@example.org", r"http://\S+/password-reset/\S+"))
    audit(page, "reset form")

    page.goto(f"{base}/admin/login")
    page.locator("#l-email").fill("demo@example.org")
    page.locator("#l-password").fill(demo_password(live_server))
    page.locator("main button[type=submit]").click()
    expect(page.locator("table.list")).to_be_visible()
    audit(page, "home")

    page.goto(f"{base}/admin/contests/new")
    page.locator("#f-title").fill("Axe")
    page.locator("#f-slug").fill(f"axe-{language}")
    page.locator("#f-jurisdictions-FR").check()
    page.locator("#f-requires_purchase-on").check()
    expect(page.locator('#compliance [data-rule="FR-NOPURCHASE-1"]')).to_be_visible()
    audit(page, "new contest form with the compliance panel")

    demo, closed = contest_id(live_server, "demo"), contest_id(live_server, "demo-closed")
    for path, name in [
        (f"/admin/contests/{demo}/edit", "published contest form"),
        (f"/admin/contests/{demo}", "dashboard"),
        (f"/admin/contests/{closed}", "drawn contest with its prizes"),
        (f"/admin/contests/{demo}/preview", "preview"),
        ("/admin/clients", "clients"),
        ("/admin/leads", "leads"),
        (f"/admin/contests/{demo}/referrals", "referrals"),
    ]:
        page.goto(base + path)
        audit(page, name)

    page.goto(f"{base}/admin/contests/{demo}/links")
    page.locator("#l-label").fill(f"Newsletter {language}")
    page.locator("main button[type=submit]").click()
    expect(page.locator("table.list")).to_be_visible()
    audit(page, "tracked links")

    page.goto(f"{base}/admin/api-tokens")
    page.locator("#t-name").fill(f"CRM {language}")
    page.locator("main form:not(.inline) button[type=submit]").click()
    expect(page.locator("code.token")).to_be_visible()
    audit(page, "API tokens")

    page.goto(f"{base}/admin/clients")
    page.locator("#f-file").set_input_files(
        files=[
            {
                "name": "clients.csv",
                "mimeType": "text/csv",
                "buffer": b"email,client_since,orders_count,segments\n"
                b"axe@example.org,2024-01-01,3,loyal\nnot-an-address,2024-01-01,1,\n",
            }
        ]
    )
    page.locator("main button[type=submit]").click()
    expect(page.locator("#report-title")).to_be_visible()
    audit(page, "clients import report")
    context.close()
    audit.check()
