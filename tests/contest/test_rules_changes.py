"""A published contest's rules change in the open (ALL-RULES-LOCK-1): what would work against
participants is refused (a prize's description, an earlier draw, another way of telling
winners, a new partner), an allowed change is public with its reason beside every earlier
version, and entrants who confirmed under an earlier version are told by e-mail, once. And a
text that tells visitors they have won never publishes (EU-PRIZE-AWARD-1)."""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import reminders, tables
from contest.app import create_app
from contest.clock import FixedClock
from contest.mail import Sender
from contest.settings import Settings
from tests.contest.test_organization import EMAIL, PASSWORD, create_organizer
from tests.contest.test_self_service import IDENTITY, contest_body, enter_and_confirm
from tests.helpers import enter, link_in, read_eml, shown, token_via_workspace

PARTNERS = {
    "partners_label_fr": "Je veux les offres de nos partenaires.",
    "partners_label_en": "I want our partners' offers.",
    "partners": ["Atelier Partenaire SAS"],
}


@pytest.fixture
def api(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, engine: Engine, clock: FixedClock
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app on an empty database, and an organizer's API token."""
    assert create_organizer(monkeypatch, settings) == 0
    app = create_app(settings, engine=engine, send_mail=False, clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        headers = {"Authorization": f"Bearer {token_via_workspace(client, EMAIL, PASSWORD)}"}
        assert client.patch("/api/v1/organization", json=IDENTITY, headers=headers).is_success
        yield client, headers


def published(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    created = client.post("/api/v1/contests", json=body, headers=headers)
    assert created.status_code == 201, created.text
    path = f"/api/v1/contests/{created.json()['id']}"
    assert client.post(path + "/publish", headers=headers).status_code == 200
    return path


def refused_by_the_lock(answer: Any) -> bool:
    return answer.status_code == 422 and "ALL-RULES-LOCK-1" in answer.text


@pytest.mark.rule("ALL-RULES-LOCK-1")
def test_a_prize_description_an_earlier_draw_the_winners_notice_or_a_partner_are_locked(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    body = contest_body(clock) | PARTNERS
    path = published(client, headers, body)

    def change(**fields: Any) -> Any:
        return client.patch(path, json=fields | {"reason": "a change"}, headers=headers)

    same_value = [dict(body["prizes"][0], description="Un porte-clés")]  # type: ignore[index]
    assert refused_by_the_lock(change(prizes=same_value))
    earlier = (clock.now() + timedelta(days=7, hours=12)).strftime("%Y-%m-%dT%H:%M")
    assert refused_by_the_lock(change(draw_at=earlier))
    assert refused_by_the_lock(change(winner_notification="sur Instagram uniquement"))
    assert refused_by_the_lock(change(partners=["Atelier Partenaire SAS", "Data Broker Ltd"]))
    rules = client.get("/c/summer/rules?lang=en").text
    assert "Un porte-clés" not in rules and "Instagram" not in rules
    assert "versions" not in client.get("/c/summer/rules").text.split("Rules version")[-1]


def test_dates_with_seconds_survive_a_change_of_something_else(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    body = contest_body(clock)
    body["closes_at"] = str(body["closes_at"]) + ":30"
    body["draw_at"] = str(body["draw_at"]) + ":45.250000"
    path = published(client, headers, body)
    changed = client.patch(
        path, json={"description": "Now with a description.", "reason": "typo"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["closes_at"].endswith(":30+00:00")


@pytest.mark.rule("ALL-RULES-LOCK-1")
def test_an_allowed_change_is_published_with_its_reason_and_told_to_earlier_entrants_once(
    api: tuple[TestClient, dict[str, str]],
    clock: FixedClock,
    engine: Engine,
    sender: Sender,
    settings: Settings,
) -> None:
    client, headers = api
    body = contest_body(clock)
    path = published(client, headers, body)
    enter_and_confirm(client, sender, settings, "ann@example.org")

    clock.advance(timedelta(hours=2))
    later = (clock.now() + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")
    reason = "Prolongé d’une semaine à la demande de nos clients."
    extended = client.patch(
        path, json={"closes_at": later, "draw_at": later, "reason": reason}, headers=headers
    )
    assert extended.status_code == 200, extended.text
    clock.advance(timedelta(minutes=1))
    enter_and_confirm(client, sender, settings, "bob@example.org")  # under the new version

    rules = client.get("/c/summer/rules?lang=en")
    assert "Changed since publication (1 change)" in rules.text
    versions = client.get("/c/summer/rules/versions?lang=en")
    assert versions.status_code == 200
    assert "Version 2" in versions.text and "Version 1" in versions.text
    assert reason in versions.text and "(in force)" in versions.text

    clock.advance(timedelta(minutes=1))
    assert reminders.tell_rules_changes(engine, clock.now()) == 1
    assert reminders.tell_rules_changes(engine, clock.now()) == 0
    sender.run_once()
    notices = [m for m in read_eml(settings.mail_dir) if "a changé" in m["Subject"]]
    assert [m["To"] for m in notices] == ["ann@example.org"]
    assert reason in notices[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = link_in(notices[0], r"http://testserver/c/summer/rules/versions\S*")
    assert client.get(link.removeprefix("http://testserver")).status_code == 200


@pytest.mark.rule("EU-PRIZE-AWARD-1")
@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("description", "Félicitations, vous avez gagné !"),
        ("title", "Vous avez remporté un bon de 50 €"),
        ("description_translation", "Congratulations, you're a winner!"),
    ],
)
def test_a_text_that_says_you_have_won_does_not_publish(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock, field: str, text: str
) -> None:
    client, headers = api
    created = client.post(
        "/api/v1/contests", json=contest_body(clock) | {field: text}, headers=headers
    )
    assert created.status_code == 201, created.text
    refused = client.post(f"/api/v1/contests/{created.json()['id']}/publish", headers=headers)
    assert refused.status_code == 422 and "EU-PRIZE-AWARD-1" in refused.text
    assert field in refused.text


@pytest.mark.rule("FR-MINORS-1")
def test_children_cannot_tick_the_offers_box_below_the_territory_s_consent_age(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api

    def publish(**fields: Any) -> Any:
        created = client.post(
            "/api/v1/contests", json=contest_body(clock) | fields, headers=headers
        )
        assert created.status_code == 201, created.text
        return client.post(f"/api/v1/contests/{created.json()['id']}/publish", headers=headers)

    # No date of birth asked: nobody can tell who may tick the box (FR 15, DE 16).
    for jurisdiction, age, consent_age in (("FR", 13, 15), ("DE", 15, 16)):
        refused = publish(slug=f"young-{jurisdiction.lower()}", jurisdictions=[jurisdiction],
                          min_age=age)  # fmt: skip
        assert refused.status_code == 422 and "FR-MINORS-1" in refused.text, refused.text
        assert f"Raise the minimum age to {consent_age}" in refused.text
    assert publish(slug="fr-fifteen", min_age=15).status_code == 200

    # The date of birth asked: a 14-year-old enters, but without the offers box.
    assert publish(min_age=13, form_fields=["first_name", "birth_date"]).status_code == 200
    fourteen = clock.now().date().replace(year=clock.now().year - 14).isoformat()
    ticked = enter(client, "summer", email="kid@example.org", birth_date=fourteen,
                   consent_marketing_email="on")  # fmt: skip
    assert ticked.status_code == 403  # type: ignore[attr-defined]
    assert "décochez ces cases pour participer" in shown(ticked)
    unticked = enter(client, "summer", email="kid@example.org", birth_date=fourteen)
    assert unticked.status_code == 303  # type: ignore[attr-defined]


@pytest.mark.rule("US-REG-1")
def test_us_thresholds_read_dollars_and_new_york_and_florida_can_be_left_out(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    prize = dict(contest_body(clock)["prizes"][0], unit_value="4999", currency="KWD")  # type: ignore[index]
    body = contest_body(clock) | {"jurisdictions": ["US"], "prizes": [prize]}
    created = client.post("/api/v1/contests", json=body, headers=headers)
    assert created.status_code == 201, created.text
    path = f"/api/v1/contests/{created.json()['id']}"

    def us_reg() -> list[dict[str, Any]]:
        findings = client.get(path, headers=headers).json()["compliance"]["findings"]
        return [f for f in findings if f["rule_id"] == "US-REG-1"]

    [undeclared] = us_reg()  # 4,999 KWD was counted as $4,999 before
    assert undeclared["field"] == "prizes_value_usd" and "KWD" in undeclared["message_en"]
    client.patch(path, json={"prizes_value_usd": "16000"}, headers=headers)
    [registration] = us_reg()
    assert registration["field"] == "us_registration_filed"
    left_out = client.patch(path, json={"us_states_excluded": ["NY", "FL"]}, headers=headers)
    assert left_out.status_code == 200 and us_reg() == []
    unknown = client.patch(path, json={"us_states_excluded": ["NY", "XX"]}, headers=headers)
    assert unknown.status_code == 422 and "us_states_excluded" in unknown.text


@pytest.mark.rule("EU-REFER-NOSEND-1")
def test_an_eu_invitations_override_needs_a_real_reason_and_is_audited(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock, engine: Engine
) -> None:
    client, headers = api
    body = contest_body(clock) | {"platform_invitations": True}
    created = client.post(
        "/api/v1/contests", json=body | {"invitations_override_reason": "ok"}, headers=headers
    )
    path = f"/api/v1/contests/{created.json()['id']}"
    refused = client.post(path + "/publish", headers=headers)
    assert refused.status_code == 422 and "EU-REFER-NOSEND-1" in refused.text

    reason = "Avis de notre avocat du 2 décembre : invitations à des proches seulement."
    client.patch(path, json={"invitations_override_reason": reason}, headers=headers)
    assert client.post(path + "/publish", headers=headers).status_code == 200
    with engine.connect() as connection:
        logged = connection.execute(
            sa.select(tables.auditevent.c.detail).where(
                tables.auditevent.c.action == "contest.invitations_override"
            )
        ).scalar_one()
    assert logged == {"rule": "EU-REFER-NOSEND-1", "reason": reason}


@pytest.mark.rule("FR-LANG-1")
def test_a_french_contest_written_in_english_only_does_not_publish(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    english = contest_body(clock) | {"language": "en", "title": "Summer vouchers"}
    created = client.post("/api/v1/contests", json=english, headers=headers)
    path = f"/api/v1/contests/{created.json()['id']}"
    refused = client.post(path + "/publish", headers=headers)
    assert refused.status_code == 422 and "FR-LANG-1" in refused.text
    [incomplete] = [
        f for f in created.json()["compliance"]["findings"] if f["rule_id"] == "LANG-COMPLETE-1"
    ]
    assert "fill in the fields of the “Second language” section" in incomplete["message_en"]
    assert "« Seconde langue »" in incomplete["message_fr"], "what to do, in the warning"

    prize = dict(english["prizes"][0], description_translation="Bon d'achat de 50 €")  # type: ignore[index]
    french = {
        "title_translation": "Les bons de l'été",
        "draw_method_translation": "Tirage au sort vérifiable.",
        "winner_notification_translation": "par e-mail",
        "privacy_notice_translation": "La Boutique traite vos données pour le jeu.",
        "prizes": [prize],
    }
    assert client.patch(path, json=french, headers=headers).status_code == 200
    assert client.post(path + "/publish", headers=headers).status_code == 200


@pytest.mark.rule("EU-CONSENT-SPECIFIC-1")
def test_the_partners_box_names_each_partner_on_the_form_and_in_the_rules(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    partners = PARTNERS | {"partners": ["Atelier Partenaire SAS", "Maison Voisine SARL"]}
    published(client, headers, contest_body(clock) | partners)
    page = client.get("/c/summer?lang=en").text
    assert 'aria-describedby="c-partners-named"' in page
    assert "The partners: Atelier Partenaire SAS, Maison Voisine SARL." in page
    rules = client.get("/c/summer/rules?lang=en").text
    assert "shared with these partners only, for their offers: Atelier Partenaire SAS" in rules


@pytest.mark.rule("US-GEO-1")
def test_a_us_contest_asks_the_state_and_keeps_out_the_excluded_ones(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    prize = dict(contest_body(clock)["prizes"][0], currency="USD")  # type: ignore[index]
    body = contest_body(clock) | {
        "jurisdictions": ["US"],
        "prizes": [prize],
        "us_states_excluded": ["NY", "FL", "RI"],
    }
    published(client, headers, body)
    page = client.get("/c/summer?lang=en").text
    assert '<select id="f-region" name="region" autocomplete="address-level1" required' in page
    assert "21 in Mississippi" in page

    nowhere = enter(client, "summer", email="ann@example.org", region="")
    assert nowhere.status_code == 422  # type: ignore[attr-defined]
    assert "state of residence" in shown(nowhere).lower() or "État" in shown(nowhere)
    made_up = enter(client, "summer", email="ann@example.org", region="ZZ")
    assert made_up.status_code == 422  # type: ignore[attr-defined]
    excluded = enter(client, "summer", email="ann@example.org", region="NY")
    assert excluded.status_code == 403  # type: ignore[attr-defined]
    assert "NY" in shown(excluded)
    assert enter(client, "summer", email="ann@example.org", region="TX").status_code == 303  # type: ignore[attr-defined]


def test_a_contest_outside_the_us_never_asks_the_state(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    published(client, headers, contest_body(clock))
    assert 'name="region"' not in client.get("/c/summer").text
    sneaked = enter(client, "summer", email="ann@example.org", region="TX")
    assert sneaked.status_code == 422  # type: ignore[attr-defined]


def test_the_deposit_is_printed_and_the_rules_text_hashes_to_its_version(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock, engine: Engine
) -> None:
    client, headers = api
    deposit = {
        "deposit_officer": "Me Claire Martin, commissaire de justice, 3 rue du Bac, Paris",
        "deposit_reference": "DEP-2026-0042",
        "deposit_at": (clock.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    published(client, headers, contest_body(clock) | deposit)
    rules = client.get("/c/summer/rules?lang=en").text
    assert "These rules were deposited with Me Claire Martin" in rules
    assert "Reference: DEP-2026-0042." in rules and "Date of deposit:" in rules

    text = client.get("/c/summer/rules.txt")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    digest = hashlib.sha256(text.content).hexdigest()
    assert text.headers["x-rules-version"] == digest and f"<code>{digest[:16]}</code>" in rules
    with engine.connect() as connection:
        stored = connection.execute(sa.select(tables.rulesversion.c.version)).scalar_one()
    assert stored == digest
    assert "Me Claire Martin" in text.text


def test_the_ledger_keeps_the_partners_named_beside_the_box(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock, engine: Engine
) -> None:
    client, headers = api
    published(client, headers, contest_body(clock) | PARTNERS)
    entered = enter(client, "summer", email="ann@example.org", consent_partners="on")
    assert entered.status_code == 303  # type: ignore[attr-defined]
    with engine.connect() as connection:
        wording = connection.execute(
            sa.select(tables.consentrecord.c.wording).where(
                tables.consentrecord.c.purpose == "partners"
            )
        ).scalar_one()
    assert wording.endswith("Les partenaires : Atelier Partenaire SAS.")


@pytest.mark.rule("FR-COSTS-1", "FR-NOPURCHASE-1")
def test_paid_ways_to_enter_are_named_and_refused(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    created = client.post(
        "/api/v1/contests",
        json=contest_body(clock) | {"entry_channels": ["web", "sms_premium"]},
        headers=headers,
    )
    path = f"/api/v1/contests/{created.json()['id']}"
    refused = client.post(path + "/publish", headers=headers)
    assert refused.status_code == 422 and "FR-COSTS-1" in refused.text
    assert "FR-NOPURCHASE-1" in refused.text
    unknown = client.patch(path, json={"entry_channels": ["web", "audiotel_0899"]}, headers=headers)
    assert unknown.status_code == 422 and "entry_channels" in unknown.text
    free = client.patch(path, json={"entry_channels": ["web", "post"]}, headers=headers)
    assert free.status_code == 200
    assert client.post(path + "/publish", headers=headers).status_code == 200


@pytest.mark.rule("EU-CONSENT-SPECIFIC-1")
def test_each_partner_gets_its_own_file_of_the_people_who_agreed_to_it_by_name(
    api: tuple[TestClient, dict[str, str]],
    clock: FixedClock,
    engine: Engine,
    sender: Sender,
    settings: Settings,
) -> None:
    client, headers = api
    partners = PARTNERS | {"partners": ["Atelier Partenaire SAS", "Maison Voisine SARL"]}
    published(client, headers, contest_body(clock) | partners)
    enter_and_confirm(client, sender, settings, "ann@example.org", consent_partners="on")
    enter_and_confirm(client, sender, settings, "bob@example.org")  # the box left unticked

    def export(**params: str) -> Any:
        query = {"contest": "summer", "purpose": "partners"} | params
        return client.get("/api/v1/leads.csv", params=query, headers=headers)

    for unnamed in ({}, {"partner": "Data Broker Ltd"}):
        refused = export(**unnamed)
        assert refused.status_code == 422
        assert "Atelier Partenaire SAS, Maison Voisine SARL" in refused.text
    for partner in ("Atelier Partenaire SAS", "Maison Voisine SARL"):
        sent = export(partner=partner)
        assert sent.status_code == 200, sent.text
        lines = sent.text.splitlines()
        assert f"for the partner {partner}:" in lines[0]
        assert [line.split(",")[0] for line in lines[2:]] == ["ann@example.org"]
    with engine.connect() as connection:
        logged = connection.execute(
            sa.select(tables.auditevent.c.detail)
            .where(tables.auditevent.c.action == "leads.exported")
            .order_by(tables.auditevent.c.id)
        ).scalars()
        assert [detail["partner"] for detail in logged] == [
            "Atelier Partenaire SAS",
            "Maison Voisine SARL",
        ]


def pdf_text(pdf: bytes) -> str:
    """The text drawn in a PDF's pages (their streams inflated), as the standard fonts encode
    it: enough to find a sentence that fits on one line."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    return "".join(zlib.decompress(s).decode("cp1252", "replace") for s in streams)


def test_the_rules_pdf_is_kept_byte_for_byte_with_each_version_and_its_hash_shown(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    path = published(client, headers, contest_body(clock))
    first = client.get("/c/summer/rules.pdf")
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF-")
    digest = hashlib.sha256(first.content).hexdigest()
    assert digest in client.get("/c/summer/rules?lang=en").text
    drawn = pdf_text(first.content)
    assert "Summer vouchers" in drawn and "Bon d'achat de 50" in drawn
    assert client.get("/c/summer/rules.pdf").content == first.content

    clock.advance(timedelta(hours=1))
    later = (clock.now() + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")
    changed = client.patch(
        path, json={"closes_at": later, "draw_at": later, "reason": "Prolongé."}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    in_force = client.get("/c/summer/rules.pdf").content
    assert in_force != first.content
    assert client.get("/c/summer/rules/versions/1.pdf").content == first.content
    assert client.get("/c/summer/rules/versions/2.pdf").content == in_force
    assert client.get("/c/summer/rules/versions/3.pdf").status_code == 404
    versions = client.get("/c/summer/rules/versions?lang=en").text
    assert digest in versions and hashlib.sha256(in_force).hexdigest() in versions


def test_each_language_of_the_rules_pdf_is_headed_by_the_title_in_that_language(
    client: TestClient,
) -> None:
    drawn = pdf_text(client.get("/c/demo/rules.pdf").content)
    english = drawn[drawn.index("Official rules:") :]
    assert english.startswith("Official rules: Win €500 of vouchers at La Boutique Démo")
    assert "Gagnez" in drawn[: drawn.index("Official rules:")], "the French half keeps its own"


def test_a_legal_name_that_ends_with_its_form_is_not_followed_by_it_again(
    engine: Engine, demo: None
) -> None:
    import dataclasses

    from contest.contests import ContestCache
    from contest.officialrules import rules_text

    demo = ContestCache(engine).get("demo")
    assert demo is not None
    named = dataclasses.replace(
        demo, organizer_name="Boutique Newbie SAS", organizer_legal_form="SAS"
    )
    text = rules_text(named)
    assert "Boutique Newbie SAS" in text and "SAS SAS" not in text
    apart = rules_text(dataclasses.replace(named, organizer_name="Boutique Newbie"))
    assert "Boutique Newbie SAS" in apart
    kansas = rules_text(dataclasses.replace(named, organizer_name="Boutique Kansas"))
    assert "Boutique Kansas SAS" in kansas, "a name merely ending in the letters keeps its form"


def test_a_published_contest_announced_at_a_microsecond_is_changed_through_the_api(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock, engine: Engine
) -> None:
    """Publishing with the real clock stores its announcement with microseconds; a change
    sent through the API (its dates read back to the millisecond) keeps it."""
    client, headers = api
    path = published(client, headers, contest_body(clock))
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.contest)
            .where(tables.contest.c.slug == "summer")
            .values(offered_at=clock.now().replace(microsecond=370549) - timedelta(hours=1))
        )
    later = (clock.now() + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")
    changed = client.patch(
        path, json={"closes_at": later, "draw_at": later, "reason": "Prolongé."}, headers=headers
    )
    assert changed.status_code == 200, changed.text
