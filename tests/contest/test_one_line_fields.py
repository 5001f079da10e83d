"""A line break in a one-line field (a title, a name) would break every mail that carries it:
refused where it is typed, and a message that can never be built is not retried forever."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.clock import FixedClock
from contest.mail import Sender
from contest.models import OutboxStatus
from contest.settings import Settings
from tests.contest.test_rules_changes import api, published  # noqa: F401
from tests.contest.test_self_service import contest_body
from tests.helpers import enter, shown

API = tuple[TestClient, dict[str, str]]


def test_a_line_break_in_a_title_a_prize_or_a_sender_name_is_refused_where_it_is_typed(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    body = contest_body(clock)
    title = client.post("/api/v1/contests", json=body | {"title": "Summer\nBcc: x@evil.example"},
                        headers=headers)  # fmt: skip
    assert title.status_code == 422
    assert title.json()["error"]["fields"]["title"]["en"] == (
        "This field takes one line: remove the line break."
    )
    prize = dict(body["prizes"][0], description="Bon\nd'achat")  # type: ignore[index]
    assert client.post("/api/v1/contests", json=body | {"prizes": [prize]},
                       headers=headers).status_code == 422  # fmt: skip
    described = client.post("/api/v1/contests", json=body | {"description": "Two\nlines"},
                            headers=headers)  # fmt: skip
    assert described.status_code == 201, "a description is several lines by nature"
    sender = client.patch("/api/v1/organization", json={"sender_name": "La\nBoutique"},
                          headers=headers)  # fmt: skip
    assert sender.status_code == 422


def test_an_entrant_s_name_with_a_line_break_is_refused_and_nothing_is_written(
    api: API,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
) -> None:
    client, headers = api
    published(client, headers, contest_body(clock) | {"form_fields": ["first_name"]})
    answer = enter(client, "summer", email="ann@example.org", first_name="Ann\nBcc: x@evil.example")
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "remove the line break" in shown(answer) or "retour à la ligne" in shown(answer)  # type: ignore[arg-type]
    with engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(tables.entry)).scalar() == 0
        )


def test_a_message_that_can_never_be_built_fails_once_and_is_not_retried(
    api: API,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
    sender: Sender,
    settings: Settings,
) -> None:
    client, headers = api
    published(client, headers, contest_body(clock))
    with engine.begin() as connection:  # stored before line breaks were refused at input
        connection.execute(sa.update(tables.contest).values(title="Summer\nvouchers"))
    assert enter(client, "summer", email="ann@example.org").status_code == 303  # type: ignore[attr-defined]
    sender.run_once()
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(tables.outboxmessage.c.status, tables.outboxmessage.c.last_error)
        ).one()
    assert row.status == OutboxStatus.FAILED
    assert "cannot be built" in row.last_error and "ann@example.org" not in row.last_error
    clock.advance(timedelta(days=2))
    assert sender.run_once() == 0
