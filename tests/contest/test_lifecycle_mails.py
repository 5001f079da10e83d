"""The worker's e-mails at the end of a contest: "last days, share your link" to those who
accepted the organizer's offers (a marketing e-mail: consent, contact cap, one-click
unsubscribe), and the results to every confirmed participant after the draw."""

from __future__ import annotations

import threading
from datetime import timedelta
from email.message import Message

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.clock import FixedClock
from contest.demo import demo_password
from contest.leads.pressure import record_contact
from contest.mail import Sender
from contest.maintenance import Maintenance
from contest.reminders import tell_last_days, tell_results
from contest.settings import Settings
from tests.contest.test_claims import draw_demo_closed
from tests.contest.test_privacy import enter_with
from tests.helpers import link_in, read_eml, sign_in


def mails_to(settings: Settings, address: str) -> list[Message]:
    return [m for m in read_eml(settings.mail_dir) if m["To"] == address]


def text_of(mail: Message) -> str:
    return mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def set_demo(engine: Engine, client: TestClient, slug: str = "demo", **values: object) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.contest).where(tables.contest.c.slug == slug).values(**values)
        )
    client.app.state.contest.contests.clear()  # type: ignore[attr-defined]


def test_three_days_before_the_close_only_consenting_people_hear_once_and_can_stop(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    enter_with(client, sender, settings, "keen@example.net", consent_marketing_email="on")
    enter_with(client, sender, settings, "quiet@example.net")
    maintenance = Maintenance(engine, b"k" * 32)

    clock.advance(timedelta(days=26))  # the demo closes 30 days after it was seeded
    assert tell_last_days(engine, clock.now()) == 0, "not before the last three days"
    clock.advance(timedelta(days=1, hours=1))
    maintenance(clock.now())  # the worker's once-a-minute duties
    sender.run_once()
    [mail] = [m for m in mails_to(settings, "keen@example.net") if "Derniers jours" in m["Subject"]]
    assert not [m for m in mails_to(settings, "quiet@example.net") if "Derniers" in m["Subject"]]
    body = text_of(mail)
    assert "vous ajoute 1 chance." in body, "singular"
    share = link_in(mail, r"http://testserver/r/[A-Z0-9]+")
    assert client.get(share.removeprefix("http://testserver"), follow_redirects=False).status_code
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    clock.advance(timedelta(hours=12))
    assert tell_last_days(engine, clock.now()) == 0, "once per entry"

    # RFC 8058: the mail client's one-click POST withdraws, and the export leaves them out.
    target = mail["List-Unsubscribe"].strip("<>").removeprefix("http://testserver")
    answer = client.post(target, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    sign_in(client, "demo@example.org", demo_password(settings))
    assert "keen@example.net" not in client.get("/admin/leads.csv").text


def test_the_contact_cap_and_the_contests_choice_hold_the_mail_back(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    enter_with(client, sender, settings, "capped@example.net", consent_marketing_email="on")
    enter_with(client, sender, settings, "free@example.net", consent_marketing_email="on")
    clock.advance(timedelta(days=27, hours=1))
    with engine.begin() as connection:
        person = tables.person
        capped = connection.execute(
            sa.select(person.c.id, person.c.organizer_id).where(
                person.c.email == "capped@example.net"
            )
        ).one()
        record_contact(connection, capped.organizer_id, capped.id, "invitation", clock.now())
    set_demo(engine, client, last_days_mail=False)
    assert tell_last_days(engine, clock.now()) == 0, "the contest turned it off"
    set_demo(engine, client, last_days_mail=True)
    assert tell_last_days(engine, clock.now()) == 1, "the one reached lately is left alone"
    sender.run_once()
    assert any("Derniers jours" in m["Subject"] for m in mails_to(settings, "free@example.net"))


def test_workers_at_once_send_each_last_days_mail_once(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    for index in range(4):
        enter_with(
            client, sender, settings, f"crowd{index}@example.net", consent_marketing_email="on"
        )
    clock.advance(timedelta(days=27, hours=1))
    counts: list[int] = []
    start = threading.Barrier(3)

    def worker() -> None:
        start.wait()
        counts.append(tell_last_days(engine, clock.now()))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 4


def test_after_the_draw_everyone_hears_the_results_with_the_consolation_offer(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    offer = "10 % sur votre prochaine commande avec le code MERCI10"
    set_demo(engine, client, "demo-closed", consolation=offer)
    rules = client.get("/c/demo-closed/rules").text
    assert "MERCI10" in rules, "the offer is part of the rules"
    draw_demo_closed(engine, settings, clock)
    with engine.connect() as connection:
        entry, contest = tables.entry, tables.contest
        confirmed = connection.execute(
            sa.select(sa.func.count())
            .select_from(entry.join(contest, contest.c.id == entry.c.contest_id))
            .where(contest.c.slug == "demo-closed", entry.c.status == "confirmed")
        ).scalar_one()
    assert tell_results(engine, clock.now()) == confirmed
    assert tell_results(engine, clock.now()) == 0, "once"
    sender.run_once()
    results = [m for m in read_eml(settings.mail_dir) if "tirage" in m["Subject"].lower()]
    winners = [m for m in results if "vous avez été tiré" in m["Subject"]]
    others = [m for m in results if m not in winners]
    assert len(winners) == 3 and len(others) == confirmed - 3
    assert "MERCI10" in text_of(others[0]) and "MERCI10" not in text_of(winners[0])
    assert "http://testserver/c/demo-closed/draw.json" in text_of(others[0])
    assert "Lot 1 : ticket" in text_of(others[0]), "the tickets drawn, pseudonymous"


def test_results_wait_for_the_draw_and_respect_the_contests_choice(
    client: TestClient, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    assert tell_results(engine, clock.now()) == 0, "nothing before the draw"
    set_demo(engine, client, "demo-closed", results_mail=False)
    draw_demo_closed(engine, settings, clock)
    assert tell_results(engine, clock.now()) == 0
