"""A first visit opens in the language the browser prefers, among those offered; a choice
made on the page (link or cookie) wins over it."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from contest.i18n import from_accept_language
from contest.mail import Sender
from contest.settings import Settings
from contest.tokens import Purpose
from tests.helpers import link_in, read_eml, shown
from tests.viral.referral_steps import enter_and_confirm, share_path


def test_an_english_browser_gets_the_contest_page_and_the_workspace_in_english(
    client: TestClient,
) -> None:
    english = {"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"}
    page = client.get("/c/demo", headers=english)
    assert '<html lang="en">' in page.text and "Enter" in shown(page)
    assert "Accept-Language" in page.headers["vary"]
    assert '<html lang="fr">' in client.get("/c/demo", headers={"Accept-Language": "fr"}).text
    assert '<html lang="en">' in client.get("/admin/", headers=english).text

    client.cookies.set("lang", "fr")
    assert '<html lang="fr">' in client.get("/c/demo", headers=english).text, "a choice wins"


def test_weights_order_and_refusals_are_honoured() -> None:
    offered = ("fr", "en")
    assert from_accept_language("de-DE,de;q=0.9,en;q=0.8,fr;q=0.7", offered) == "en"
    assert from_accept_language("fr-CA", offered) == "fr"
    assert from_accept_language("en;q=0, fr;q=0.1", offered) == "fr"
    assert from_accept_language("de, it", offered) is None
    assert from_accept_language("en;q=nonsense, fr", offered) == "fr"
    assert from_accept_language(None, offered) is None


@given(st.text(max_size=300))
def test_any_header_gives_an_offered_language_or_none(header: str) -> None:
    assert from_accept_language(header, ("fr", "en")) in ("fr", "en", None)


def test_a_shared_link_keeps_its_language_through_the_redirect(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    own = enter_and_confirm(client, sender, settings, "sharer@example.net")
    shared = share_path(client, own)
    followed = client.get(shared + "?lang=en", follow_redirects=False)
    assert followed.status_code == 303 and followed.headers["location"].endswith("&lang=en")
    assert '<html lang="en">' in client.get(followed.headers["location"]).text


def test_the_password_reset_mail_and_its_page_speak_the_language_it_was_asked_in(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    english = {"Accept-Language": "en-US,en;q=0.9"}
    client.post("/admin/password-reset", data={"email": "demo@example.org"}, headers=english)
    sender.run_once()
    [mail] = read_eml(settings.mail_dir)
    assert str(mail["Subject"]).isascii() and "password" in str(mail["Subject"]).lower()
    link = link_in(mail, r"http://testserver/admin/password-reset/\S+")
    assert link.endswith("?lang=en")
    client.headers.pop("Accept-Language", None)
    assert '<html lang="en">' in client.get(link.removeprefix("http://testserver")).text


def test_the_invitation_opt_out_answers_in_the_invitations_language(client: TestClient) -> None:
    signer = client.app.state.contest.signer  # type: ignore[attr-defined]
    path = f"/invite-optout/{signer.sign(Purpose.INVITE_OPTOUT, 'x' * 64)}?lang=en"
    page = client.get(path)
    assert '<html lang="en">' in page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action and action.group(1).endswith("?lang=en"), "the answer keeps the language"
    assert '<html lang="en">' in client.post(action.group(1).replace("&amp;", "&")).text
