"""The mail server is down for a day, then back: nothing is lost, nothing is sent twice."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.clock import FixedClock
from contest.mail import Delivery, Sender
from contest.settings import Secret, Settings
from tests.helpers import enter, free_port

ADDRESSES = [f"patient-{n}@example.org" for n in range(4)]


def outbox_rows(engine: Engine) -> list[sa.Row[tuple[object, ...]]]:
    outbox = tables.outboxmessage
    with engine.connect() as connection:
        return list(connection.execute(sa.select(outbox).order_by(outbox.c.id)))


def test_smtp_down_messages_wait_with_growing_delays_then_each_arrives_once(
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    start_smtp: object,
    clock: FixedClock,
) -> None:
    for address in ADDRESSES:
        assert enter(client, email=address).status_code == 303  # type: ignore[attr-defined]
    port = free_port()  # nothing listens there yet
    smtp_settings = dataclasses.replace(settings, smtp_url=Secret(f"smtp://127.0.0.1:{port}"))
    worker = Sender(engine, sender.builder, Delivery(smtp_settings), clock=clock.now)

    start, delays = clock.now(), []
    while clock.now() - start < timedelta(hours=24):  # down for a whole day
        attempt = len(delays) + 1
        assert worker.run_once() == 0
        messages = outbox_rows(engine)
        assert [(m.status, m.attempts) for m in messages] == [("pending", attempt)] * 4
        assert all("Connection" in m.last_error for m in messages), messages[0].last_error
        waits = {m.next_attempt_at - clock.now() for m in messages}
        assert len(waits) == 1
        delays.append(waits.pop())
        clock.advance(delays[-1] - timedelta(seconds=1))
        assert worker.run_once() == 0, "not tried again before its time"
        assert [m.attempts for m in outbox_rows(engine)] == [attempt] * 4
        clock.advance(timedelta(seconds=1))
    seconds = [delay.total_seconds() for delay in delays]
    assert seconds[:4] == [30, 60, 120, 240], "the delays grow"
    assert seconds == sorted(seconds) and max(seconds) == 3600, "up to an hour"

    inbox, _port = start_smtp(port=port)  # type: ignore[operator]
    assert worker.run_once() == 4
    assert [(m.status, m.attempts) for m in outbox_rows(engine)] == [("sent", len(delays) + 1)] * 4
    assert sorted(str(m["To"]) for m in inbox.messages) == sorted(ADDRESSES)
    message_ids = [str(m["Message-ID"]) for m in inbox.messages]
    assert len(set(message_ids)) == 4
    assert all(re.fullmatch(r"<outbox-\d+\.[0-9a-f]{32}@testserver>", i) for i in message_ids)

    clock.advance(timedelta(days=2))
    assert worker.run_once() == 0, "a sent message is never sent again"
    assert len(inbox.messages) == 4
