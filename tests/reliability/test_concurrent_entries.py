"""Many people pressing "send" at once, against the real server (uvicorn in its own process)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from contest.clock import SYSTEM_CLOCK, Clock
from contest.settings import Settings
from tests.helpers import form_token, read_eml
from tests.reliability.served import rows, serve, wait_until

SAME_TIME = 50


@pytest.fixture
def clock() -> Clock:
    """`contest serve` runs on the machine's clock: the demo is seeded at its time too."""
    return SYSTEM_CLOCK


async def send_all(url: str, token: str, address: str) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=SAME_TIME, max_keepalive_connections=SAME_TIME)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
        start = asyncio.Event()

        async def one(n: int) -> httpx.Response:
            await start.wait()
            return await http.post(
                "/c/demo/entries",
                data={
                    "form_token": token,
                    "email": address,
                    "first_name": "Ann",
                    "accept_rules": "on",
                },
                # One phone each, as behind a shop's Wi-Fi: uvicorn trusts loopback's header.
                headers={"HX-Request": "true", "X-Forwarded-For": f"10.{n}.0.1"},
            )

        tasks = [asyncio.create_task(one(n)) for n in range(SAME_TIME)]
        await asyncio.sleep(0.1)
        start.set()
        return await asyncio.gather(*tasks)


def test_fifty_simultaneous_entries_of_one_address_make_one_entry_and_one_email(
    settings: Settings, engine: Engine, demo: None, server_env: dict[str, str], tmp_path: Path
) -> None:
    address = "same.person@example.org"
    with serve(server_env, tmp_path / "server.log") as server:
        token = form_token(httpx.get(f"{server.url}/c/demo").text)
        # Its own thread: a browser test may have left an event loop set in this one.
        with ThreadPoolExecutor(1) as thread:
            answers = thread.submit(asyncio.run, send_all(server.url, token, address)).result()

        for answer in answers:
            assert answer.status_code < 500, answer.text[:500]
            assert 200 <= answer.status_code < 300 or 400 <= answer.status_code < 500
            assert answer.text.strip() and "Traceback" not in answer.text
        assert any(answer.status_code == 200 for answer in answers)

        entries = rows(
            engine,
            "SELECT entry.id FROM entry JOIN person ON person.id = entry.person_id"
            " WHERE person.email = :email",
            email=address,
        )
        assert len(entries) == 1, "one entry per person and contest"
        assert len(rows(engine, "SELECT id FROM person WHERE email = :e", e=address)) == 1
        messages = rows(
            engine,
            "SELECT status FROM outboxmessage WHERE recipient = :e AND template = 'confirm'",
            e=address,
        )
        assert len(messages) == 1, "one confirmation e-mail, however many times it was sent"
        wait_until(
            lambda: (
                rows(
                    engine,
                    "SELECT status FROM outboxmessage WHERE recipient = :e AND status = 'sent'",
                    e=address,
                )
                != []
            ),
            "the server's sender delivers the confirmation",
        )

    delivered = [m for m in read_eml(settings.mail_dir) if m["To"] == address]
    assert len(delivered) == 1
