"""The entry writer's groups: many entries in one transaction behave as if sent one by one."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from contest import writer as writer_module
from contest.clock import FixedClock
from contest.contests import ContestCache
from contest.entries import EntryContext, EntryLimits, EntryOutcome, EntryRefused
from contest.forms import EntryForm
from contest.ratelimit import Limit
from contest.writer import EntryWriter


def _form(address: str) -> EntryForm:
    return EntryForm(
        email=address,
        answers={"first_name": "Ann"},
        consents=frozenset({"marketing_email"}),
        accepted_rules=True,
    )


def _send_together(
    engine: Engine,
    sends: list[tuple[str, str]],
    limits: EntryLimits,
    monkeypatch: Any,
    now: datetime,
) -> list[EntryOutcome | BaseException]:
    """Hands every (address, network) to the writer before it starts, all at ``now``: one
    group takes them."""
    contest = ContestCache(engine).get("demo")
    assert contest is not None
    writer = EntryWriter(engine)
    groups: list[int] = []

    prepare = writer_module.prepare_group

    def spy(connection: Any, group: list[Any]) -> Any:
        groups.append(len(group))
        return prepare(connection, group)

    monkeypatch.setattr(writer_module, "prepare_group", spy)

    async def all_at_once() -> list[EntryOutcome | BaseException]:
        tasks = [
            asyncio.ensure_future(
                writer.submit(
                    contest,
                    _form(address),
                    EntryContext(
                        now=now,
                        language="fr",
                        rules_version="v1",
                        ip_truncated=network,
                        limits=limits,
                    ),
                )
            )
            for address, network in sends
        ]
        await asyncio.sleep(0)  # every task has queued its entry
        writer.start()
        try:
            return await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            writer.stop()

    # Its own thread: a browser test may have left an event loop set in this one.
    with ThreadPoolExecutor(1) as thread:
        outcomes = thread.submit(asyncio.run, all_at_once()).result()
    assert groups == [len(sends)], "the entries were written as one group"
    return outcomes


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar_one())


def test_one_group_with_repeated_addresses_writes_each_person_once(
    engine: Engine, demo: None, monkeypatch: Any, clock: FixedClock
) -> None:
    before = _count(engine, "SELECT count(*) FROM entry")
    sends = [(f"g{n % 4}@example.org", f"192.0.2.{n}") for n in range(12)]
    outcomes = _send_together(engine, sends, EntryLimits(), monkeypatch, clock.now())

    assert all(isinstance(o, EntryOutcome) for o in outcomes), outcomes
    assert [o.created for o in outcomes] == [True] * 4 + [False] * 8
    # The same address always gets the same entry back.
    assert {o.entry_public_id for o in outcomes[::4]} == {outcomes[0].entry_public_id}
    assert _count(engine, "SELECT count(*) FROM entry") == before + 4
    assert _count(engine, "SELECT count(*) FROM outboxmessage WHERE template = 'confirm'") == 4
    assert _count(engine, "SELECT count(*) FROM consentrecord WHERE purpose = 'rules'") >= 4


def test_one_group_past_a_network_limit_refuses_the_attempts_after_it(
    engine: Engine, demo: None, monkeypatch: Any, clock: FixedClock
) -> None:
    limits = EntryLimits(per_network=Limit(3, timedelta(minutes=10)))
    sends = [(f"crowd{n}@example.org", "203.0.113.0") for n in range(5)]
    sends.append(("elsewhere@example.org", "198.51.100.0"))
    outcomes = _send_together(engine, sends, limits, monkeypatch, clock.now())

    kinds = ["ok" if isinstance(o, EntryOutcome) else getattr(o, "code", repr(o)) for o in outcomes]
    assert kinds == ["ok", "ok", "ok", "rate_limited", "rate_limited", "ok"]
    assert all(isinstance(o, EntryRefused) for o in outcomes[3:5])
    assert (
        _count(
            engine,
            "SELECT count(*) FROM entry e JOIN person p ON p.id = e.person_id "
            "WHERE p.email LIKE 'crowd%'",
        )
        == 3
    )
