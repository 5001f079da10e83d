"""Viral statistics: hand-built referral trees, figures computed by hand, on both databases."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlmodel import Session

from contest import tables
from contest.clock import FixedClock
from contest.models import Contest, Organizer
from contest.storage import create_db_engine
from viral.stats import Cohort, LeaderboardRow, ViralStats, display_name, leaderboard, viral_stats

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DAY1 = datetime(2026, 11, 1, tzinfo=UTC)
_serial = itertools.count()

# (first name, confirmed at or None for pending, referrer entry id or None)
Row = tuple[str, datetime | None, int | None]


def contest_id(connection: Connection, slug: str) -> int:
    return int(
        connection.execute(
            sa.select(tables.contest.c.id).where(tables.contest.c.slug == slug)
        ).scalar_one()
    )


def add_entries(connection: Connection, contest: int, rows: Sequence[Row]) -> list[int]:
    """Inserts one person and one entry per row (two batched inserts); returns the entry ids."""
    person, entry = tables.person, tables.entry
    organizer_id = connection.execute(
        sa.select(tables.contest.c.organizer_id).where(tables.contest.c.id == contest)
    ).scalar_one()
    serials = [next(_serial) for _ in rows]
    people = connection.execute(
        sa.insert(person).returning(person.c.id, sort_by_parameter_order=True),
        [
            {
                "organizer_id": organizer_id,
                "email": f"p{n}@example.org",
                "email_key": f"p{n}@example.org",
                "first_name": name,
                "created_at": DAY1,
            }
            for n, (name, _confirmed, _referrer) in zip(serials, rows, strict=True)
        ],
    ).scalars()
    entries = connection.execute(
        sa.insert(entry).returning(entry.c.id, sort_by_parameter_order=True),
        [
            {
                "public_id": f"pub{n}",
                "contest_id": contest,
                "person_id": person_id,
                "status": "confirmed" if confirmed else "pending",
                "chances": 1,
                "rules_version": "test",
                "answers": {},
                "source": "referral" if referrer else "direct",
                "language": "fr",
                "created_at": (confirmed or DAY1) - timedelta(minutes=5),
                "confirmed_at": confirmed,
                "confirmation_sent_at": (confirmed or DAY1) - timedelta(minutes=5),
                "referrer_entry_id": referrer,
                "referral_code": f"CODE{n}" if confirmed else None,
                "ip_network": "",
            }
            for n, person_id, (_name, confirmed, referrer) in zip(
                serials, list(people), rows, strict=True
            )
        ],
    ).scalars()
    return list(entries)


def add_referrals(
    connection: Connection,
    contest: int,
    rows: Sequence[tuple[int, int, str, list[str], datetime | None]],
) -> None:
    """(referrer, referred, status, reasons, decided at) per referral row, in one insert."""
    connection.execute(
        sa.insert(tables.referral),
        [
            {
                "contest_id": contest,
                "referrer_entry_id": referrer,
                "referred_entry_id": referred,
                "status": status,
                "reasons": reasons,
                "score": len(reasons),
                "bonus": 1 if status == "credited" else 0,
                "created_at": DAY1,
                "confirmed_at": decided,
                "decided_at": decided,
            }
            for referrer, referred, status, reasons, decided in rows
        ],
    )


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """November ``day``, 2026, at ``hour``:``minute`` UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def build_tree(connection: Connection, contest: int) -> None:
    """Three generations. Gen 0: Alice, Bob, Chloé (1 Nov), Dan (2 Nov).
    Gen 1: Alice brought A1 and A2 (2 Nov 08:00, 09:00) and A3 (pending); Bob brought B1
    (1 Nov 16:00). Gen 2: A1 brought A1a (2 Nov 10:00), who brought A1a1 (pending)."""
    alice, bob, _chloe, _dan = add_entries(
        connection,
        contest,
        [
            ("Alice Martin", at(1, 9), None),
            ("Bob", at(1, 10), None),
            ("Chloé", at(1, 11), None),
            ("Dan", at(2, 8), None),
        ],
    )
    a1, a2, a3, b1 = add_entries(
        connection,
        contest,
        [
            ("Anna", at(2, 8), alice),
            ("Aziz", at(2, 9), alice),
            ("Arno", None, alice),
            ("Bea", at(1, 16), bob),
        ],
    )
    (a1a,) = add_entries(connection, contest, [("Ada", at(2, 10), a1)])
    (a1a1,) = add_entries(connection, contest, [("Abe", None, a1a)])
    add_referrals(
        connection,
        contest,
        [
            (alice, a1, "credited", [], at(2, 8)),
            (alice, a2, "credited", [], at(2, 9)),
            (alice, a3, "pending", [], None),
            (bob, b1, "credited", [], at(1, 16)),
            (a1, a1a, "review", ["DISPOSABLE_DOMAIN"], None),
            (a1a, a1a1, "pending", [], None),
        ],
    )
    connection.execute(
        sa.insert(tables.invitation),
        [
            {
                "contest_id": contest,
                "referrer_entry_id": alice,
                "address_hash": f"hash{n}",
                "ip_network": "",
                "created_at": at(1, 12),
            }
            for n in range(2)
        ],
    )
    connection.execute(
        sa.insert(tables.linkclick),
        [
            {"contest_id": contest, "kind": kind, "code": "CODE", "created_at": at(1, 12)}
            for kind in ("referral", "referral", "referral", "source")
        ],
    )


TREE = ViralStats(
    contest_id=0,  # replaced by the contest's id
    as_of=NOW,
    invitations_sent=2,
    referral_clicks=3,
    referral_entries=6,  # A1, A2, A3, B1, A1a, A1a1
    referral_confirmations=4,  # A1, A2, B1, A1a
    participants=8,
    k=4 / 8,
    cohorts=(
        # 1 Nov: Alice, Bob, Chloé, B1; they brought A1, A2 (Alice), B1 (Bob).
        Cohort(date(2026, 11, 1), 4, 3, 0.75),
        # 2 Nov: Dan, A1, A2, A1a; A1 brought A1a.
        Cohort(date(2026, 11, 2), 4, 1, 0.25),
    ),
    generations=(4, 3, 1),
    depth=2,
    # First referral: Alice 23 h (A1), Bob 6 h (B1), A1 2 h (A1a): the median is 6 h.
    cycle_time_seconds=6 * 3600.0,
    referrers=3,
    top_referrers=1,
    top_referrer_share=2 / 4,  # Alice
    referrals=6,
    fraud_removed=1,  # A1a in review
    fraud_share=1 / 6,
)


@pytest.fixture
def demo_ids(engine: Engine, demo: None) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            slug: contest_id(connection, slug) for slug in ("demo", "demo-clients", "demo-closed")
        }


def test_three_generation_tree_gives_the_hand_computed_figures(
    engine: Engine, demo_ids: dict[str, int]
) -> None:
    with engine.begin() as connection:
        build_tree(connection, demo_ids["demo"])
    with engine.connect() as connection:
        stats = viral_stats(connection, demo_ids["demo"], NOW)
        board = leaderboard(connection, demo_ids["demo"])
        # Cohorts stop at the UTC day of ``now``; later confirmations of their referrals count.
        first_day = viral_stats(connection, demo_ids["demo"], at(1, 23, 59)).cohorts
    assert stats == replace(TREE, contest_id=demo_ids["demo"])
    assert first_day == (Cohort(date(2026, 11, 1), 4, 3, 0.75),)
    assert board == (LeaderboardRow(1, "Alice M.", 2), LeaderboardRow(2, "Bob", 1))


def test_cohorts_are_the_last_thirty_days_with_data_oldest_first(
    engine: Engine, demo_ids: dict[str, int]
) -> None:
    start = datetime(2026, 9, 1, 12, tzinfo=UTC)
    with engine.begin() as connection:
        add_entries(
            connection,
            demo_ids["demo"],
            [(f"Day {n}", start + timedelta(days=2 * n), None) for n in range(32)],
        )
        stats = viral_stats(connection, demo_ids["demo"], NOW)
    days = [cohort.day for cohort in stats.cohorts]
    assert len(days) == 30
    assert days[0] == date(2026, 9, 5) and days[-1] == date(2026, 11, 2)
    assert days == sorted(days)
    assert all(cohort == Cohort(cohort.day, 1, 0, 0.0) for cohort in stats.cohorts)


def test_cycle_time_of_an_even_number_of_referrers_is_the_mean_of_the_middle_two(
    engine: Engine, demo_ids: dict[str, int]
) -> None:
    contest = demo_ids["demo"]
    start = at(5, 12)
    with engine.begin() as connection:
        referrers = add_entries(connection, contest, [(f"R{n}", start, None) for n in range(4)])
        delays = [timedelta(seconds=s) for s in (1.5, 2.25, 3600, 90000)]
        add_entries(
            connection,
            contest,
            [
                (f"F{n}", start + d, r)
                for n, (r, d) in enumerate(zip(referrers, delays, strict=True))
            ]
            # A later second referral of the first referrer does not change its delay.
            + [("Late", start + timedelta(days=9), referrers[0])],
        )
        stats = viral_stats(connection, contest, NOW)
    assert stats.cycle_time_seconds == pytest.approx((2.25 + 3600) / 2, abs=0.001)


def test_top_one_percent_of_120_referrers_is_two_referrers(
    engine: Engine, demo_ids: dict[str, int]
) -> None:
    contest = demo_ids["demo"]
    with engine.begin() as connection:
        referrers = add_entries(
            connection, contest, [(f"R{n}", at(3, 9), None) for n in range(120)]
        )
        brought = [10, 6, 5] + [1] * 117  # 138 confirmed referral entries
        rows: list[Row] = [
            (f"F{n}-{i}", at(4, 9), referrer)
            for n, (referrer, count) in enumerate(zip(referrers, brought, strict=True))
            for i in range(count)
        ]
        # Pending referral entries do not count: with them, R3 would lead with 21.
        rows += [(f"P{i}", None, referrers[3]) for i in range(20)]
        add_entries(connection, contest, rows)
        stats = viral_stats(connection, contest, NOW)
    assert (stats.referrers, stats.top_referrers) == (120, 2)
    assert stats.top_referrer_share == 16 / 138
    assert stats.referral_entries == 158 and stats.referral_confirmations == 138
    assert stats.k == 138 / 258
    assert stats.generations == (120, 138) and stats.depth == 1


def test_fraud_share_counts_review_rejected_and_fraud_reasons_not_the_cap(
    engine: Engine, demo_ids: dict[str, int]
) -> None:
    contest, other = demo_ids["demo"], demo_ids["demo-closed"]
    outcomes: list[tuple[str, list[str]]] = [
        ("credited", []),
        ("pending", []),
        ("not_credited", ["CAP_REACHED"]),
        ("not_credited", ["BONUS_OFF"]),
        ("not_credited", ["SELF_REFERRAL"]),  # removed
        ("review", ["IP_BURST"]),  # removed
        ("rejected", ["REFERRAL_RING"]),  # removed
        # Cleared by the organizer, then credited or stopped by the cap: not removed.
        ("not_credited", ["DISPOSABLE_DOMAIN", "CAP_REACHED"]),
        ("credited", ["DISPOSABLE_DOMAIN"]),
    ]
    with engine.begin() as connection:
        (referrer,) = add_entries(connection, contest, [("Rita", at(1, 9), None)])
        referred = add_entries(
            connection, contest, [(f"F{n}", at(1, 10), referrer) for n in range(len(outcomes))]
        )
        add_referrals(
            connection,
            contest,
            [
                (referrer, entry_id, status, reasons, at(1, 10))
                for entry_id, (status, reasons) in zip(referred, outcomes, strict=True)
            ],
        )
        x, y = add_entries(connection, other, [("X", at(1, 9), None), ("Y", at(1, 10), None)])
        add_referrals(connection, other, [(x, y, "rejected", ["IP_BURST"], at(1, 10))])
        stats = viral_stats(connection, contest, NOW)
    assert (stats.fraud_removed, stats.referrals) == (3, 9)
    assert stats.fraud_share == 3 / 9


def test_leaderboard_orders_by_credits_then_earliest_last_credit_and_hides_addresses(
    engine: Engine, demo_ids: dict[str, int]
) -> None:
    contest, other = demo_ids["demo"], demo_ids["demo-closed"]
    with engine.begin() as connection:
        zoe, jean, marie, paul, sam = add_entries(
            connection,
            contest,
            [
                ("Zoé anne Lemoine", at(1, 9), None),  # enters first, ties with jean
                ("jean", at(1, 9), None),
                ("Marie Dupont", at(1, 9), None),
                ("Paul Durand", at(1, 9), None),  # nothing credited
                ("sam@example.org", at(1, 9), None),  # an address typed as a name
            ],
        )
        brought = add_entries(connection, contest, [(f"F{n}", at(1, 10), zoe) for n in range(8)])
        add_referrals(
            connection,
            contest,
            [
                (marie, brought[0], "credited", [], at(2, 0)),
                (jean, brought[1], "credited", [], at(2, 1)),
                (zoe, brought[2], "credited", [], at(2, 3)),
                (marie, brought[3], "credited", [], at(2, 5)),
                (sam, brought[4], "credited", [], at(2, 7)),
                (paul, brought[5], "review", ["IP_BURST"], None),
                (paul, brought[6], "pending", [], None),
                (paul, brought[7], "not_credited", ["CAP_REACHED"], at(2, 2)),
            ],
        )
        eve, y = add_entries(connection, other, [("Eve", at(1, 9), None), ("Y", at(1, 10), None)])
        add_referrals(connection, other, [(eve, y, "credited", [], at(1, 10))])
        board = leaderboard(connection, contest)
        top_two = leaderboard(connection, contest, limit=2)
        with pytest.raises(ValueError, match="limit"):
            leaderboard(connection, contest, limit=0)
    assert board == (
        LeaderboardRow(1, "Marie D.", 2),
        LeaderboardRow(2, "jean", 1),
        LeaderboardRow(3, "Zoé A.", 1),
        LeaderboardRow(4, "", 1),
    )
    assert top_two == board[:2]
    assert "@" not in repr(board)


@pytest.mark.parametrize(
    ("first_name", "shown"),
    [
        ("Marie Dupont", "Marie D."),
        ("  marie   dupont  ", "marie D."),
        ("Jean-Pierre de la Tour", "Jean-Pierre D."),
        ("Zoé", "Zoé"),
        ("", ""),
        ("ann@example.org", ""),
        ("Ann ann@example.org", "Ann"),
    ],
)
def test_display_name_is_the_first_name_and_an_initial(first_name: str, shown: str) -> None:
    assert display_name(first_name) == shown


def test_empty_contest_gives_zeros_and_no_ratio_and_naive_now_is_refused(
    engine: Engine, demo_ids: dict[str, int], clock: FixedClock
) -> None:
    with engine.connect() as connection:
        stats = viral_stats(connection, demo_ids["demo-clients"], NOW)
        board = leaderboard(connection, demo_ids["demo-clients"])
        # The seeded closed contest: 20 participants, nobody referred.
        closed = viral_stats(connection, demo_ids["demo-closed"], clock.now())
        with pytest.raises(ValueError, match="timezone"):
            viral_stats(connection, demo_ids["demo"], NOW.replace(tzinfo=None))
    assert stats == ViralStats(
        contest_id=demo_ids["demo-clients"],
        as_of=NOW,
        invitations_sent=0,
        referral_clicks=0,
        referral_entries=0,
        referral_confirmations=0,
        participants=0,
        k=None,
        cohorts=(),
        generations=(),
        depth=0,
        cycle_time_seconds=None,
        referrers=0,
        top_referrers=0,
        top_referrer_share=None,
        referrals=0,
        fraud_removed=0,
        fraud_share=None,
    )
    assert board == ()
    assert (closed.participants, closed.k, closed.generations, closed.depth) == (20, 0.0, (20,), 0)
    assert (closed.cycle_time_seconds, closed.top_referrer_share, closed.fraud_share) == (
        None,
        None,
        None,
    )
    assert sum(cohort.participants for cohort in closed.cohorts) == 20


@pytest.fixture
def both_databases(tmp_path: Path, sqlite_template: Path, pg_server: str) -> Iterator[list[Engine]]:
    """A fresh SQLite and a fresh PostgreSQL database, migrated, with one contest each."""
    target = tmp_path / "both.db"
    shutil.copy(sqlite_template, target)
    name = f"viral_stats_{next(_serial)}"
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE template_contest"))
    admin.dispose()
    engines = [
        create_db_engine(f"sqlite:///{target}", pool_size=1),
        create_db_engine(pg_server.rsplit("/", 1)[0] + "/" + name, pool_size=1),
    ]
    for engine in engines:
        with Session(engine) as session:
            organizer = Organizer(email="org@example.org", password_hash="-")
            session.add(organizer)
            session.flush()
            assert organizer.id is not None
            session.add(Contest(organizer_id=organizer.id, slug="tree", title="Tree"))
            session.commit()
    yield engines
    for engine in engines:
        engine.dispose()


def test_sqlite_and_postgresql_give_the_same_numbers(both_databases: list[Engine]) -> None:
    results = []
    for engine in both_databases:
        with engine.begin() as connection:
            contest = contest_id(connection, "tree")
            build_tree(connection, contest)
            stats = replace(viral_stats(connection, contest, NOW), contest_id=0)
            results.append((stats, leaderboard(connection, contest)))
    assert [engine.dialect.name for engine in both_databases] == ["sqlite", "postgresql"]
    assert results[0] == results[1]
    assert results[0][0] == TREE
