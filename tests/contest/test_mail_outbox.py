"""The outbox delivers through real SMTP (a local aiosmtpd server), retries, never twice."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import mail
from contest.clock import FixedClock
from contest.mail import Delivery, Sender
from contest.settings import Secret, Settings
from tests.helpers import enter, free_port


class Inbox(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[object] = []

    def handle_message(self, message: object) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def smtp_sender(sender: Sender, settings: Settings, port: int) -> Sender:
    smtp_settings = dataclasses.replace(settings, smtp_url=Secret(f"smtp://127.0.0.1:{port}"))
    return Sender(sender.engine, sender.builder, Delivery(smtp_settings), clock=sender.clock)


def statuses(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT status, attempts FROM outboxmessage ORDER BY id"))
        return [(r.status, r.attempts) for r in rows]


def test_confirmation_goes_out_through_smtp_with_a_working_link(
    client: TestClient, sender: Sender, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    enter(client, email="ann@example.org")
    assert smtp_sender(sender, settings, port).run_once() == 1
    [message] = inbox.messages
    assert message["To"] == "ann@example.org"  # type: ignore[index]
    assert message["Message-ID"]  # type: ignore[index]
    body = message.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[attr-defined]
    link = body.split("http://testserver", 1)[1].split()[0]
    assert client.get(link).status_code == 200
    assert client.post(link, follow_redirects=False).status_code == 303
    assert not list(settings.mail_dir.glob("*.eml")), "SMTP set: nothing written to disk"


def test_smtp_down_then_back_messages_wait_and_all_arrive(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    enter(client, email="ann@example.org")
    enter(client, email="bob@example.org")
    port = free_port()  # nothing listens there yet
    down = smtp_sender(sender, settings, port)
    assert down.run_once() == 0
    assert statuses(engine) == [("pending", 1), ("pending", 1)]
    assert down.run_once() == 0, "not retried before its backoff"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        clock.advance(timedelta(seconds=31))
        assert down.run_once() == 2
    finally:
        controller.stop()
    assert len(inbox.messages) == 2
    assert statuses(engine) == [("sent", 2), ("sent", 2)]


def test_a_sent_message_is_never_sent_again(
    client: TestClient, sender: Sender, settings: Settings, clock: FixedClock
) -> None:
    enter(client, email="ann@example.org")
    assert sender.run_once() == 1
    clock.advance(timedelta(days=1))
    assert sender.run_once() == 0
    assert len(list(settings.mail_dir.glob("*.eml"))) == 1


def test_a_message_whose_sender_died_is_retried_after_its_lease(
    client: TestClient, sender: Sender, engine: Engine, clock: FixedClock
) -> None:
    from contest import outbox

    enter(client, email="ann@example.org")
    claimed = outbox.claim_due(engine, clock.now())
    assert len(claimed) == 1
    assert outbox.claim_due(engine, clock.now()) == [], "claimed rows are not shared"
    after_lease = clock.advance(outbox.LEASE + timedelta(seconds=1))
    assert [i.id for i in outbox.claim_due(engine, after_lease)] == [claimed[0].id]


def test_backoff_grows_and_is_capped() -> None:
    from contest.outbox import backoff

    delays = [backoff(n).total_seconds() for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == 3600


class RefusingInbox(Inbox):
    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: object, session: object, envelope: object, address: str, options: object
    ) -> str:
        return "550 5.1.1 No such user"


def test_a_hard_bounce_marks_the_address_undeliverable_and_is_not_retried(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    enter(client, email="gone@example.org")
    port = free_port()
    controller = Controller(RefusingInbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert smtp_sender(sender, settings, port).run_once() == 0
    finally:
        controller.stop()
    assert statuses(engine) == [("failed", 1)]
    with engine.connect() as connection:
        flag = connection.execute(
            sa.text("SELECT undeliverable FROM person WHERE email = 'gone@example.org'")
        ).scalar_one()
    assert flag


def test_a_hung_relay_costs_one_timeout_per_run_not_one_per_message(
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A relay that accepts connections and never answers: the first message waits for it
    once, and the others of the run wait for their next attempt without trying, so the shop
    and CRM calls and a stop request are not held up by a timeout per message."""
    monkeypatch.setattr(mail, "SMTP_TIMEOUT", 0.5)
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    accepted: list[socket.socket] = []

    def take() -> None:
        while True:
            try:
                accepted.append(hung.accept()[0])
            except OSError:
                return

    threading.Thread(target=take, daemon=True).start()
    try:
        for name in ("ann", "bob", "cid"):
            enter(client, email=f"{name}@example.org")
        assert smtp_sender(sender, settings, hung.getsockname()[1]).run_once() == 0
        assert len(accepted) == 1, "one connection: no second try on a new session, no other"
    finally:
        hung.close()
        for connection in accepted:
            connection.close()
    assert statuses(engine) == [("pending", 1)] * 3, "each waits for its next attempt"
    with engine.connect() as connection:
        errors = connection.execute(sa.text("SELECT last_error FROM outboxmessage ORDER BY id"))
        first, *others = [row.last_error for row in errors]
    assert "SMTPServerDisconnected" in first
    assert all("not tried: the mail relay was unreachable" in error for error in others)
