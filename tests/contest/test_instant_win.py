"""Instant win that anyone can check: moments fixed and committed to at publication, won at
confirmation by the first entry at or after each, published after the close and verified
offline by ``contest verify-instant-win``; the prizes nobody reached go to a final draw."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import instantwin, tables
from contest.clock import FixedClock
from contest.contests import load_contest
from contest.entries import confirm_entry
from contest.mail import Sender
from contest.settings import Settings
from contest.transactions import writing
from tests.contest.test_rules_changes import api  # noqa: F401
from tests.contest.test_self_service import contest_body
from tests.helpers import check_record, enter, link_in, read_eml, shown

API = tuple[TestClient, dict[str, str]]
PRIZES = [
    {"description": "Bon d'achat de 100 €", "quantity": 1, "unit_value": "100", "currency": "EUR",
     "kind": "voucher", "voucher_validity_days": 90},
    {"description": "Bon d'achat de 20 €", "quantity": 2, "unit_value": "20", "currency": "EUR",
     "kind": "voucher", "voucher_validity_days": 90},
]  # fmt: skip


def instant_body(clock: FixedClock, **fields: Any) -> dict[str, Any]:
    """An instant-win contest opening in an hour, for a week, drawn (leftovers) a day later."""
    now = clock.now()
    return contest_body(clock) | {
        "game": "instant_win",
        "randomness": "lottery",
        "randomness_detail": "EuroMillions of the draw day",
        "opens_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=7, hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "draw_at": (now + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M"),
        "prizes": PRIZES,
        **fields,
    }


def publish(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    created = client.post("/api/v1/contests", json=body, headers=headers)
    assert created.status_code == 201, created.text
    path = f"/api/v1/contests/{created.json()['id']}"
    published = client.post(path + "/publish", headers=headers)
    assert published.status_code == 200, published.text
    return path


def moments(engine: Engine) -> list[Any]:
    table = tables.instantmoment
    with engine.connect() as connection:
        return connection.execute(sa.select(table).order_by(table.c.position)).all()


def confirm_link(settings: Settings, sender: Sender, email: str) -> str:
    sender.run_once()
    [mail] = [m for m in read_eml(settings.mail_dir) if m["To"] == email]
    return link_in(mail, r"http://testserver/c/summer/confirm/\S+").removeprefix(
        "http://testserver"
    )


def test_moments_committed_at_publication_are_won_at_confirmation_and_verify_after_the_close(
    api: API,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
    sender: Sender,
    settings: Settings,
    tmp_path: Path,
) -> None:
    client, headers = api
    publish(client, headers, instant_body(clock))
    fixed = moments(engine)
    assert [m.prize_rank for m in fixed] == [1, 2, 2], "the earliest moment gives prize 1"
    committed = instantwin.commitment(_salt(engine), [m.at.replace(tzinfo=UTC) for m in fixed])
    assert committed in client.get("/c/summer/rules?lang=en").text
    assert client.get("/c/summer/instant-win.json").status_code == 404, "secret until the close"

    first = fixed[0].at.replace(tzinfo=UTC)
    opens = clock.now() + timedelta(hours=1)
    clock.instant = opens + (first - opens) / 2  # open, before the first moment
    assert enter(client, "summer", email="early@example.org").status_code == 303  # type: ignore[attr-defined]
    early = client.post(confirm_link(settings, sender, "early@example.org"))
    assert "Not this time." in shown(early)  # type: ignore[arg-type]

    clock.instant = first + timedelta(seconds=30)
    assert enter(client, "summer", email="lucky@example.org").status_code == 303  # type: ignore[attr-defined]
    clock.advance(timedelta(minutes=2))  # the moment waits for the first confirmation after it
    lucky = client.post(confirm_link(settings, sender, "lucky@example.org"))
    assert "You won: Bon d'achat de 100 €!" in shown(lucky)  # type: ignore[arg-type]
    sender.run_once()
    [win] = [m for m in read_eml(settings.mail_dir) if m["To"] == "lucky@example.org"
             and "confirm" not in m["Subject"].lower()]  # fmt: skip
    claim = link_in(win, r"http://testserver/c/summer/claim/\S+").removeprefix("http://testserver")
    assert client.get(claim).status_code == 200

    clock.instant = fixed[-1].at.replace(tzinfo=UTC) + timedelta(seconds=1)
    for email in ("late1@example.org", "late2@example.org"):
        assert enter(client, "summer", email=email).status_code == 303  # type: ignore[attr-defined]
        client.post(confirm_link(settings, sender, email))
    clock.instant = fixed[-1].at.replace(tzinfo=UTC) + timedelta(days=8)
    published = client.get("/c/summer/instant-win.json")
    assert published.status_code == 200
    record = published.json()
    assert record["commitment"] == committed and len(record["confirmations"]) == 4
    assert [m["ticket"] is not None for m in record["moments"]] == [True, True, True]
    checked = check_record("verify-instant-win", record, tmp_path)
    assert checked.returncode == 0, checked.stdout
    assert "3 moment(s) went to the first confirmation" in checked.stdout

    moved = json.loads(json.dumps(record))
    moved["moments"][1]["at"] = record["moments"][0]["at"]
    assert check_record("verify-instant-win", moved, tmp_path).returncode == 1
    favoured = json.loads(json.dumps(record))
    favoured["moments"][0]["ticket"] = record["confirmations"][-1]["ticket"]
    favoured["moments"][0]["won_at"] = record["confirmations"][-1]["confirmed_at"]
    refused = check_record("verify-instant-win", favoured, tmp_path)
    assert refused.returncode == 1 and "confirmed first and won nothing" in refused.stdout


def _salt(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(sa.select(tables.contest.c.instant_salt)).scalar_one())


def _pending_entries(engine: Engine, slug: str, count: int, at: datetime) -> list[str]:
    """``count`` pending entries of the contest, each with its person."""
    with engine.begin() as connection:
        contest = connection.execute(
            sa.select(tables.contest.c.id, tables.contest.c.organizer_id).where(
                tables.contest.c.slug == slug
            )
        ).one()
        tickets = []
        for n in range(count):
            email = f"p{n}@example.org"
            person = connection.execute(
                sa.insert(tables.person).values(
                    organizer_id=contest.organizer_id, email=email, email_key=email, created_at=at
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            ticket = f"t-{n:04d}"
            connection.execute(
                sa.insert(tables.entry).values(
                    public_id=ticket, contest_id=contest.id, person_id=person, status="pending",
                    chances=1, rules_version="test", answers={}, created_at=at,
                )
            )  # fmt: skip
            tickets.append(ticket)
    return tickets


def test_two_hundred_confirmations_at_once_around_one_moment_make_one_winner(
    api: API,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
) -> None:
    client, headers = api
    publish(client, headers, instant_body(clock, prizes=[dict(PRIZES[0])]))
    [moment] = moments(engine)
    at = moment.at.replace(tzinfo=UTC)
    tickets = _pending_entries(engine, "summer", 200, at - timedelta(minutes=5))
    with engine.connect() as connection:
        contest = load_contest(connection, "summer")
    assert contest is not None
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def confirm(batch: list[str]) -> None:
        start.wait()
        for n, ticket in enumerate(batch):
            when = at + timedelta(microseconds=n - len(batch) // 2)  # around the moment
            try:
                writing(engine, confirm_entry, contest, ticket, when)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

    threads = [threading.Thread(target=confirm, args=(tickets[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with engine.connect() as connection:
        won = connection.execute(
            sa.select(sa.func.count())
            .select_from(tables.instantmoment)
            .where(tables.instantmoment.c.entry_id.is_not(None))
        ).scalar_one()
        awards = connection.execute(
            sa.select(sa.func.count()).select_from(tables.prizeaward)
        ).scalar_one()
        confirmed = connection.execute(
            sa.select(sa.func.count())
            .select_from(tables.entry)
            .where(tables.entry.c.status == "confirmed")
        ).scalar_one()
    assert (won, awards, confirmed) == (1, 1, 200)


def test_prizes_nobody_reached_are_drawn_among_those_who_won_nothing(
    api: API,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
) -> None:
    client, headers = api
    path = publish(client, headers, instant_body(clock))
    fixed = moments(engine)
    tickets = _pending_entries(engine, "summer", 3, fixed[0].at.replace(tzinfo=UTC))
    with engine.connect() as connection:
        contest = load_contest(connection, "summer")
    assert contest is not None
    # Three confirmations at the first moment: the first wins prize 1, the others nothing
    # (the next moments are not due yet); two moments are left for the final draw.
    first = fixed[0].at.replace(tzinfo=UTC)
    for ticket in tickets:
        writing(engine, confirm_entry, contest, ticket, first)
    clock.instant = fixed[-1].at.replace(tzinfo=UTC) + timedelta(days=9)
    drawn = client.post(path + "/draw", json={"public_value": "1 2 3 4 5"}, headers=headers)
    assert drawn.status_code == 201, drawn.text
    record = drawn.json()
    winners = {w["ticket"] for w in record["winners"]}
    assert tickets[0] not in winners and record["pool"]["count"] == 2
    assert [p["description"] for p in record["prizes"]] == ["Bon d'achat de 20 €"] * 2


def test_a_contest_whose_leftovers_are_not_awarded_has_no_draw(
    api: API,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
) -> None:
    client, headers = api
    path = publish(client, headers, instant_body(clock, instant_leftover="lost"))
    rules = client.get("/c/summer/rules?lang=en").text
    assert "A prize whose moment nobody reached before the close is not awarded." in rules
    _pending_entries(engine, "summer", 1, clock.now())
    clock.advance(timedelta(days=9))
    refused = client.post(path + "/draw", json={"public_value": "1 2 3"}, headers=headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "instant_no_draw"


def test_the_format_and_the_moments_cannot_change_once_published(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = publish(client, headers, instant_body(clock))
    for change in ({"game": "draw"}, {"instant_spread": "daily"}, {"instant_leftover": "lost"}):
        answer = client.patch(path, json=change | {"reason": "changed my mind"}, headers=headers)
        assert answer.status_code == 422, answer.text


OPENS = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    salt=st.binary(min_size=32, max_size=32).map(bytes.hex),
    units=st.integers(min_value=1, max_value=60),
    hours=st.integers(min_value=1, max_value=24 * 60),
    spread=st.sampled_from(["period", "daily"]),
)
def test_moments_are_sorted_inside_the_period_and_the_salt_alone_gives_them(
    salt: str, units: int, hours: int, spread: str
) -> None:
    closes = OPENS + timedelta(hours=hours)
    found = instantwin.derive_moments(salt, OPENS, closes, units, spread)
    assert len(found) == units and found == sorted(found)
    assert all(OPENS <= moment < closes for moment in found)
    assert found == instantwin.derive_moments(salt, OPENS, closes, units, spread)
    if spread == "daily":  # each day gets its share, give or take one
        days = -(-hours // 24)
        per_day = [
            sum(1 for m in found if (m - OPENS) // timedelta(days=1) == d) for d in range(days)
        ]
        assert max(per_day) - min(per_day) <= 1
    moved = [*found[:-1], found[-1] + timedelta(microseconds=1)]
    assert instantwin.commitment(salt, moved) != instantwin.commitment(salt, found)


def test_a_contest_published_after_its_opening_has_no_moment_already_passed(
    api: API,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
) -> None:
    client, headers = api
    opened = instant_body(clock) | {
        "opens_at": (clock.now() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    }
    publish(client, headers, opened)
    assert all(m.at.replace(tzinfo=UTC) >= clock.now() for m in moments(engine))
