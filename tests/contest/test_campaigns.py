"""E-mail campaigns through the workspace: written, counted (who is left out, and why), tested,
sent by the worker within the contact limit, and measured by their own tracked link."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.campaigns import send_due
from contest.clock import FixedClock
from contest.demo import demo_password
from contest.leads.pressure import record_contact
from contest.mail import Sender, mark_undeliverable
from contest.reminders import tell_last_days
from contest.settings import Settings
from tests.contest.test_privacy import enter_with
from tests.helpers import form_token, link_in, read_eml, shown, sign_in

CAMPAIGN = {
    "name": "Spring announcement",
    "contest": "demo",
    "subject_fr": "Un nouveau jeu pour vous",
    "body_fr": "Bonjour !\n\nNotre nouveau jeu est ouvert.",
    "subject_en": "A new contest for you",
    "body_en": "Hello!\n\nOur new contest is open.",
    "segment": "",
    "min_score": "0",
    "source": "",
    "clients": "any",
    "active_days": "1",  # only today's people: the demo's older entrants stay out of the counts
    "language": "any",
    "basis": "consent",
    "rate_per_minute": "100",
}


def csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, f"{path} has no form"
    return found.group(1)


def person_id(engine: Engine, email: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(tables.person.c.id).where(tables.person.c.email == email)
            ).scalar_one()
        )


def figures(page: str, attribute: str) -> dict[str, int]:
    return {
        name: int(value.replace("\u202f", "").replace(" ", "").replace(",", ""))
        for name, value in re.findall(rf'data-{attribute}="(\w+)">([^<]+)<', page)
    }


def people(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    """Two consenting people, and one left out for each reason."""
    for address in (
        "keen1@example.net",
        "keen2@example.net",
        "gone@example.net",
        "bounce@example.net",
        "busy@example.net",
    ):
        enter_with(client, sender, settings, address, consent_marketing_email="on")
    enter_with(client, sender, settings, "quiet@example.net")
    mark_undeliverable(engine, "bounce@example.net")
    with engine.begin() as connection:
        busy = person_id(engine, "busy@example.net")
        organizer = connection.execute(
            sa.select(tables.person.c.organizer_id).where(tables.person.c.id == busy)
        ).scalar_one()
        record_contact(connection, organizer, busy, "invitation", clock.now())
    mails = [m for m in read_eml(settings.mail_dir) if m["To"] == "gone@example.net"]
    preferences = link_in(mails[0], r"http://testserver/unsubscribe/\S+").removeprefix(
        "http://testserver"
    )
    client.post(preferences.split("?")[0])


def test_a_campaign_counts_who_is_left_out_reaches_the_rest_and_measures_its_link(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    people(client, sender, settings, engine, clock)
    sign_in(client, "demo@example.org", demo_password(settings))
    token = csrf(client, "/admin/campaigns/new")
    created = client.post(
        "/admin/campaigns/new", data={**CAMPAIGN, "csrf": token}, follow_redirects=False
    )
    assert created.status_code == 303
    path = created.headers["location"]
    answer = client.get(path)
    page = answer.text
    assert "2 personnes recevraient" in shown(answer)
    assert figures(page, "reason") == {
        "bounced": 1,
        "unsubscribed": 1,
        "no_consent": 1,
        "cap": 1,
        "erased": 0,
    }

    client.post(f"{path}/test", data={"csrf": csrf(client, path), "language": "en"})
    sender.run_once()
    [test] = [m for m in read_eml(settings.mail_dir) if "A new contest for you" in m["Subject"]]
    assert test["To"] == "demo@example.org" and str(test["Subject"]).startswith("[")
    assert "List-Unsubscribe" not in test, "a test reaches no one's consent"

    assert client.post(f"{path}/start", data={"csrf": csrf(client, path)}).status_code == 200
    assert send_due(engine, clock.now()) == 2
    assert send_due(engine, clock.now()) == 0, "one batch a minute"
    clock.advance(timedelta(minutes=1))
    assert send_due(engine, clock.now()) == 0, "no one left: the campaign is sent"
    sender.run_once()
    sent = [  # the campaign's messages, not the test (in English, its French half too)
        m
        for m in read_eml(settings.mail_dir)
        if "nouveau jeu pour vous" in str(m["Subject"]) and not str(m["Subject"]).startswith("[")
    ]
    assert sorted(m["To"] for m in sent) == ["keen1@example.net", "keen2@example.net"]
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in sent)
    assert "/unsubscribe/" in sent[0]["List-Unsubscribe"]

    # The link in the mail: a click, then an entry and its confirmation, by a new person.
    link = link_in(sent[0], r"http://testserver/s/[A-Z0-9]+\S*").removeprefix("http://testserver")
    visitor = TestClient(client.app)
    landed = visitor.get(link)
    page_html = landed.text
    hidden = dict(re.findall(r'<input type="hidden" name="(ref|src)" value="([^"]+)">', page_html))
    entered = visitor.post(
        "/c/demo/entries",
        data={
            "form_token": form_token(page_html),
            "email": "newcomer@example.net",
            "accept_rules": "on",
            **hidden,
        },
        follow_redirects=False,
    )
    assert entered.status_code == 303
    sender.run_once()
    [confirm] = [m for m in read_eml(settings.mail_dir) if m["To"] == "newcomer@example.net"]
    visitor.post(
        link_in(confirm, r"http://testserver/c/demo/confirm/\S+").removeprefix("http://testserver")
    )

    results = figures(client.get(path).text, "figure")
    assert results["queued"] == 2 and results["sent"] == 2 and results["bounced"] == 0
    assert (results["clicked"], results["entered"], results["confirmed"]) == (1, 1, 1)

    # The cap holds across the campaign and a lifecycle mail the same day.
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.contest)
            .where(tables.contest.c.slug == "demo")
            .values(closes_at=clock.now() + timedelta(days=2))
        )
    assert tell_last_days(engine, clock.now()) == 0, "both were reached today by the campaign"


def test_the_contact_limit_is_set_by_the_owner_within_the_platforms_floor(
    client: TestClient, settings: Settings
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    token = csrf(client, "/admin/campaigns")
    refused = client.post(
        "/admin/campaigns/contact-limit", data={"csrf": token, "limit": "3", "days": "14"}
    )
    assert refused.status_code == 422 and "21" in shown(refused)
    saved = client.post(
        "/admin/campaigns/contact-limit",
        data={"csrf": token, "limit": "2", "days": "30"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "2" in shown(client.get("/admin/campaigns")) and "30" in shown(
        client.get("/admin/campaigns")
    )


def test_a_campaign_is_checked_before_it_is_saved(client: TestClient, settings: Settings) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    token = csrf(client, "/admin/campaigns/new")
    answer = client.post(
        "/admin/campaigns/new",
        data={
            **CAMPAIGN,
            "csrf": token,
            "body_fr": "",
            "basis": "existing_customer",
            "contest": "demo-closed",
        },
    )
    assert answer.status_code == 422
    text = shown(answer)
    assert 'id="e-body_fr"' in answer.text and 'id="e-contest"' in answer.text
    assert "Seul un jeu publié" in text or "Only a published contest" in text


def test_the_api_writes_counts_and_runs_a_campaign(
    client: TestClient,
    bearer: dict[str, str],
    sender: Sender,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
) -> None:
    enter_with(client, sender, settings, "api-keen@example.net", consent_marketing_email="on")
    body = {k: v for k, v in CAMPAIGN.items() if k not in {"segment", "source"}}
    body |= {"min_score": 0, "active_days": 1, "rate_per_minute": 10}
    created = client.post("/api/v1/campaigns", json=body, headers=bearer)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["status"] == "draft" and campaign["audience"]["eligible"] == 1
    assert set(campaign["audience"]["left_out"]) == {
        "bounced",
        "unsubscribed",
        "no_consent",
        "cap",
        "erased",
    }
    path = f"/api/v1/campaigns/{campaign['id']}"
    assert client.patch(path, json={"name": "Renamed"}, headers=bearer).json()["name"] == "Renamed"
    started = client.post(path + "/start", headers=bearer)
    assert started.status_code == 200 and started.json()["status"] == "sending"
    assert client.patch(path, json={"name": "Too late"}, headers=bearer).status_code == 409
    send_due(engine, clock.now())
    assert client.get(path, headers=bearer).json()["results"]["queued"] == 1
    assert client.post(path + "/pause", headers=bearer).json()["status"] == "paused"
    assert client.get("/api/v1/campaigns/999999", headers=bearer).status_code == 404

    refused = client.put("/api/v1/contact-limit", json={"limit": 2, "days": 10}, headers=bearer)
    assert refused.status_code == 422
    saved = client.put("/api/v1/contact-limit", json={"limit": 2, "days": 14}, headers=bearer)
    assert saved.json() == {"limit": 2, "days": 14}
    assert client.get("/api/v1/contact-limit", headers=bearer).json() == {"limit": 2, "days": 14}
