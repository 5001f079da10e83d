"""Entry-time eligibility through HTTP: the demo's client-only contest and the rules engine."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from tests.helpers import enter, form_token, link_in, read_eml, shown


def entries_of(engine: Engine, slug: str) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.text(
                    "SELECT person.email FROM entry JOIN person ON person.id = entry.person_id "
                    "JOIN contest ON contest.id = entry.contest_id WHERE contest.slug = :slug"
                ),
                {"slug": slug},
            ).scalars()
        )


def test_client_only_page_states_the_cutoff(client: TestClient) -> None:
    page = shown(client.get("/c/demo-clients"))
    assert "Réservé aux clients ayant passé commande avant le" in page


def test_long_standing_client_may_enter(client: TestClient, engine: Engine) -> None:
    answer = enter(client, "demo-clients", email="loyal@example.org")
    assert answer.status_code == 303
    assert entries_of(engine, "demo-clients") == ["loyal@example.org"]


def main_of(page: object) -> str:
    text = shown(page)
    return text[text.index("<main") : text.index("</main>")]


def text_of(mail: object) -> str:
    return str(mail.get_body(preferencelist=("plain",)).get_content())  # type: ignore[attr-defined]


def test_client_since_after_the_offer_is_refused_by_mail_and_nothing_is_kept(
    client: TestClient, engine: Engine, sender: object, settings: object
) -> None:
    loyal = client.get(enter(client, "demo-clients", email="loyal@example.org").headers["location"])
    answer = enter(client, "demo-clients", email="recent@example.org")
    assert answer.status_code == 303, "answered as any entry: no stranger learns who is a client"
    page = client.get(answer.headers["location"])
    assert page.status_code == loyal.status_code == 200
    assert main_of(page).replace("r*****@", "l****@") == main_of(loyal)
    assert entries_of(engine, "demo-clients") == ["loyal@example.org"]
    with engine.connect() as connection:
        people = connection.execute(
            sa.text("SELECT count(*) FROM person WHERE email_key = 'recent@example.org'")
        ).scalar_one()
    assert people == 0

    assert sender.run_once() == 2  # type: ignore[attr-defined]
    [mail] = [m for m in read_eml(settings.mail_dir) if m["To"] == "recent@example.org"]  # type: ignore[attr-defined]
    body = text_of(mail)
    assert "Ce jeu est réservé aux personnes déjà clientes avant le" in body
    prospect = "En devenant client, vous pourrez participer à nos jeux réservés aux clients."
    assert body.count(prospect) == 1, "the fixed sentence once, within the reason"
    assert "achat" not in body, "never a call to buy"


def test_unknown_address_is_told_in_its_language(
    client: TestClient, engine: Engine, sender: object, settings: object
) -> None:
    french = enter(client, "demo-clients", email="prospect@example.org")
    english = enter(client, "demo-clients", email="other@example.org", lang="en")
    assert french.status_code == english.status_code == 303
    assert "Check your inbox" in shown(client.get(english.headers["location"]))
    assert sender.run_once() == 2  # type: ignore[attr-defined]
    mails = {m["To"]: text_of(m) for m in read_eml(settings.mail_dir)}  # type: ignore[attr-defined]
    assert "déjà clientes" in mails["prospect@example.org"]
    assert (
        "This contest is reserved to people who were already clients before"
        in mails["other@example.org"]
    )
    assert entries_of(engine, "demo-clients") == []


def test_trying_again_sends_no_second_mail_within_the_hour(
    client: TestClient, sender: object, settings: object
) -> None:
    for _ in range(3):
        assert enter(client, "demo-clients", email="prospect@example.org").status_code == 303
    assert sender.run_once() == 1  # type: ignore[attr-defined]


def test_the_answer_to_htmx_is_the_same_fragment(client: TestClient) -> None:
    def fragment(email: str) -> str:
        token = form_token(client.get("/c/demo-clients").text)
        answer = client.post(
            "/c/demo-clients/entries",
            data={"form_token": token, "email": email, "accept_rules": "on"},
            headers={"HX-Request": "true"},
        )
        assert answer.status_code == 200
        return answer.text

    refused, taken = fragment("recent@example.org"), fragment("loyal@example.org")
    assert refused.lstrip().startswith('<section id="entry"')
    assert refused.replace("r*****@", "l****@") == taken
    again = fragment("loyal@example.org")
    assert again == taken, "an address that already entered is not told apart either"


def test_accepted_rules_version_is_recorded_with_the_entry(
    client: TestClient, engine: Engine
) -> None:
    import re

    rules_page = client.get("/c/demo/rules").text
    shown_version = re.search(r"<code>([0-9a-f]{16})</code>", rules_page).group(1)  # type: ignore[union-attr]
    enter(client, email="ann@example.org")
    with engine.connect() as connection:
        version = connection.execute(
            sa.text("SELECT rules_version FROM entry ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    assert len(version) == 64 and version.startswith(shown_version)


def test_demo_contests_pass_the_configuration_rules(client: TestClient, engine: Engine) -> None:
    from contest.compliance import contest_facts
    from contest.contests import load_contest
    from rules import evaluate_configuration

    with engine.connect() as connection:
        for slug in ("demo", "demo-clients", "demo-closed"):
            contest = load_contest(connection, slug)
            assert contest is not None and contest.offered_at is not None
            verdict = evaluate_configuration(contest_facts(contest), contest.offered_at)
            assert verdict.ok, (slug, verdict.rule_ids)


def test_rules_list_prints_the_catalogue() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "contest.cli", "rules", "list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for rule_id in ("FR-NOPURCHASE-1", "FR-CLIENTS-1", "EU-CONSENT-ACTIVE-1", "US-REG-1"):
        assert rule_id in listing
    assert "Source:" in listing
    french = subprocess.run(
        [sys.executable, "-m", "contest.cli", "rules", "list", "--lang", "fr"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Un jeu ouvert aux prospects ne peut exiger aucun achat ni paiement." in french


def test_a_refused_prospect_may_ask_to_hear_about_client_only_contests(
    client: TestClient, engine: Engine, sender: object, settings: object
) -> None:
    import re

    enter(client, "demo-clients", email="prospect@example.org")
    assert sender.run_once() == 1  # type: ignore[attr-defined]
    [told] = read_eml(settings.mail_dir)  # type: ignore[attr-defined]
    for path in settings.mail_dir.glob("*.eml"):  # type: ignore[attr-defined]
        path.unlink()
    link = link_in(told, r"http://testserver/c/demo-clients/interest\?\S+")
    page = client.get(link.removeprefix("http://testserver")).text
    box = re.search(r'<input id="i-client-contests"[^>]*>', page)
    assert box and "checked" not in box.group(0), "the opt-in is never pre-ticked"
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    declined = client.post("/c/demo-clients/interest", data={"token": token})
    assert "Rien n'a été enregistré" in shown(declined)
    with engine.connect() as connection:
        assert (
            connection.execute(
                sa.text("SELECT count(*) FROM consentrecord WHERE purpose = 'client_contests'")
            ).scalar_one()
            == 0
        )

    accepted = client.post(
        "/c/demo-clients/interest", data={"token": token, "consent_client_contests": "on"}
    )
    assert accepted.status_code == 200 and "Consultez votre boîte mail" in shown(accepted)
    assert sender.run_once() == 1  # type: ignore[attr-defined]
    [mail] = read_eml(settings.mail_dir)  # type: ignore[attr-defined]
    body = link_in(mail, r"http://testserver/c/demo-clients/interest/confirm/\S+")
    assert "200 €" not in mail.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[union-attr,index]
    path = body.removeprefix("http://testserver")
    assert client.get(path).status_code == 200
    assert "Merci" in shown(client.post(path))
    with engine.connect() as connection:
        events = (
            connection.execute(
                sa.text(
                    "SELECT event FROM consentrecord WHERE purpose = 'client_contests' ORDER BY id"
                )
            )
            .scalars()
            .all()
        )
    assert events == ["granted", "confirmed"]
    assert entries_of(engine, "demo-clients") == [], "still no entry"


def test_a_forged_interest_token_is_refused(client: TestClient) -> None:
    answer = client.post(
        "/c/demo-clients/interest", data={"token": "forged", "consent_client_contests": "on"}
    )
    assert answer.status_code == 400


def test_staff_domains_and_the_organizer_contact_are_excluded(
    client: TestClient, engine: Engine
) -> None:
    staff = enter(client, email="marie@laboutiquedemo.fr")
    assert staff.status_code == 403
    assert "laboutiquedemo.fr" in shown(staff)
    contact = enter(client, email="contact@example.org")
    assert contact.status_code == 403
    assert "personnel de l'organisateur" in shown(contact)
    assert entries_of(engine, "demo") == []
    rules_page = shown(client.get("/c/demo/rules"))
    assert "laboutiquedemo.fr" in rules_page


def test_the_cutoff_is_shown_in_the_contest_s_time_zone(client: TestClient, engine: Engine) -> None:
    midnight_in_paris = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.contest)
            .where(tables.contest.c.slug == "demo-clients")
            .values(client_cutoff_at=midnight_in_paris, timezone="Europe/Paris")
        )
    client.app.state.contest.contests.clear()  # type: ignore[attr-defined]
    page = shown(client.get("/c/demo-clients"))
    assert "commande avant le 01/03/2026" in page and "23:00 UTC" not in page
