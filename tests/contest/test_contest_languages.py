"""A contest's texts in each of its languages: the visitor reads the title, the prizes, the
rules and the e-mails in their own language, and the organizer is warned of a missing text."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from contest.demo import demo_password
from contest.mail import Sender
from contest.settings import Settings
from tests.contest.test_api import CONTEST
from tests.helpers import enter, read_eml, shown, sign_in

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}


def test_an_english_visitor_reads_the_contest_prizes_and_rules_in_english(
    client: TestClient,
) -> None:
    english = shown(client.get("/c/demo", headers=ENGLISH))
    assert "Win €500 of vouchers at La Boutique Démo" in english
    assert "€300 voucher for La Boutique Démo" in english
    assert "Gagnez 500 €" not in english and "Bon d'achat de 300 €" not in english

    french = shown(client.get("/c/demo", headers=FRENCH))
    assert "Gagnez 500 € de bons d'achat" in french and "Bon d'achat de 300 €" in french

    rules = shown(client.get("/c/demo/rules?lang=en"))
    assert "A verifiable random draw (seed committed at publication)." in rules
    assert "processes your data to run the contest" in rules


def test_each_language_has_its_own_preview_card_and_address(client: TestClient) -> None:
    page = client.get("/c/demo?lang=en").text
    assert '<meta property="og:title" content="Win €500 of vouchers at La Boutique Démo">' in page
    assert 'hreflang="fr" href="http://testserver/c/demo?lang=fr"' in page
    assert 'hreflang="x-default" href="http://testserver/c/demo"' in page
    card = re.search(r'<meta property="og:image" content="http://testserver([^"]+)"', page)
    assert card and card.group(1) == "/c/demo/card.png?lang=en"
    english, french = client.get(card.group(1)), client.get("/c/demo/card.png")
    assert english.headers["content-type"] == "image/png" == french.headers["content-type"]
    assert english.content != french.content, "the card is drawn with the English title"


def test_each_address_is_its_own_canonical_whatever_language_it_answers_in(
    client: TestClient,
) -> None:
    """The bare address picks its language from the visitor (it is the x-default): pointing
    its canonical at one language's address would tell search engines it is that page."""

    def canonical(path: str, headers: dict[str, str]) -> str:
        found = re.search(
            r'<link rel="canonical" href="([^"]+)">', client.get(path, headers=headers).text
        )
        assert found, path
        return found.group(1)

    client.cookies.clear()
    assert canonical("/c/demo", ENGLISH) == "http://testserver/c/demo"
    assert canonical("/c/demo", FRENCH) == "http://testserver/c/demo"
    assert canonical("/c/demo?lang=en", FRENCH) == "http://testserver/c/demo?lang=en"
    assert canonical("/c/demo?lang=fr", ENGLISH) == "http://testserver/c/demo?lang=fr"


def test_the_confirmation_mail_speaks_the_entrants_language(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    client.get("/c/demo?lang=en")  # the switcher's link: remembered for the entry
    assert enter(client, email="reader@example.net").status_code == 303
    sender.run_once()
    mail = next(m for m in read_eml(settings.mail_dir) if m["To"] == "reader@example.net")
    assert "Win €500 of vouchers" in str(mail["Subject"])


def test_a_missing_translation_is_warned_of_and_a_complete_one_is_not(
    client: TestClient, bearer: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/contests", json={**CONTEST, "requires_purchase": False}, headers=bearer
    ).json()
    warning = next(
        f for f in created["compliance"]["findings"] if f["rule_id"] == "LANG-COMPLETE-1"
    )
    assert warning["severity"] == "warn"
    assert "English version is incomplete" in warning["message_en"]
    assert warning["field"] == "title_translation"

    translated = {
        "title_translation": "API contest",
        "draw_method_translation": "A verifiable draw.",
        "winner_notification_translation": "by e-mail",
        "privacy_notice_translation": "La Boutique Démo processes your data for the contest.",
        "prizes": [{**CONTEST["prizes"][0], "description_translation": "€50 voucher"}],  # type: ignore[index]
    }
    path = f"/api/v1/contests/{created['id']}"
    answer = client.patch(path, json=translated, headers=bearer).json()
    assert "LANG-COMPLETE-1" not in {f["rule_id"] for f in answer["compliance"]["findings"]}
    assert answer["prizes"][0]["description_translation"] == "€50 voucher"
    assert client.post(path + "/publish", headers=bearer).status_code == 200
    assert "€50 voucher" in shown(client.get("/c/api-contest", headers=ENGLISH))


def test_the_contest_form_and_campaign_form_render_in_both_languages(
    client: TestClient, settings: Settings
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    for language in ("fr", "en"):
        client.get(f"/admin/lang/{language}")
        for path in ("/admin/contests/new", "/admin/campaigns/new", "/admin/campaigns"):
            page = client.get(path)
            assert page.status_code == 200 and f'<html lang="{language}">' in page.text, path
