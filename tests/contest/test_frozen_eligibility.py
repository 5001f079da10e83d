"""What a contest knew at its cut-off and at its close stays what it knew: client history,
the client set committed at publication, the pool frozen at the close (SQLite and
PostgreSQL), through the API, the entry form, the worker and the draw."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.clock import FixedClock
from contest.contests import load_contest
from contest.draw import drawing, poolfile
from contest.entries import confirm_entry
from contest.leads.clients import import_clients
from contest.mail import Sender
from contest.tokens import Purpose, Signer
from contest.transactions import writing
from tests.contest.test_api import CONTEST
from tests.helpers import enter, shown

KEY, KEY_ID = drawing.signing_key("a-test-secret-key")
pytestmark = pytest.mark.usefixtures("demo")


@contextmanager
def at(clock: FixedClock, moment: datetime) -> Iterator[None]:
    """The app's clock at ``moment`` for a while (an import made in the past, say)."""
    saved = clock.instant
    clock.instant = moment
    try:
        yield
    finally:
        clock.instant = saved


def upsert(client: TestClient, bearer: dict[str, str], **fields: Any) -> None:
    fields = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in fields.items()
    }
    answer = client.post("/api/v1/clients", json={"clients": [fields]}, headers=bearer)
    assert answer.status_code == 200 and not answer.json()["errors"], answer.text


def entrants(engine: Engine, slug: str) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(tables.person.c.email)
                .join(tables.entry, tables.entry.c.person_id == tables.person.c.id)
                .join(tables.contest, tables.contest.c.id == tables.entry.c.contest_id)
                .where(tables.contest.c.slug == slug)
                .order_by(tables.person.c.email)
            ).scalars()
        )


def change(client: TestClient, engine: Engine, slug: str, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.contest).where(tables.contest.c.slug == slug).values(**values)
        )
    client.app.state.contest.contests.clear()  # type: ignore[attr-defined]


def told(sender: Sender, settings: Any, address: str) -> list[str]:
    """The plain text of the e-mails sent to ``address`` so far."""
    from tests.helpers import read_eml

    sender.run_once()
    return [
        str(mail.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
        for mail in read_eml(settings.mail_dir)
        if mail["To"] == address
    ]


# --- Client history --------------------------------------------------------------------------


@pytest.mark.rule("FR-CLIENTS-1")
def test_more_orders_learned_after_the_cutoff_open_no_segment_contest(
    client: TestClient,
    bearer: dict[str, str],
    clock: FixedClock,
    engine: Engine,
    sender: Sender,
    settings: Any,
) -> None:
    change(client, engine, "demo-clients", audience="segment", segment_min_orders=5)
    start = clock.now()
    with at(clock, start - timedelta(days=10)):  # the shop's sync before the cut-off
        upsert(client, bearer, email="few@example.org", client_since=start - timedelta(days=400))
    assert enter(client, "demo-clients", email="few@example.org").status_code == 303
    [mail] = told(sender, settings, "few@example.org")
    assert "un groupe de clients dont vous ne faites pas partie" in mail

    upsert(  # today's sync: twelve orders, learned after the cut-off
        client,
        bearer,
        email="few@example.org",
        client_since=start - timedelta(days=400),
        orders_count=12,
    )
    clock.advance(timedelta(hours=2))
    assert enter(client, "demo-clients", email="few@example.org").status_code == 303
    assert entrants(engine, "demo-clients") == [], "what the shop said later changes nothing"
    assert len(told(sender, settings, "few@example.org")) == 2
    enter(client, "demo-clients", email="loyal@example.org")  # 14 orders, known for a month
    assert entrants(engine, "demo-clients") == ["loyal@example.org"]


def test_a_client_date_moved_earlier_after_the_offer_lets_no_one_in(
    client: TestClient, bearer: dict[str, str], clock: FixedClock, engine: Engine
) -> None:
    long_ago = clock.now() - timedelta(days=400)
    upsert(client, bearer, email="recent@example.org", client_since=long_ago)  # was 2 days ago
    upsert(client, bearer, email="newcomer@example.org", client_since=long_ago, orders_count=3)
    for address in ("recent@example.org", "newcomer@example.org", "loyal@example.org"):
        assert enter(client, "demo-clients", email=address).status_code == 303
    assert entrants(engine, "demo-clients") == ["loyal@example.org"]

    with engine.connect() as connection:
        evidence = connection.execute(
            sa.select(tables.entry.c.eligibility)
            .join(tables.contest, tables.contest.c.id == tables.entry.c.contest_id)
            .where(tables.contest.c.slug == "demo-clients")
        ).scalar_one()
        version = connection.execute(
            sa.select(tables.clientversion.c.id).where(
                tables.clientversion.c.email_key == "loyal@example.org"
            )
        ).scalar_one()
    assert evidence["client_version"] == version
    assert (evidence["rule"], evidence["outcome"]) == ("FR-CLIENTS-1", "eligible")


def test_the_rules_show_the_client_set_committed_at_publication(client: TestClient) -> None:
    page = shown(client.get("/c/demo-clients/rules"))
    # loyal@ was a client before the cut-off; recent@ became one after it.
    assert hashlib.sha256(b"loyal@example.org\n").hexdigest() in page
    english = shown(client.get("/c/demo-clients/rules?lang=en"))
    assert "Who counts as a client" in english and "Clients admitted: 1." in english


def test_publishing_a_client_only_contest_commits_its_clients(
    client: TestClient, bearer: dict[str, str], clock: FixedClock, engine: Engine
) -> None:
    created = client.post(
        "/api/v1/contests",
        json={
            **CONTEST,
            "slug": "clients-two",
            "audience": "clients",
            "requires_purchase": False,
            "client_cutoff_at": (clock.now() - timedelta(days=1)).isoformat(),
        },
        headers=bearer,
    )
    assert created.status_code == 201, created.text
    contest_id = created.json()["id"]
    published = client.post(f"/api/v1/contests/{contest_id}/publish", headers=bearer)
    assert published.status_code == 200, published.text
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(tables.clientset).where(tables.clientset.c.contest_id == contest_id)
        ).one()
    # Its cut-off is yesterday: recent@ (a client for two days, known as such) is in this time.
    both = b"loyal@example.org\nrecent@example.org\n"
    assert row.clients == 2 and row.digest == hashlib.sha256(both).hexdigest()


# --- The pool frozen at the close ---------------------------------------------------------


def pending_entry(engine: Engine, slug: str, address: str, moment: datetime) -> str:
    """An entry of ``address`` waiting for its confirmation since ``moment``."""
    with engine.begin() as connection:
        contest = connection.execute(
            sa.select(tables.contest.c.id, tables.contest.c.organizer_id).where(
                tables.contest.c.slug == slug
            )
        ).one()
        person = connection.execute(
            sa.insert(tables.person).values(
                organizer_id=contest.organizer_id,
                email=address,
                email_key=address,
                created_at=moment,
            )
        ).inserted_primary_key[0]
        ticket = hashlib.sha256(address.encode()).hexdigest()[:16]
        connection.execute(
            sa.insert(tables.entry).values(
                public_id=ticket,
                contest_id=contest.id,
                person_id=person,
                status="pending",
                rules_version="test",
                created_at=moment,
                confirmation_sent_at=moment,
            )
        )
    return ticket


def confirm(engine: Engine, slug: str, ticket: str, moment: datetime) -> None:
    with engine.connect() as connection:
        contest = load_contest(connection, slug, include_drafts=True)
    assert contest is not None
    writing(engine, confirm_entry, contest, ticket, moment)


def pool_lines(client: TestClient, slug: str) -> dict[str, int]:
    answer = client.get(f"/c/{slug}/pool.tsv")
    assert answer.status_code == 200
    return {line.split("\t")[0]: int(line.split("\t")[1]) for line in answer.text.splitlines()}


def test_what_happens_after_the_close_never_changes_the_pool(
    client: TestClient, clock: FixedClock, engine: Engine, sender: Sender, signer: Signer
) -> None:
    now = clock.now()  # demo-closed closed a day ago; its worker was down since
    closed_at = now - timedelta(days=1)
    referrer = pending_entry(
        engine, "demo-closed", "ref@example.org", closed_at - timedelta(days=3)
    )
    friend = pending_entry(
        engine, "demo-closed", "friend@example.org", closed_at - timedelta(days=2)
    )
    late = pending_entry(engine, "demo-closed", "late@example.org", closed_at - timedelta(hours=5))
    confirm(engine, "demo-closed", referrer, closed_at - timedelta(days=2))
    with engine.begin() as connection:
        ids = dict(connection.execute(sa.select(tables.entry.c.public_id, tables.entry.c.id)).all())
        contest_id = connection.execute(
            sa.select(tables.contest.c.id).where(tables.contest.c.slug == "demo-closed")
        ).scalar_one()
        connection.execute(
            sa.insert(tables.referral).values(
                contest_id=contest_id,
                referrer_entry_id=ids[referrer],
                referred_entry_id=ids[friend],
                created_at=closed_at - timedelta(days=2),
            )
        )
    # After the close: the friend confirms (the referrer is credited), so does a late entrant.
    confirm(engine, "demo-closed", friend, closed_at + timedelta(hours=1))
    confirm(engine, "demo-closed", late, closed_at + timedelta(hours=2))
    with engine.connect() as connection:
        chances = connection.execute(
            sa.select(tables.entry.c.chances).where(tables.entry.c.public_id == referrer)
        ).scalar_one()
    assert chances == 2, "the credit is recorded"

    assert client.get("/c/demo-closed/pool.tsv").status_code == 404
    assert sender.maintenance is not None
    sender.maintenance(now)  # the worker comes back: it freezes the pool as of the close
    pool = pool_lines(client, "demo-closed")
    assert pool[referrer] == 1, "the bonus earned after the close is not in the pool"
    assert friend not in pool and late not in pool
    assert len(pool) == 21  # the demo's twenty and the referrer
    with engine.connect() as connection:
        frozen = drawing.frozen_pool(connection, contest_id)
    assert frozen is not None and frozen.entries == 21
    page = shown(client.get("/c/demo-closed"))
    assert frozen.digest in page and "Les participations sont closes" in page

    # Each person's receipt is their line of the frozen pool, or none.
    def own_page(ticket: str) -> str:
        return client.get(f"/c/demo-closed/me/{signer.sign(Purpose.ME, ticket)}").text

    assert drawing.receipt_of(referrer, 1) in own_page(referrer)
    assert drawing.receipt_of(referrer, 2) not in own_page(referrer)
    assert "data-receipt" not in own_page(late)

    # Later events, a second worker pass, then the draw: the same pool.
    confirm(engine, "demo-closed", late, now + timedelta(hours=1))
    sender.maintenance(now + timedelta(hours=2))
    outcome = drawing.run_draw(
        engine, "demo-closed", now + timedelta(days=3), signing_key=KEY, key_id=KEY_ID
    )
    assert outcome.record.pool.digest == frozen.digest
    assert {e.ticket for e in outcome.record.pool.entries or ()} == set(pool)
    assert b"".join(poolfile.read(engine, contest_id)).decode().count("\n") == 21


def test_a_client_reimport_after_the_close_removes_no_one(
    client: TestClient, bearer: dict[str, str], clock: FixedClock, engine: Engine, sender: Sender
) -> None:
    enter(client, "demo-clients", email="loyal@example.org")
    with engine.connect() as connection:
        ticket = connection.execute(
            sa.select(tables.entry.c.public_id)
            .join(tables.contest, tables.contest.c.id == tables.entry.c.contest_id)
            .where(tables.contest.c.slug == "demo-clients")
        ).scalar_one()
    confirm(engine, "demo-clients", ticket, clock.now())
    change(client, engine, "demo-clients", closes_at=clock.now() + timedelta(minutes=1))
    clock.advance(timedelta(hours=1))
    # The shop now says loyal@ became a client yesterday: today's state would refuse them.
    upsert(client, bearer, email="loyal@example.org", client_since=clock.now() - timedelta(days=1))
    assert sender.maintenance is not None
    sender.maintenance(clock.now())
    assert pool_lines(client, "demo-clients") == {ticket: 1}


def test_the_draw_freezes_first_when_the_worker_has_not(engine: Engine, clock: FixedClock) -> None:
    outcome = drawing.run_draw(
        engine, "demo-closed", clock.now() + timedelta(days=3), signing_key=KEY, key_id=KEY_ID
    )
    with engine.connect() as connection:
        frozen = drawing.frozen_pool(connection, outcome.record.contest_id)
    assert frozen is not None and frozen.digest == outcome.record.pool.digest
    assert frozen.entries == 20


def test_a_contest_still_open_is_not_frozen(engine: Engine, clock: FixedClock) -> None:
    with engine.connect() as connection:
        contest = load_contest(connection, "demo")
    assert contest is not None
    with pytest.raises(drawing.DrawRefused) as refused:
        drawing.freeze_pool(engine, contest, clock.now())
    assert refused.value.code == "not_closed"
    assert drawing.freeze_closed(engine, clock.now()) == 1  # demo-closed only


# --- Any order of events ---------------------------------------------------------------------

EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("enter"), st.integers(0, 2)),
        st.tuples(st.just("confirm"), st.integers(0, 2)),
        st.tuples(st.just("import"), st.integers(0, 2), st.integers(0, 30), st.integers(0, 9)),
        st.tuples(st.just("refer"), st.integers(0, 2), st.integers(0, 2)),
    ),
    max_size=24,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(before=EVENTS, after=EVENTS)
@example(
    before=[("import", 0, 10, 1), ("enter", 0), ("enter", 1), ("confirm", 0), ("refer", 0, 1)],
    after=[("confirm", 1), ("import", 0, 0, 0), ("enter", 2), ("confirm", 2)],
)
def test_the_frozen_pool_never_changes_after_the_close(
    engine: Engine, clock: FixedClock, before: list[Any], after: list[Any]
) -> None:
    """Imports, entries, confirmations and referrals in any order around the close: the pool
    computed at the close, the one frozen by a late worker and the one drawn are the same."""
    run = hashlib.sha256(repr((before, after)).encode()).hexdigest()[:10]
    note(f"events {before} | close | {after}")
    slug = f"p-{run}"
    columns = [c for c in tables.contest.c if c.name not in ("id", "slug")]
    start = clock.now()
    closes = start + timedelta(hours=1)
    with engine.begin() as connection:
        if connection.execute(
            sa.select(tables.contest.c.id).where(tables.contest.c.slug == slug)
        ).first():
            return  # the same example again: already checked
        connection.execute(
            sa.insert(tables.contest).from_select(
                [c.name for c in columns] + ["slug"],
                sa.select(*columns, sa.literal(slug)).where(
                    tables.contest.c.slug == "demo-clients"
                ),
            )
        )
        connection.execute(
            sa.update(tables.contest)
            .where(tables.contest.c.slug == slug)
            .values(closes_at=closes, draw_at=closes, referral_bonus=1, referral_cap=5)
        )
        organizer = connection.execute(
            sa.select(tables.contest.c.organizer_id).where(tables.contest.c.slug == slug)
        ).scalar_one()
    tickets: dict[int, str] = {}

    def apply(events: list[Any], moment: datetime) -> None:
        for n, step in enumerate(events):
            when = moment + timedelta(seconds=n + 1)
            address = f"{run}-{step[1]}@example.org"
            if step[0] == "enter" and step[1] not in tickets:
                tickets[step[1]] = pending_entry(engine, slug, address, when)
            elif step[0] == "confirm" and step[1] in tickets:
                confirm(engine, slug, tickets[step[1]], when)
            elif step[0] == "import":
                since = (when - timedelta(days=step[2], seconds=1)).isoformat()
                line = f"{address},{since},{step[3]},\n"
                report = import_clients(
                    engine, organizer, ["email,client_since,orders_count,segments\n", line], when
                )
                assert report.fatal is None
            elif step[0] == "refer" and {step[1], step[2]} <= set(tickets):
                if step[1] != step[2]:
                    refer(engine, slug, tickets[step[1]], tickets[step[2]], when)

    with engine.connect() as connection:
        contest = load_contest(connection, slug, include_drafts=True)
    assert contest is not None and contest.client_cutoff_at is not None
    # Before the close, around the client cut-off: half the events on either side of it.
    apply(before, contest.client_cutoff_at - timedelta(seconds=len(before) // 2))
    at_close = drawing.pool_at_close(engine, contest, closes)
    apply(after, closes)  # after the close: recorded, never counted
    frozen = drawing.freeze_pool(engine, contest, closes + timedelta(hours=1))
    event(f"pool of {at_close.entries} at the close")
    assert (frozen.digest, frozen.entries, frozen.total_weight) == (
        at_close.digest,
        at_close.entries,
        at_close.total_weight,
    )


def refer(engine: Engine, slug: str, referrer: str, friend: str, moment: datetime) -> None:
    with engine.begin() as connection:
        ids = dict(
            connection.execute(
                sa.select(tables.entry.c.public_id, tables.entry.c.id).where(
                    tables.entry.c.public_id.in_([referrer, friend])
                )
            ).all()
        )
        taken = connection.execute(
            sa.select(tables.referral.c.id).where(
                tables.referral.c.referred_entry_id == ids[friend]
            )
        ).first()
        if taken is None:
            connection.execute(
                sa.insert(tables.referral).values(
                    contest_id=connection.execute(
                        sa.select(tables.contest.c.id).where(tables.contest.c.slug == slug)
                    ).scalar_one(),
                    referrer_entry_id=ids[referrer],
                    referred_entry_id=ids[friend],
                    created_at=moment,
                )
            )
