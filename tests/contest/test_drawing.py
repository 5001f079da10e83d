"""Drawing a contest from the database: the pool, the re-check, the record, drawn once."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from contest import tables
from contest.clock import FixedClock
from contest.draw import drawing, poolfile
from contest.draw import protocol as core
from contest.draw.drawing import (
    DrawOutcome,
    DrawRefused,
    placements,
    public_record_json,
    receipt_of,
    run_draw,
    signing_key,
    stored_record,
    verify_file,
)

KEY, KEY_ID = signing_key("a-test-secret-key")
pytestmark = pytest.mark.usefixtures("demo")


def after_draw_date(clock: FixedClock) -> datetime:
    """demo-closed closed yesterday: three days later, its announced draw date has passed."""
    return clock.now() + timedelta(days=3)


def draw(
    engine: Engine, clock: FixedClock, slug: str = "demo-closed", **options: Any
) -> DrawOutcome:
    now = options.pop("now", None) or after_draw_date(clock)
    return run_draw(engine, slug, now, signing_key=KEY, key_id=KEY_ID, **options)


def execute(engine: Engine, statement: Any, params: dict[str, Any] | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(statement, params or {})


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(sa.text(sql), params).scalar()


def contest_id(engine: Engine, slug: str = "demo-closed") -> int:
    return int(scalar(engine, "SELECT id FROM contest WHERE slug = :slug", slug=slug))


def confirmed(engine: Engine, slug: str = "demo-closed") -> dict[str, int]:
    """Ticket -> chances of the contest's confirmed entries."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT public_id, chances FROM entry WHERE contest_id = :cid "
                "AND status = 'confirmed'"
            ),
            {"cid": contest_id(engine, slug)},
        )
        return dict(rows.all())


def add_entry(engine: Engine, clock: FixedClock, slug: str, address: str, **fields: Any) -> str:
    """A confirmed entry of ``address`` (its person created) in contest ``slug``."""
    cid = contest_id(engine, slug)
    organizer = scalar(engine, "SELECT organizer_id FROM contest WHERE id = :cid", cid=cid)
    now = clock.now()
    with engine.begin() as connection:
        person_id = connection.execute(
            sa.insert(tables.person).values(
                organizer_id=organizer, email=address, email_key=address, created_at=now
            )
        ).inserted_primary_key[0]
        values = {
            "public_id": "t-" + address.replace("@", "-"),
            "contest_id": cid,
            "person_id": person_id,
            "status": "confirmed",
            "chances": 1,
            "rules_version": "test",
            "answers": {},
            "created_at": now - timedelta(days=2),
            "confirmed_at": now - timedelta(days=2),  # before the demo contests' close
        }
        connection.execute(sa.insert(tables.entry).values(**(values | fields)))
    return str(values["public_id"])


def test_demo_closed_draws_three_distinct_winners_and_alternates_from_its_entries(
    engine: Engine,
    clock: FixedClock,
) -> None:
    outcome = draw(engine, clock, operator="Ann Operator")
    record = outcome.record
    assert outcome.created
    pool = confirmed(engine)
    winners = [p.ticket for p in record.winners]
    alternates = [p.ticket for p in record.alternates]
    assert len(winners) == 3 and len(alternates) == 3
    assert len(set(winners + alternates)) == 6 and set(winners + alternates) <= set(pool)
    assert [p.rank for p in record.prizes] == [1, 2, 3]
    assert (record.pool.count, record.pool.total_weight) == (20, sum(pool.values()))
    assert record.exclusions == {} and record.operator == "Ann Operator"
    assert core.verify_record(record).ok and record.signature_valid(KEY)
    with engine.connect() as connection:
        placed = placements(connection, contest_id(engine))
        public_ids = dict(connection.execute(sa.text("SELECT id, public_id FROM entry")).all())
    assert [(p.kind, p.rank, p.prize_rank) for p in placed] == [
        ("winner", 1, 1),
        ("winner", 2, 2),
        ("winner", 3, 3),
        ("alternate", 1, None),
        ("alternate", 2, None),
        ("alternate", 3, None),
    ]
    assert [p.ticket for p in placed] == winners + alternates
    assert all(public_ids[p.entry_id] == p.ticket for p in placed)
    status = "SELECT status FROM contest WHERE slug = 'demo-closed'"
    assert scalar(engine, status) == "drawn"
    audit = "SELECT count(*) FROM auditevent WHERE action = 'contest.drawn'"
    assert scalar(engine, audit) == 1


def test_a_second_draw_returns_the_first_record_and_keeps_the_placements(
    engine: Engine, clock: FixedClock
) -> None:
    first = draw(engine, clock)
    with engine.connect() as connection:
        placed = placements(connection, first.record.contest_id)
    again = draw(
        engine, clock, public_value="another value", now=after_draw_date(clock) + timedelta(days=1)
    )
    assert not again.created and again.record == first.record
    with engine.connect() as connection:
        assert placements(connection, first.record.contest_id) == placed
        assert stored_record(connection, first.record.contest_id) == first.record
    assert scalar(engine, "SELECT count(*) FROM drawrecord") == 1


def test_two_simultaneous_draws_store_one_record(engine: Engine, clock: FixedClock) -> None:
    barrier, outcomes = threading.Barrier(2), []

    def racer() -> None:
        barrier.wait()
        outcomes.append(draw(engine, clock))

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.created for o in outcomes) == [False, True]
    assert outcomes[0].record == outcomes[1].record
    assert scalar(engine, "SELECT count(*) FROM drawplacement") == 6


def test_refused_before_the_announced_draw_date_and_while_open(
    engine: Engine, clock: FixedClock
) -> None:
    contest, now = tables.contest, clock.now()
    execute(
        engine,
        sa.update(contest)
        .where(contest.c.slug == "demo-closed")
        .values(draw_at=now + timedelta(days=2)),
    )
    with pytest.raises(DrawRefused, match="cannot take place earlier") as early:
        draw(engine, clock, now=now)
    assert early.value.code == "not_closed" and "tirage" in early.value.message_fr
    with pytest.raises(DrawRefused, match="after the contest closes") as still_open:
        draw(engine, clock, "demo")
    assert still_open.value.code == "not_closed"
    assert scalar(engine, "SELECT count(*) FROM drawrecord") == 0
    assert scalar(engine, "SELECT count(*) FROM contest WHERE status = 'drawn'") == 0


SPOILERS = {
    "draft": "UPDATE contest SET status = 'draft' WHERE slug = 'demo-closed'",
    "no_commitment": "UPDATE contest SET draw_secret = NULL WHERE slug = 'demo-closed'",
    "bad_commitment": "UPDATE contest SET draw_commitment = 'ab' WHERE slug = 'demo-closed'",
    "no_prizes": "DELETE FROM prize WHERE contest_id = (SELECT id FROM contest "
    "WHERE slug = 'demo-closed')",
    "no_entries": "UPDATE entry SET status = 'pending' WHERE contest_id = (SELECT id FROM "
    "contest WHERE slug = 'demo-closed')",
}


@pytest.mark.parametrize("code", list(SPOILERS))
def test_refused_and_nothing_written(engine: Engine, code: str, clock: FixedClock) -> None:
    execute(engine, sa.text(SPOILERS[code]))
    with pytest.raises(DrawRefused) as refused:
        draw(engine, clock)
    assert refused.value.code == code and refused.value.message_en
    assert scalar(engine, "SELECT count(*) FROM drawrecord") == 0
    assert scalar(engine, "SELECT count(*) FROM drawplacement") == 0


def test_refused_for_an_unknown_contest_and_an_operator_email(
    engine: Engine, clock: FixedClock
) -> None:
    with pytest.raises(DrawRefused, match="No contest 'nope'"):
        draw(engine, clock, "nope")
    with pytest.raises(DrawRefused) as refused:
        draw(engine, clock, operator="boss@example.org")
    assert refused.value.code == "operator"


@pytest.mark.rule("ALL-ELIGIBILITY-1", "FR-MINORS-1")
def test_ineligible_entries_are_left_out_and_counted_by_rule(
    engine: Engine, clock: FixedClock
) -> None:
    tickets = sorted(confirmed(engine))
    staff_ticket, minor_ticket = tickets[4], tickets[9]
    cid = contest_id(engine)
    execute(
        engine,
        sa.update(tables.contest)
        .where(tables.contest.c.id == cid)
        .values(excluded_email_domains=["laboutiquedemo.fr", "agency.test"]),
    )
    execute(
        engine,
        sa.text(
            "UPDATE person SET email = 'ann@agency.test', email_key = 'ann@agency.test' "
            "WHERE id = (SELECT person_id FROM entry WHERE public_id = :ticket)"
        ),
        {"ticket": staff_ticket},
    )
    born = (clock.now() - timedelta(days=16 * 365)).date().isoformat()
    execute(
        engine,
        sa.update(tables.entry)
        .where(tables.entry.c.public_id == minor_ticket)
        .values(answers={"first_name": "Kid", "birth_date": born}),
    )
    record = draw(engine, clock).record
    assert record.exclusions == {"ALL-ELIGIBILITY-1": 1, "FR-MINORS-1": 1}
    assert record.pool.count == 18 and record.pool.entries is not None
    listed = {entry.ticket for entry in record.pool.entries}
    assert staff_ticket not in listed and minor_ticket not in listed
    assert listed == set(tickets) - {staff_ticket, minor_ticket}
    assert core.verify_record(record).ok


@pytest.mark.rule("ALL-ELIGIBILITY-1")
@pytest.mark.parametrize("searched", [drawing.MARKED_SEARCHED, 1])
def test_the_staff_and_excluded_domains_are_found_in_every_batch(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, clock: FixedClock, searched: int
) -> None:
    """The staff's address and the excluded domains are searched per batch of rows: each is
    left out wherever it falls in a batch, a look-alike is not (a subdomain, the domain
    before the "@"), and each verdict agrees with the entry's own facts."""
    monkeypatch.setattr(drawing, "STREAM_BATCH", 3)
    monkeypatch.setattr(drawing, "CROSS_CHECK_EVERY", 1)
    monkeypatch.setattr(drawing, "MARKED_SEARCHED", searched)  # 1: row by row past the first
    cid = contest_id(engine)
    staff = scalar(
        engine,
        "SELECT o.contact_email FROM organizer o JOIN contest c ON c.organizer_id = o.id "
        "WHERE c.id = :c",
        c=cid,
    )
    execute(
        engine,
        sa.update(tables.contest)
        .where(tables.contest.c.id == cid)
        .values(excluded_email_domains=["agency.test", "shop.test"]),
    )
    tickets = sorted(confirmed(engine))
    keys = {
        tickets[0]: "ann@agency.test",
        tickets[1]: "bob@shop.test",
        tickets[2]: "cat@sub.agency.test",  # a subdomain: not excluded
        tickets[3]: "agency.test@example.org",  # the domain as the local part: not excluded
        tickets[5]: "dan@agency.test",
        tickets[8]: staff.lower(),
        tickets[9]: "eve@shop.test",
    }
    for ticket, key in keys.items():
        execute(
            engine,
            sa.text(
                "UPDATE person SET email_key = :key "
                "WHERE id = (SELECT person_id FROM entry WHERE public_id = :ticket)"
            ),
            {"key": key, "ticket": ticket},
        )
    record = draw(engine, clock).record
    out = {tickets[0], tickets[1], tickets[5], tickets[8], tickets[9]}
    assert record.exclusions == {"ALL-ELIGIBILITY-1": len(out)}
    assert record.pool.entries is not None
    assert {entry.ticket for entry in record.pool.entries} == set(tickets) - out


def close_demo_clients(engine: Engine, clock: FixedClock) -> None:
    """Closes the demo's client contest an hour ago, its announced drand round (still to come
    in the demo's dates) put aside: announced values are test_draw_randomness's subject."""
    moment, contest = clock.now() - timedelta(hours=1), tables.contest
    execute(
        engine,
        sa.update(contest)
        .where(contest.c.slug == "demo-clients")
        .values(status="closed", closes_at=moment, draw_at=moment, draw_beacon=None),
    )


@pytest.mark.rule("FR-CLIENTS-1")
def test_client_only_contests_recheck_the_client_data_at_draw_time(
    engine: Engine, clock: FixedClock
) -> None:
    close_demo_clients(engine, clock)
    loyal = add_entry(engine, clock, "demo-clients", "loyal@example.org")
    add_entry(engine, clock, "demo-clients", "recent@example.org")  # client after the cutoff
    add_entry(engine, clock, "demo-clients", "prospect@example.org")  # never a client
    record = draw(engine, clock, "demo-clients", now=clock.now()).record
    assert record.exclusions == {"FR-CLIENTS-1": 2}
    assert [p.ticket for p in record.winners] == [loyal] and record.alternates == ()
    assert record.anomalies == ()


def test_the_memoised_eligibility_agrees_with_each_entry_own_facts(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, clock: FixedClock
) -> None:
    close_demo_clients(engine, clock)
    for address in ("loyal@example.org", "recent@example.org", "x@laboutiquedemo.fr"):
        add_entry(engine, clock, "demo-clients", address)
    monkeypatch.setattr(drawing, "CROSS_CHECK_EVERY", 1)
    with monkeypatch.context() as blind:
        blind.setattr(drawing._Eligibility, "_key", lambda self, row: ())  # one verdict for all
        with pytest.raises(drawing.EligibilityMemoError):
            draw(engine, clock, "demo-clients", now=clock.now())
    assert scalar(engine, "SELECT count(*) FROM drawrecord") == 0
    record = draw(engine, clock, "demo-clients", now=clock.now()).record
    assert record.exclusions == {"ALL-ELIGIBILITY-1": 1, "FR-CLIENTS-1": 1}


def test_chances_are_the_weights_of_the_pool(engine: Engine, clock: FixedClock) -> None:
    ticket = sorted(confirmed(engine))[7]
    execute(engine, sa.text("UPDATE entry SET chances = 3 WHERE public_id = :t"), {"t": ticket})
    record = draw(engine, clock).record
    assert record.pool.entries is not None
    weights = {entry.ticket: entry.weight for entry in record.pool.entries}
    assert weights[ticket] == 3 and weights == confirmed(engine)
    assert record.pool.total_weight == sum(weights.values())
    assert receipt_of(ticket, 3) == core.receipt(ticket, 3) != receipt_of(ticket, 1)


def test_prize_quantities_give_consecutive_ranks_and_few_entries_are_noted(
    engine: Engine,
    clock: FixedClock,
) -> None:
    cid = contest_id(engine)
    execute(
        engine,
        sa.text("UPDATE prize SET quantity = 2 WHERE rank = 1 AND contest_id = :c"),
        {"c": cid},
    )
    keep = sorted(confirmed(engine))[:3]
    execute(
        engine,
        sa.update(tables.entry)
        .where(tables.entry.c.contest_id == cid, tables.entry.c.public_id.not_in(keep))
        .values(status="pending"),
    )
    outcome = draw(engine, clock)
    assert [p.rank for p in outcome.record.prizes] == [1, 2, 3, 4]
    assert len(outcome.record.winners) == 3 and outcome.record.alternates == ()
    assert outcome.record.anomalies == (
        "Only 3 eligible entries for 4 prizes: prizes 4 to 4 are not awarded.",
    )
    with engine.connect() as connection:
        assert [p.prize_rank for p in placements(connection, cid)] == [1, 1, 2]


def test_the_public_record_has_no_personal_data(engine: Engine, clock: FixedClock) -> None:
    text = public_record_json(draw(engine, clock).record)
    assert "@" not in text and "example.net" not in text
    assert core.DrawRecord.from_json(text).signature_valid(KEY)


def test_a_large_pool_is_published_apart_with_inclusion_proofs(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: FixedClock
) -> None:
    monkeypatch.setattr(drawing, "POOL_LISTING_LIMIT", 10)
    record = draw(engine, clock).record
    assert record.pool.entries is None
    assert all(p.proof for p in record.winners + record.alternates)
    (tmp_path / "record.json").write_text(public_record_json(record))
    alone = verify_file(tmp_path / "record.json")
    assert [p.code for p in alone.problems] == ["pool.entries"]
    pool = [core.PoolEntry(t, w) for t, w in sorted(confirmed(engine).items())]
    (tmp_path / "pool.tsv").write_bytes(b"".join(core.pool_line(e) for e in pool))
    assert verify_file(tmp_path / "record.json", tmp_path / "pool.tsv").ok
    pool[0] = core.PoolEntry(pool[0].ticket, pool[0].weight + 1)
    (tmp_path / "pool.tsv").write_bytes(b"".join(core.pool_line(e) for e in pool))
    changed = verify_file(tmp_path / "record.json", tmp_path / "pool.tsv")
    assert "pool.digest" in {p.code for p in changed.problems}


def test_the_pool_file_of_a_large_draw_is_served_and_verifies_the_record(
    engine: Engine, client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: FixedClock
) -> None:
    """Anyone downloads record and pool file from the contest's site and checks the draw."""
    assert client.get("/c/demo-closed/pool.tsv").status_code == 404  # not drawn yet
    monkeypatch.setattr(drawing, "POOL_LISTING_LIMIT", 10)
    monkeypatch.setattr(poolfile, "PART_BYTES", 64)  # several stored parts
    draw(engine, clock)
    assert scalar(engine, "SELECT count(*) FROM drawpoolchunk") > 1

    answer = client.get("/c/demo-closed/pool.tsv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/tab-separated-values")
    (tmp_path / "pool.tsv").write_bytes(answer.content)
    (tmp_path / "record.json").write_bytes(client.get("/c/demo-closed/draw.json").content)
    assert verify_file(tmp_path / "record.json", tmp_path / "pool.tsv").ok
    assert answer.content.count(b"\n") == len(confirmed(engine))
    client.app.state.contest.contests.forget("demo-closed")
    assert 'href="/c/demo-closed/pool.tsv"' in client.get("/c/demo-closed").text


def test_a_listed_pool_is_in_the_record_and_its_file_stays_published(
    engine: Engine, client: Any, clock: FixedClock
) -> None:
    record = draw(engine, clock).record
    assert record.pool.entries is not None
    frozen = client.get("/c/demo-closed/pool.tsv")  # published since the close
    assert hashlib.sha256(frozen.content).hexdigest() == record.pool.digest
    assert "pool.tsv" not in client.get("/c/demo-closed").text, "the record lists it"


def test_an_open_contest_past_its_closing_is_drawn_and_becomes_drawn(
    engine: Engine, clock: FixedClock
) -> None:
    execute(engine, sa.text("UPDATE contest SET status = 'open' WHERE slug = 'demo-closed'"))
    assert draw(engine, clock).created
    assert scalar(engine, "SELECT status FROM contest WHERE slug = 'demo-closed'") == "drawn"


def test_an_archived_contest_is_refused(engine: Engine, clock: FixedClock) -> None:
    execute(engine, sa.text("UPDATE contest SET status = 'archived' WHERE slug = 'demo-closed'"))
    with pytest.raises(DrawRefused, match="while it is 'archived'"):
        draw(engine, clock)


def test_a_contest_published_before_its_opening_is_drawn_once_its_dates_have_passed(
    engine: Engine, clock: FixedClock
) -> None:
    """Published before its opening, a contest keeps the status "scheduled": its dates say
    when it has closed (ALL-DRAW-POOL-1), not the status."""
    execute(engine, sa.text("UPDATE contest SET status = 'scheduled' WHERE slug = 'demo-closed'"))
    assert draw(engine, clock).created


def test_a_full_disk_while_the_pool_file_is_written_freezes_and_draws_nothing(
    engine: Engine, client: Any, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool file is compressed by a thread of its own: an error there (no space left)
    still reaches the draw, which then keeps nothing; once space is back, it draws."""

    class FullDisk:
        def write(self, data: bytes) -> int:
            raise OSError(28, "No space left on device")

        def close(self) -> None:
            pass

    monkeypatch.setattr(poolfile.tempfile, "TemporaryFile", FullDisk)
    with pytest.raises(OSError, match="No space left"):
        draw(engine, clock)
    assert scalar(engine, "SELECT count(*) FROM poolfreeze") == 0
    assert scalar(engine, "SELECT count(*) FROM drawrecord") == 0
    assert client.get("/c/demo-closed/pool.tsv").status_code == 404

    monkeypatch.undo()
    record = draw(engine, clock).record
    frozen = client.get("/c/demo-closed/pool.tsv")
    assert hashlib.sha256(frozen.content).hexdigest() == record.pool.digest
