"""One reminder to confirm, 24 hours after the confirmation e-mail, never a second one."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.clock import FixedClock
from contest.mail import Sender
from contest.reminders import remind_unconfirmed, tell_referrers
from contest.settings import Settings
from tests.helpers import enter, link_in, read_eml
from tests.viral.referral_steps import enter_and_confirm, share_path


def mails_to(settings: Settings, address: str) -> list[str]:
    return [m["Subject"] for m in read_eml(settings.mail_dir) if m["To"] == address]


def test_an_unconfirmed_entry_is_reminded_once_after_a_day(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    enter(client, email="late@example.net")
    enter(client, email="quick@example.net")
    sender.run_once()
    [quick] = [m for m in read_eml(settings.mail_dir) if m["To"] == "quick@example.net"]
    link = link_in(quick, r"http://testserver/c/demo/confirm/\S+")
    client.post(link.removeprefix("http://testserver"))

    clock.advance(timedelta(hours=23))
    assert remind_unconfirmed(engine, clock.now()) == 0, "not before a day"
    clock.advance(timedelta(hours=2))
    assert remind_unconfirmed(engine, clock.now()) == 1
    sender.run_once()
    subjects = mails_to(settings, "late@example.net")
    assert len(subjects) == 2 and subjects[-1].startswith("Rappel")
    assert len(mails_to(settings, "quick@example.net")) == 1, "a confirmed entry is left alone"

    reminder = [m for m in read_eml(settings.mail_dir) if m["Subject"].startswith("Rappel")][0]
    assert "seul rappel" in reminder.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    confirm = link_in(reminder, r"http://testserver/c/demo/confirm/\S+")
    assert client.post(confirm.removeprefix("http://testserver")).status_code == 200

    clock.advance(timedelta(days=2))
    assert remind_unconfirmed(engine, clock.now()) == 0, "never a second reminder"


def test_a_contest_may_turn_the_reminder_off(
    client: TestClient, engine: Engine, clock: FixedClock
) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.contest)
            .where(tables.contest.c.slug == "demo")
            .values(confirm_reminder=False)
        )
    client.app.state.contest.contests.clear()  # type: ignore[attr-defined]
    enter(client, email="quiet@example.net")
    clock.advance(timedelta(hours=25))
    assert remind_unconfirmed(engine, clock.now()) == 0


def test_workers_running_at_once_send_each_reminder_once(
    client: TestClient, engine: Engine, clock: FixedClock
) -> None:
    for index in range(8):
        enter(client, email=f"crowd{index}@example.net")
    clock.advance(timedelta(hours=25))
    counts: list[int] = []
    start = threading.Barrier(3)

    def worker() -> None:
        start.wait()
        counts.append(remind_unconfirmed(engine, clock.now()))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 8
    outbox = tables.outboxmessage
    with engine.connect() as connection:
        queued = connection.execute(
            sa.select(sa.func.count()).where(outbox.c.idempotency_key.like("reminder:%"))
        ).scalar_one()
    assert queued == 8


def test_a_referrer_hears_of_confirmed_friends_at_most_once_a_day(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    own = enter_and_confirm(client, sender, settings, "ann@example.org")
    shared = share_path(client, own)
    for friend in ("bob@example.org", "cyd@example.org"):
        enter_and_confirm(client, sender, settings, friend, page_url=shared)
    assert tell_referrers(engine, clock.now()) == 1
    sender.run_once()
    [news] = [m for m in read_eml(settings.mail_dir) if m["Subject"].startswith("Vos filleuls")]
    assert news["To"] == "ann@example.org" and "3 chances" in news["Subject"]
    text = news.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "2 personnes de plus" in text and "/c/demo/me/" in text

    clock.advance(timedelta(hours=2))
    enter_and_confirm(client, sender, settings, "dan@example.org", page_url=shared)
    assert tell_referrers(engine, clock.now()) == 0, "not twice in a day"
    clock.advance(timedelta(days=1))
    assert tell_referrers(engine, clock.now()) == 1
    sender.run_once()
    latest = [m for m in read_eml(settings.mail_dir) if m["Subject"].startswith("Vos filleuls")]
    assert len(latest) == 2 and "4 chances" in latest[-1]["Subject"]
    assert "1 personne de plus" in latest[-1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert tell_referrers(engine, clock.now() + timedelta(days=3)) == 0, "nothing new, no mail"
