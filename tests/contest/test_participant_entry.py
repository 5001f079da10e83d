"""A participant's first entry, from the contest page to their own page, on both databases."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import sqlalchemy as sa
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest.clock import FixedClock
from contest.mail import Sender
from contest.settings import Settings
from contest.templating import Templates
from tests.helpers import enter, form_token, link_in, read_eml, shown

DEMO_ENTRIES = (
    "SELECT id FROM entry WHERE contest_id = (SELECT id FROM contest WHERE slug = 'demo')"
)
DEMO_ONLY = f"entry_id IN ({DEMO_ENTRIES})"
TEMPLATES = Templates()


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_contest_page_shows_prizes_dates_free_entry_and_rules_link(client: TestClient) -> None:
    page = client.get("/c/demo")
    assert page.status_code == 200
    assert "Gagnez 500 € de bons d'achat" in shown(page)
    assert "Jeu gratuit sans obligation d'achat" in shown(page)
    assert 'href="/c/demo/rules?lang=fr"' in page.text
    assert "300,00" in shown(page) and "Du " in shown(page)


def test_marketing_boxes_are_never_pre_ticked(client: TestClient) -> None:
    page = client.get("/c/demo").text
    boxes = re.findall(r"<input[^>]+type=\"checkbox\"[^>]*>", page)
    assert len(boxes) == 3  # rules + organizer e-mails + partner
    assert not any("checked" in box for box in boxes)


def test_entry_confirmed_from_the_email_link_leads_to_the_own_page(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    answer = enter(client, email="ann@example.org")
    assert answer.status_code == 303
    inbox = client.get(answer.headers["location"])
    assert "Consultez votre boîte mail" in shown(inbox)
    assert "a**@example.org" in shown(inbox)

    assert sender.run_once() == 1
    [mail] = read_eml(settings.mail_dir)
    assert mail["To"] == "ann@example.org"
    assert "Confirmez votre participation" in mail["Subject"]
    link = link_in(mail, r"http://testserver/c/demo/confirm/\S+")

    button = client.get(link.removeprefix("http://testserver"))
    assert button.status_code == 200 and "Confirmer ma participation" in shown(button)
    with engine.connect() as connection:
        status = connection.execute(
            sa.text(DEMO_ENTRIES.replace("SELECT id", "SELECT status", 1))
        ).scalar_one()
    assert status == "pending", "following the link alone (a mail scanner) does not confirm"

    confirmed = client.post(link.removeprefix("http://testserver"), follow_redirects=False)
    assert confirmed.status_code == 303
    own = client.get(confirmed.headers["location"])
    assert own.status_code == 200
    assert 'data-chances="1"' in own.text and 'data-referrals="0"' in own.text
    assert "Vous participez" in shown(own)
    with engine.connect() as connection:
        events = connection.execute(
            sa.text(f"SELECT purpose, event FROM consentrecord WHERE {DEMO_ONLY} ORDER BY id")
        ).all()
    assert [tuple(e) for e in events] == [("rules", "granted"), ("rules", "confirmed")]


def test_htmx_entry_swaps_the_check_your_inbox_fragment(client: TestClient) -> None:
    page = client.get("/c/demo")
    answer = client.post(
        "/c/demo/entries",
        data={
            "form_token": form_token(page.text),
            "email": "bob@example.org",
            "first_name": "Bob",
            "accept_rules": "on",
        },
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="entry"')
    assert "<html" not in answer.text
    assert answer.headers["vary"] == "HX-Request, Cookie, Accept-Language"
    assert "Nous avons envoyé un e-mail à b**@example.org." in shown(answer)

    english = client.post(
        "/c/demo/entries?lang=en",
        data={
            "form_token": form_token(client.get("/c/demo?lang=en").text),
            "email": "o'hara@example.org",
            "first_name": "Kim",
            "accept_rules": "on",
        },
        headers={"HX-Request": "true"},
    )
    assert english.status_code == 200
    assert "We sent an e-mail to o*****@example.org." in shown(english)
    assert "Nous avons" not in english.text


@examples(max_examples=200, deadline=None)
@given(value=st.text(min_size=0, max_size=40), language=st.sampled_from(["fr", "en"]))
def test_the_prerendered_check_your_inbox_fragment_is_the_rendered_one(
    value: str, language: str
) -> None:
    """The entry's answer is filled into a fragment rendered once: the same bytes as a
    render, whatever the masked address holds (markup, the marker itself, nothing)."""
    fragment = "participant/_entered.html"
    for shown_value in (value, f"\x1emasked\x1e{value}", f"<b>{value}&"):
        filled = TEMPLATES.render_filled(language, fragment, "masked", shown_value)
        assert filled == TEMPLATES.render(language, fragment, masked=shown_value)


def test_only_ticked_consents_are_recorded(client: TestClient, engine: Engine) -> None:
    enter(client, email="carol@example.org", consent_marketing_email="on")
    with engine.connect() as connection:
        purposes = (
            connection.execute(
                sa.text(f"SELECT purpose FROM consentrecord WHERE {DEMO_ONLY} ORDER BY id")
            )
            .scalars()
            .all()
        )
        wording = connection.execute(
            sa.text("SELECT wording FROM consentrecord WHERE purpose = 'marketing_email'")
        ).scalar_one()
    assert purposes == ["rules", "marketing_email"]
    assert "offres de La Boutique Démo" in wording


def test_invalid_email_is_shown_next_to_the_field_and_nothing_is_stored(
    client: TestClient, engine: Engine
) -> None:
    answer = enter(client, email="ann@", accept_rules="")
    assert answer.status_code == 422
    assert 'aria-describedby="e-email"' in answer.text
    assert "Cette adresse e-mail semble incorrecte" in shown(answer)
    assert "Veuillez accepter le règlement" in shown(answer)
    assert 'value="ann@"' in answer.text, "the form keeps what was typed"
    assert count(engine, "entry") == 20 and count(engine, "person") == 20, "only the demo's"


def test_missing_email_and_overlong_or_control_characters_are_refused(
    client: TestClient, engine: Engine
) -> None:
    assert enter(client, email="").status_code == 422
    too_long = enter(client, email="ann@example.org", first_name="A" * 101)
    assert too_long.status_code == 422 and "trop long" in shown(too_long)
    control = enter(client, email="ann@example.org", first_name="Ann\x00\x07")
    assert control.status_code == 422 and "caractères non autorisés" in shown(control)
    assert count(engine, "entry") == 20


def test_non_utf8_body_and_wrong_content_type_are_refused(client: TestClient) -> None:
    token = form_token(client.get("/c/demo").text)
    body = f"form_token={token}&email=%FF%FE@example.org&accept_rules=on".encode()
    answer = client.post(
        "/c/demo/entries",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 400
    assert "Le formulaire n'a pas pu être lu" in shown(answer)
    json = client.post("/c/demo/entries", json={"email": "a@example.org"})
    assert json.status_code == 415


def test_body_over_one_megabyte_is_refused_with_413(client: TestClient, engine: Engine) -> None:
    answer = client.post(
        "/c/demo/entries",
        content=b"email=" + b"a" * (1024 * 1024 + 10),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    assert count(engine, "entry") == 20


def test_a_streamed_body_over_one_megabyte_is_refused_with_413(
    client: TestClient, engine: Engine
) -> None:
    """Sent in chunks, with no length declared: counted as it arrives."""
    chunks = [b"email=", *([b"a" * 65536] * 17)]
    answer = client.post(
        "/c/demo/entries",
        content=iter(chunks),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    assert "1 MB" in answer.text
    assert count(engine, "entry") == 20


def test_a_field_sent_twice_is_refused(client: TestClient, engine: Engine) -> None:
    token = form_token(client.get("/c/demo").text)
    body = (
        f"form_token={token}&email=a%40example.org&email=b%40example.org&first_name=A"
        "&accept_rules=on"
    )
    answer = client.post(
        "/c/demo/entries",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 422
    assert count(engine, "entry") == 20


def test_form_without_a_valid_form_token_is_refused_and_kept(client: TestClient) -> None:
    answer = client.post(
        "/c/demo/entries",
        data={"email": "ann@example.org", "first_name": "Ann", "accept_rules": "on"},
    )
    assert answer.status_code == 400
    assert "Ce formulaire a expiré" in shown(answer)
    assert 'value="ann@example.org"' in answer.text


def test_unknown_contest_is_a_404_page(client: TestClient) -> None:
    answer = client.get("/c/no-such-contest")
    assert answer.status_code == 404
    assert "Il n'y a pas de jeu à cette adresse" in shown(answer)


def test_closed_contest_says_so_with_its_dates_and_refuses_entries(
    client: TestClient, engine: Engine
) -> None:
    page = client.get("/c/demo-closed")
    assert page.status_code == 200
    assert "Ce jeu est terminé" in shown(page) and "closes depuis le" in shown(page)
    assert 'name="form_token"' not in page.text
    before = count(engine, "entry")
    token = form_token(client.get("/c/demo").text)  # a token from another contest
    answer = client.post(
        "/c/demo-closed/entries",
        data={"form_token": token, "email": "late@example.org", "accept_rules": "on"},
    )
    assert answer.status_code == 400
    assert count(engine, "entry") == before


def test_contest_not_yet_open_shows_its_opening_date(client: TestClient, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE contest SET opens_at = :t WHERE slug = 'demo'"),
            {"t": "2099-01-01 09:00:00"},
        )
    page = client.get("/c/demo?lang=en")
    assert "This contest opens on 1 January 2099" in shown(page)
    assert 'name="form_token"' not in page.text


def test_same_person_with_other_case_and_spacing_enters_once(
    client: TestClient, engine: Engine, sender: Sender, settings: Settings, clock: FixedClock
) -> None:
    assert enter(client, email="Dan+promo@Example.org").status_code == 303
    again = enter(client, email="  dan@EXAMPLE.org ")
    assert again.status_code == 303
    page = client.get(again.headers["location"])
    assert "Consultez votre boîte mail" in shown(page), "answered as a first entry"
    assert count(engine, "entry") - 20 == 1  # 20 demo-closed entries
    assert count(engine, "outboxmessage") == 1, "no second e-mail within the hour"

    clock.advance(timedelta(hours=2))
    enter(client, email="dan@example.org")
    enter(client, email="dan@example.org")
    assert count(engine, "outboxmessage") == 2, "resent once after an hour, not more"


def test_double_click_gives_one_entry_and_one_email(client: TestClient, engine: Engine) -> None:
    token = form_token(client.get("/c/demo").text)
    data = {
        "form_token": token,
        "email": "eve@example.org",
        "first_name": "Eve",
        "accept_rules": "on",
    }
    answers: list[int] = []

    def submit() -> None:
        answers.append(
            client.post("/c/demo/entries", data=data, follow_redirects=False).status_code
        )

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [303] * 6
    with engine.connect() as connection:
        entries = connection.execute(
            sa.text(
                "SELECT count(*) FROM entry JOIN person ON person.id = entry.person_id "
                "WHERE person.email_key = 'eve@example.org'"
            )
        ).scalar_one()
    assert entries == 1
    assert count(engine, "outboxmessage") == 1


def test_tampered_confirmation_link_gets_a_clear_400_page(client: TestClient) -> None:
    answer = client.get("/c/demo/confirm/not-a-real-token")
    assert answer.status_code == 400
    assert "Ce lien n'est pas valide" in shown(answer)


def test_expired_confirmation_link_gets_a_clear_410_page(
    client: TestClient, sender: Sender, settings: Settings, clock: FixedClock
) -> None:
    enter(client, email="old@example.org")
    sender.run_once()
    clock.advance(timedelta(days=8))  # the link lives 7 days
    [mail] = read_eml(settings.mail_dir)
    link = link_in(mail, r"http://testserver/c/demo/confirm/\S+")
    answer = client.get(link.removeprefix("http://testserver"))
    assert answer.status_code == 410
    assert "Ce lien a expiré" in shown(answer)


def test_rules_page_is_generated_in_both_languages(client: TestClient) -> None:
    french = client.get("/c/demo/rules")
    english = client.get("/c/demo/rules?lang=en")
    assert french.status_code == english.status_code == 200
    assert "La Boutique Démo SAS" in shown(french) and "Règlement du jeu" in shown(french)
    assert "Official rules" in shown(english) and "no purchase" in shown(english)
    assert "Version du règlement" in shown(french)


def test_every_page_carries_strict_security_headers(client: TestClient) -> None:
    answer = client.get("/c/demo")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"


def test_healthz_answers_when_the_database_does(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok"


def test_page_views_and_form_starts_reach_the_funnel(client: TestClient, engine: Engine) -> None:
    client.get("/c/demo")
    shown_form = client.get("/c/demo").text
    token = form_token(shown_form)
    for _ in range(5):  # once per form shown, however often it is sent
        assert client.post("/c/demo/started", data={"form_token": token}).status_code == 204
    assert client.post("/c/demo/started").status_code == 204, "no token: nothing counted"
    forged = client.post("/c/demo/started", data={"form_token": "not-signed"})
    assert forged.status_code == 204
    client.app.state.contest.funnel.flush()  # type: ignore[attr-defined]
    with engine.connect() as connection:
        counts = dict(
            connection.execute(sa.text("SELECT metric, count FROM funnelcount")).all()  # type: ignore[arg-type]
        )
    assert counts == {"page_view": 2, "form_start": 1}


def test_the_form_address_opened_leads_back_to_the_contest_page(client: TestClient) -> None:
    """Without JavaScript, an answer with errors is shown at the form's address: reloading it
    or sharing it opens the contest page again, not a bare "Method not allowed"."""
    refused = enter(client, email="not an address")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    again = client.get("/c/demo/entries", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].endswith("/c/demo")
    english = client.get("/c/demo/entries?lang=en")
    assert english.status_code == 200 and "Check your inbox" not in english.text
    assert '<html lang="en"' in english.text
    assert client.get("/c/nowhere/entries", follow_redirects=False).status_code == 404
