"""The server killed outright (SIGKILL) in the middle of a load, then started again.

Every entry that was answered 2xx is in the database with its consent record and its
confirmation e-mail; every e-mail arrives, and the only one that may arrive twice (the one being
handed to the SMTP server at the moment of the kill: delivery is at least once, see
contest/outbox.py) carries the same Message-ID both times, so that it can be recognised.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from contest import outbox
from contest.clock import SYSTEM_CLOCK, Clock
from contest.mail import Delivery, MessageBuilder, Sender
from contest.settings import Secret, Settings
from contest.templating import Templates
from contest.tokens import Signer
from tests.helpers import form_token
from tests.reliability.served import BASE_URL, Inbox, rows, serve, wait_until

LOAD = 400
PARTICIPANTS = 8
KILL_AFTER = 60  # acknowledged entries


@pytest.fixture
def clock() -> Clock:
    """`contest serve` runs on the machine's clock: the demo is seeded at its time too."""
    return SYSTEM_CLOCK


def later_sender(settings: Settings, engine: Engine, smtp_port: int, clock: Clock) -> Sender:
    """A worker like the server's, whose clock is past every lease taken until now."""
    smtp_settings = dataclasses.replace(
        settings, base_url=BASE_URL, smtp_url=Secret(f"smtp://127.0.0.1:{smtp_port}")
    )
    builder = MessageBuilder(
        smtp_settings,
        engine,
        Templates({"htmx_available": False, "base_url": BASE_URL}),
        Signer(settings.secret_keys, clock),
    )
    after_lease = clock.now() + outbox.LEASE + timedelta(seconds=1)
    return Sender(engine, builder, Delivery(smtp_settings), clock=lambda: after_lease)


def test_sigkill_mid_load_keeps_every_acknowledged_entry_and_sends_each_email_once(
    settings: Settings,
    engine: Engine,
    demo: None,
    server_env: dict[str, str],
    start_smtp: object,
    tmp_path: Path,
    clock: Clock,
) -> None:
    # The third e-mail hangs after its final dot, before the SMTP server's "250": the server
    # is killed while that message is received but not yet known to be.
    inbox, smtp_port = start_smtp(Inbox(stall_on=3))  # type: ignore[operator]
    env = {**server_env, "CONTEST_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}"}
    log = tmp_path / "server.log"
    acknowledged: set[str] = set()
    refused: list[tuple[int, str]] = []
    killed = threading.Event()
    lock = threading.Lock()

    with serve(env, log) as server:
        token = form_token(httpx.get(f"{server.url}/c/demo").text)

        def participant(numbers: range) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                for n in numbers:
                    if killed.is_set():
                        return
                    address = f"crash-{n}@example.org"
                    try:
                        answer = http.post(
                            "/c/demo/entries",
                            data={
                                "form_token": token,
                                "email": address,
                                "first_name": "Ann",
                                "accept_rules": "on",
                                "consent_marketing_email": "on",
                            },
                            headers={
                                "HX-Request": "true",
                                "X-Forwarded-For": f"10.{n // 250}.{n % 250}.1",
                            },
                        )
                    except httpx.TransportError:
                        continue  # died with the server: never acknowledged
                    with lock:
                        if 200 <= answer.status_code < 300:
                            acknowledged.add(address)
                        else:
                            refused.append((answer.status_code, answer.text[:300]))

        threads = [
            threading.Thread(target=participant, args=(range(i, LOAD, PARTICIPANTS),))
            for i in range(PARTICIPANTS)
        ]
        for thread in threads:
            thread.start()
        try:
            wait_until(
                lambda: inbox.stalled.is_set() and len(acknowledged) >= KILL_AFTER,
                "entries acknowledged while an e-mail is being handed over",
            )
            server.kill()
        finally:
            killed.set()
            inbox.release()
            for thread in threads:
                thread.join(timeout=60)

    assert not refused, refused
    assert KILL_AFTER <= len(acknowledged) < LOAD, "killed in the middle of the load"
    stalled_recipient = str(inbox.messages[2]["To"])

    # Started again on the same database: what was waiting in the outbox goes out.
    with serve(env, log) as server:
        wait_until(
            lambda: not rows(engine, "SELECT id FROM outboxmessage WHERE status = 'pending'"),
            "the restarted server sends every pending e-mail",
        )
        assert httpx.get(f"{server.url}/c/demo").status_code == 200

    # Messages claimed by the killed process wait for their lease to run out; then a worker
    # (here one whose clock is past the lease) sends them.
    later_sender(settings, engine, smtp_port, clock).run_once()

    stored = {
        r.email: r.id
        for r in rows(
            engine,
            "SELECT person.email, entry.id FROM entry JOIN person ON person.id = entry.person_id"
            " WHERE person.email LIKE 'crash-%'",
        )
    }
    assert acknowledged <= set(stored), "every entry answered 2xx is in the database"
    consents = {
        (r.entry_id, r.purpose)
        for r in rows(engine, "SELECT entry_id, purpose FROM consentrecord WHERE event = 'granted'")
    }
    mails = {
        r.recipient: (r.id, r.status)
        for r in rows(
            engine, "SELECT id, recipient, status FROM outboxmessage WHERE template = 'confirm'"
        )
    }
    for address, entry_id in stored.items():
        assert (entry_id, "rules") in consents
        assert (entry_id, "marketing_email") in consents
        assert mails[address][1] == "sent", address

    copies = inbox.by_recipient()
    assert set(stored) <= set(copies), "every confirmation arrived"
    for address, message_ids in copies.items():
        assert len(set(message_ids)) == 1, f"{address} got two different messages"
        match = re.fullmatch(r"<outbox-(\d+)\.[0-9a-f]{32}@contest\.test>", message_ids[0])
        assert match and int(match.group(1)) == mails[address][0], message_ids[0]
    first_copies = [message_ids[0] for message_ids in copies.values()]
    assert len(set(first_copies)) == len(first_copies), "Message-IDs are unique"
    sent_twice = {address: ids for address, ids in copies.items() if len(ids) > 1}
    assert list(sent_twice) == [stalled_recipient], "only the message in flight is sent again"
    assert len(sent_twice[stalled_recipient]) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_stopping_the_server_while_an_email_is_handed_over_records_it_and_sends_it_once(
    settings: Settings,
    engine: Engine,
    demo: None,
    server_env: dict[str, str],
    start_smtp: object,
    tmp_path: Path,
    clock: Clock,
) -> None:
    """A deploy (SIGTERM, uvicorn's graceful stop) waits for the message being sent."""
    inbox, smtp_port = start_smtp(Inbox(stall_on=1))  # type: ignore[operator]
    env = {**server_env, "CONTEST_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}"}
    log = tmp_path / "server.log"
    address = "deploy@example.org"
    with serve(env, log) as server:
        token = form_token(httpx.get(f"{server.url}/c/demo").text)
        answer = httpx.post(
            f"{server.url}/c/demo/entries",
            data={"form_token": token, "email": address, "accept_rules": "on"},
        )
        assert answer.status_code == 303
        wait_until(inbox.stalled.is_set, "the confirmation is being handed over")
        server.process.terminate()
        wait_until(lambda: "Waiting for application shutdown" in log.read_text(), "stopping")
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=1)  # a server that does not wait has gone by now
        inbox.release()
        server.process.wait(timeout=30)

    [(status,)] = rows(engine, "SELECT status FROM outboxmessage WHERE recipient = :e", e=address)
    assert status == "sent", "recorded before the process ended"
    later_sender(settings, engine, smtp_port, clock).run_once()
    copies = inbox.by_recipient()
    assert list(copies) == [address] and len(copies[address]) == 1, "sent once"
