"""Consent the participant controls: the confirmation e-mail links to their preferences, and
their own page lists each consent with its wording, withdrawn or given again in one click."""

from __future__ import annotations

import re

from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest.clock import FixedClock
from contest.leads.export import export_leads
from contest.mail import Sender
from contest.settings import Settings
from tests.contest.test_consents import demo_organizer, person, state
from tests.helpers import LINKS, enter, link_in, read_eml, shown


def enter_with_offers(client: TestClient, sender: Sender, settings: Settings, email: str) -> str:
    """Enters the demo ticking the offers box, confirms; returns the own page's path."""
    entered = enter(client, email=email, consent_marketing_email="on")
    assert entered.status_code == 303  # type: ignore[attr-defined]
    sender.run_once()
    [mail] = [m for m in read_eml(settings.mail_dir) if m["To"] == email]
    link = link_in(mail, r"http://testserver/c/demo/confirm/\S+").removeprefix("http://testserver")
    own = client.post(link, follow_redirects=False).headers["location"]
    return str(own).removeprefix("http://testserver")


def exported(engine: Engine, clock: FixedClock) -> str:
    chunks = export_leads(
        engine, demo_organizer(engine), contest_slug=None, now=clock.now(), links=LINKS
    )
    return "".join(chunks)


def test_the_confirmation_mail_links_to_the_preferences_only_with_a_marketing_consent(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    enter(client, email="offers@example.net", consent_marketing_email="on")
    enter(client, email="rules-only@example.net")
    sender.run_once()
    mails = {m["To"]: m for m in read_eml(settings.mail_dir)}

    link = link_in(mails["offers@example.net"], r"http://testserver/unsubscribe/\S+")
    page = shown(client.get(link.removeprefix("http://testserver")))
    assert "Offres par e-mail" in page
    body = mails["rules-only@example.net"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "/unsubscribe/" not in body


def test_the_own_page_withdraws_and_gives_again_and_the_export_follows(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    own = enter_with_offers(client, sender, settings, "camille@example.net")
    ann = person(engine, "camille@example.net")
    panel = shown(client.get(own))
    assert "Mes consentements" in panel and "Offres par e-mail" in panel
    assert "vous donne 1 chance de plus, dans la limite de 10" in panel, "singular, not chance(s)"
    assert "Offres par e-mail</strong>&nbsp;: " in client.get(own).text, "French typography"
    assert "donné le" in panel
    assert "camille@example.net" in exported(engine, clock)

    withdrawn = client.post(
        own + "/consents", data={"purpose": "marketing_email", "action": "withdraw"}
    )
    assert withdrawn.status_code == 200 and "retiré le" in shown(withdrawn)
    assert not state(engine, ann.id, "marketing_email").given
    assert "camille@example.net" not in exported(engine, clock)

    wording = re.search(r"“([^”]+)”", shown(withdrawn))
    assert wording, "the sentence given again is shown before the button"
    again = client.post(own + "/consents", data={"purpose": "marketing_email", "action": "give"})
    assert "donné le" in shown(again)
    given = state(engine, ann.id, "marketing_email")
    assert given.confirmed and given.wording == wording.group(1)
    assert "camille@example.net" in exported(engine, clock)
    english = client.get(own + "?lang=en").text
    assert re.search(r"Offers by e-mail</strong>:\s+given on", english)


def test_an_unknown_purpose_or_action_is_refused_and_changes_nothing(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    own = enter_with_offers(client, sender, settings, "dana@example.net")
    dana = person(engine, "dana@example.net")
    for data in (
        {"purpose": "rules", "action": "withdraw"},
        {"purpose": "marketing_email", "action": "delete"},
    ):
        assert client.post(own + "/consents", data=data).status_code == 400
    assert state(engine, dana.id, "marketing_email").confirmed
    assert client.post("/c/demo/me/forged-token/consents", data=data).status_code in (400, 404)


def test_unsubscribing_before_confirming_stays_unsubscribed_once_confirmed(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    """The confirmation e-mail carries both links: following the unsubscribe link and then the
    confirmation link confirms the entry, not the consents taken back in between."""
    enter(client, email="dana@example.net", consent_marketing_email="on")
    sender.run_once()
    [mail] = [m for m in read_eml(settings.mail_dir) if m["To"] == "dana@example.net"]
    unsubscribe = link_in(mail, r"http://testserver/unsubscribe/\S+")
    assert client.post(unsubscribe.removeprefix("http://testserver")).status_code == 200
    dana = person(engine, "dana@example.net")
    assert not state(engine, dana.id, "marketing_email").granted

    confirm = link_in(mail, r"http://testserver/c/demo/confirm/\S+")
    own = client.post(confirm.removeprefix("http://testserver"), follow_redirects=False)
    assert own.status_code == 303
    panel = shown(client.get(own.headers["location"].removeprefix("http://testserver")))
    assert "Vous participez" in panel and "retiré le" in panel and "donné le" not in panel
    assert not state(engine, dana.id, "marketing_email").granted
    assert "dana@example.net" not in exported(engine, clock)

    # Given again afterwards, from the own page, it counts at once (the entry is confirmed).
    client.post(
        own.headers["location"].removeprefix("http://testserver") + "/consents",
        data={"purpose": "marketing_email", "action": "give"},
    )
    assert state(engine, dana.id, "marketing_email").confirmed


def test_a_french_contest_writes_in_french_beside_the_language_chosen(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    """FR-LANG-1: the demo is aimed at France. Someone entering in English reads the
    confirmation in English, with the French version alongside; in French, French only."""
    enter(client, email="eve@example.net", lang="en")
    enter(client, email="zoe@example.net")
    sender.run_once()
    mails = {m["To"]: m for m in read_eml(settings.mail_dir)}
    english = mails["eve@example.net"]
    assert english["Subject"] == (
        "Confirm your entry: Win €500 of vouchers at La Boutique Démo"
        " / Confirmez votre participation : Gagnez 500 € de bons d'achat chez La Boutique Démo"
    )
    text = english.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.index("To confirm your entry") < text.index("---------- En français")
    assert text.index("En français") < text.index("Pour confirmer votre participation")
    html = english.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert html.count("<body") == 1 and '<div lang="fr">' in html
    assert html.index('<div lang="fr">') < html.index("Pour confirmer votre participation")
    french = mails["zoe@example.net"]
    assert " / " not in french["Subject"]
    assert "En français" not in french.get_body(("plain",)).get_content()  # type: ignore[union-attr]
