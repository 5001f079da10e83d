"""The organizer's dashboard figures (the same assertions on SQLite and PostgreSQL) and charts."""

from __future__ import annotations

import csv
import io
import itertools
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from starlette.testclient import TestClient

from contest import tables
from contest.charts import bar_chart_svg
from contest.clock import FixedClock
from contest.dashboard import (
    CSV_COLUMNS,
    ContestStats,
    DayCount,
    SourceCount,
    contest_stats,
    entries_csv,
)
from contest.demo import demo_password
from contest.settings import Settings
from tests.helpers import sign_in

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"
_serial = itertools.count()


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# (created_at UTC, status, source, chances); Paris is UTC+2 until 25 October 01:00 UTC, then +1.
ENTRIES = [
    (at(10, 1, 8), "confirmed", "direct", 1),  # 10:00 local, before the 30 days
    (at(10, 24, 21, 59), "pending", "direct", 1),  # 23:59 on 24 October, before the 30 days
    (at(10, 24, 22), "confirmed", "direct", 1),  # 00:00 on 25 October, the first day
    (at(10, 25, 0, 30), "confirmed", "utm:spring", 1),  # 02:30 summer time
    (at(10, 25, 1, 30), "pending", "utm:spring", 1),  # 02:30 again, winter time
    (at(11, 20, 9, 15), "confirmed", "referral", 2),
    (at(11, 20, 9, 45), "pending", "partner:acme", 1),
    (at(11, 21, 12), "confirmed", "partner:acme", 3),
    (at(11, 21, 13), "confirmed", "partner:bolt", 1),
    (at(11, 22, 22, 30), "pending", "referral", 1),  # 23:30 on 22 November
    (at(11, 22, 23, 30), "confirmed", "direct", 1),  # 00:30 on 23 November
    (at(11, 23, 9), "confirmed", "newsletter", 1),
]


def contest_ids(connection: Connection) -> dict[str, tuple[int, int]]:
    contest = tables.contest
    rows = connection.execute(sa.select(contest.c.slug, contest.c.id, contest.c.organizer_id))
    return {slug: (contest_id, organizer_id) for slug, contest_id, organizer_id in rows}


def add_entry(
    connection: Connection,
    slug: str,
    created_at: datetime,
    status: str = "confirmed",
    source: str = "direct",
    chances: int = 1,
) -> None:
    contest_id, organizer_id = contest_ids(connection)[slug]
    n = next(_serial)
    person = tables.person
    person_id = connection.execute(
        person.insert()
        .returning(person.c.id)
        .values(
            organizer_id=organizer_id,
            email=f"dash{n}@example.com",
            email_key=f"dash{n}@example.com",
            first_name="Dash",
            created_at=created_at,
        )
    ).scalar_one()
    connection.execute(
        tables.entry.insert().values(
            public_id=f"dash{n:04d}",
            contest_id=contest_id,
            person_id=person_id,
            status=status,
            chances=chances,
            rules_version="v1",
            answers={},
            source=source,
            language="fr",
            created_at=created_at,
            confirmed_at=created_at + timedelta(minutes=3) if status == "confirmed" else None,
            confirmation_sent_at=created_at,
        )
    )


@pytest.fixture
def seeded(engine: Engine, demo: None) -> dict[str, int]:
    """The demo, with ENTRIES in the contest 'demo' and funnel counters; slug -> contest id."""
    with engine.begin() as connection:
        for created_at, status, source, chances in ENTRIES:
            add_entry(connection, "demo", created_at, status, source, chances)
        ids = {slug: contest_id for slug, (contest_id, _) in contest_ids(connection).items()}
        counters = [
            ("demo", date(2026, 11, 20), "page_view", 100),
            ("demo", date(2026, 11, 21), "page_view", 40),
            ("demo", date(2026, 11, 20), "form_start", 25),
            ("demo-clients", date(2026, 11, 20), "page_view", 999),
        ]
        connection.execute(
            tables.funnelcount.insert(),
            [
                {"contest_id": ids[slug], "day": day, "metric": metric, "count": count}
                for slug, day, metric, count in counters
            ],
        )
    return ids


def stats_of(
    engine: Engine, contest_id: int, tz: str = "Europe/Paris", **options: Any
) -> ContestStats:
    with engine.connect() as connection:
        return contest_stats(connection, contest_id, NOW, tz, **options)


def test_days_are_local_with_zero_days_and_the_midnight_boundary(
    engine: Engine, seeded: dict[str, int]
) -> None:
    days = stats_of(engine, seeded["demo"]).days
    assert len(days) == 30
    assert (days[0].day, days[-1].day) == (date(2026, 10, 25), date(2026, 11, 23))
    counted = {d.day: (d.pending, d.confirmed) for d in days if d.entries}
    assert counted == {
        date(2026, 10, 25): (1, 2),  # a 25-hour day: 22:00 UTC the day before to 23:00 UTC
        date(2026, 11, 20): (1, 1),
        date(2026, 11, 21): (0, 2),
        date(2026, 11, 22): (1, 0),  # 22:30 UTC
        date(2026, 11, 23): (0, 2),  # 23:30 UTC the day before counts today in Paris
    }
    assert sum(d.entries for d in days) == len(ENTRIES) - 2
    # What the dashboard page draws from them: confirmed with pending on top.
    svg = bar_chart_svg(
        [(d.day.strftime("%d/%m"), d.confirmed) for d in days],
        stacked=[(d.day.strftime("%d/%m"), d.pending) for d in days],
        title="Entries per day",
        description="Confirmed and pending entries over the last 30 days",
    )
    assert len(parse(svg).findall(f"{SVG}rect")) == 60


def test_series_length_follows_days_and_bad_arguments_are_refused(
    engine: Engine, seeded: dict[str, int]
) -> None:
    days = stats_of(engine, seeded["demo"], days=1).days
    assert [(d.day, d.pending, d.confirmed) for d in days] == [(date(2026, 11, 23), 0, 2)]
    with pytest.raises(ValueError, match="days"):
        stats_of(engine, seeded["demo"], days=0)
    with engine.connect() as connection, pytest.raises(ValueError, match="aware"):
        contest_stats(connection, seeded["demo"], NOW.replace(tzinfo=None))


def test_hours_are_local_across_dst_and_in_a_half_hour_zone(
    engine: Engine, seeded: dict[str, int]
) -> None:
    hours = stats_of(engine, seeded["demo"]).hours
    assert [h.hour for h in hours] == list(range(24))
    assert {h.hour: h.entries for h in hours if h.entries} == {
        0: 2,
        2: 2,  # 00:30 UTC in summer time and 01:30 UTC in winter time
        10: 4,
        13: 1,
        14: 1,
        23: 2,
    }
    kolkata = stats_of(engine, seeded["demo"], tz="Asia/Kolkata")  # UTC+05:30
    assert {h.hour: h.entries for h in kolkata.hours if h.entries} == {
        3: 2,
        4: 1,
        5: 1,
        6: 1,
        7: 1,
        13: 1,
        14: 2,
        15: 1,
        17: 1,
        18: 1,
    }
    assert kolkata.days[-1] == DayCount(date(2026, 11, 23), pending=1, confirmed=2)
    assert kolkata.timezone == "Asia/Kolkata"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offsets=st.lists(st.integers(0, 70 * 86_400_000_000), max_size=30),
    tz=st.sampled_from(
        ["Europe/Paris", "Asia/Kolkata", "America/St_Johns", "Australia/Lord_Howe", "UTC"]
    ),
)
def test_hours_are_the_wall_clock_hour_of_each_entry(
    engine: Engine, demo: None, offsets: list[int], tz: str
) -> None:
    """Entries over 70 days (more local hours than one statement counts), across a change of
    offset, in zones of whole, half-hour and half-hour-DST offsets."""
    start = datetime(2026, 9, 20, tzinfo=UTC)
    entry = tables.entry
    with engine.connect() as connection, connection.begin() as transaction:
        for offset in offsets:
            add_entry(connection, "demo", start + timedelta(microseconds=offset))
        contest_id = contest_ids(connection)["demo"][0]
        stats = contest_stats(connection, contest_id, NOW, tz)
        created = connection.execute(
            sa.select(entry.c.created_at).where(entry.c.contest_id == contest_id)
        ).scalars()
        wall_clock = Counter(moment.astimezone(ZoneInfo(tz)).hour for moment in created)
        transaction.rollback()
    assert [h.entries for h in stats.hours] == [wall_clock[hour] for hour in range(24)]


def test_spring_forward_hours(engine: Engine, seeded: dict[str, int]) -> None:
    with engine.begin() as connection:
        add_entry(connection, "demo-clients", at(3, 29, 0, 30))  # 01:30 winter time
        add_entry(connection, "demo-clients", at(3, 29, 1, 30))  # 03:30 summer time
        add_entry(connection, "demo-clients", at(6, 1, 12))  # 14:00 summer time
        add_entry(connection, "demo-clients", at(11, 1, 12))  # 13:00 winter time again
    hours = stats_of(engine, seeded["demo-clients"]).hours
    assert {h.hour: h.entries for h in hours if h.entries} == {1: 1, 3: 1, 14: 1, 13: 1}


def test_sources_are_grouped_and_the_funnel_sums_this_contests_counters(
    engine: Engine, seeded: dict[str, int]
) -> None:
    sources = stats_of(engine, seeded["demo"]).sources
    assert sources.direct == SourceCount("direct", 4, 3)
    assert sources.referral == SourceCount("referral", 2, 1)
    assert sources.partner == SourceCount("partner", 3, 2)
    assert sources.partners == (SourceCount("acme", 2, 1), SourceCount("bolt", 1, 1))
    assert sources.utm == SourceCount("utm", 2, 1)
    assert sources.campaigns == (SourceCount("spring", 2, 1),)
    assert sources.other == SourceCount("other", 1, 1)

    funnel = stats_of(engine, seeded["demo"]).funnel
    assert (funnel.page_views, funnel.form_starts) == (140, 25)
    assert (funnel.entries, funnel.confirmations, funnel.referral_entries) == (12, 8, 2)
    assert funnel.invitations == 0
    hooked = stats_of(engine, seeded["demo"], invitations=lambda connection, contest_id: 7)
    assert hooked.funnel.invitations == 7


def test_totals_and_k_the_confirmed_referrals_per_confirmed_entry(
    engine: Engine, seeded: dict[str, int]
) -> None:
    stats = stats_of(engine, seeded["demo"])
    totals = stats.totals
    assert (totals.entries, totals.pending, totals.confirmed) == (12, 4, 8)
    assert totals.confirmed_chances == 11
    assert stats.viral_k == pytest.approx(1 / 8)
    closed = stats_of(engine, seeded["demo-closed"])  # 20 confirmed, 3 of them referred
    assert closed.viral_k == pytest.approx(3 / 20)
    assert closed.totals.confirmed_chances == 25


def test_a_contest_without_entries_has_zero_figures_and_no_k(
    engine: Engine, seeded: dict[str, int]
) -> None:
    stats = stats_of(engine, seeded["demo-clients"])
    assert stats.viral_k is None
    assert stats.totals.entries == 0 and all(d.entries == 0 for d in stats.days)
    assert all(h.entries == 0 for h in stats.hours)
    assert stats.funnel.page_views == 999 and stats.sources.direct.entries == 0


def test_figures_take_a_fixed_number_of_queries(engine: Engine, seeded: dict[str, int]) -> None:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        stats_of(engine, seeded["demo-closed"])
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    # The tracked links' names (one query, whatever the number of links) make the seventh.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 7


def test_csv_streams_entries_without_personal_data(engine: Engine, seeded: dict[str, int]) -> None:
    with engine.connect() as connection:
        text = "".join(entries_csv(connection, seeded["demo"]))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(CSV_COLUMNS) == [
        "public_id", "status", "created_at", "confirmed_at", "source", "chances", "language"
    ]  # fmt: skip
    assert len(rows) == len(ENTRIES) + 1
    assert "@" not in text and "Dash" not in text
    first, second = rows[1], rows[2]
    assert first == [
        "dash" + first[0][4:], "confirmed", "2026-10-01T08:00:00+00:00",
        "2026-10-01T08:03:00+00:00", "direct", "1", "fr",
    ]  # fmt: skip
    assert (second[1], second[3]) == ("pending", "")


def test_csv_comes_in_chunks_and_defuses_formulas(engine: Engine, seeded: dict[str, int]) -> None:
    contest_id = seeded["demo-clients"]
    with engine.begin() as connection:
        add_entry(connection, "demo-clients", NOW, source="=HYPERLINK(evil)")
        organizer_id = contest_ids(connection)["demo-clients"][1]
        person, entry = tables.person, tables.entry
        connection.execute(
            person.insert(),
            [
                {"organizer_id": organizer_id, "email": f"bulk{n}@example.com",
                 "email_key": f"bulk{n}@example.com", "first_name": "", "created_at": NOW}
                for n in range(600)
            ],
        )  # fmt: skip
        person_ids = connection.scalars(
            sa.select(person.c.id).where(person.c.email.like("bulk%"))
        ).all()
        connection.execute(
            entry.insert(),
            [
                {"public_id": f"bulk{n}", "contest_id": contest_id, "person_id": person_id,
                 "status": "pending", "chances": 1, "rules_version": "v1", "answers": {},
                 "source": "direct", "language": "en", "created_at": NOW}
                for n, person_id in enumerate(person_ids)
            ],
        )  # fmt: skip
    with engine.connect() as connection:
        chunks = list(entries_csv(connection, contest_id))
    assert len(chunks) >= 2
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert len(rows) == 602
    assert rows[1][4] == "'=HYPERLINK(evil)"


# --- Charts ------------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_chart_is_an_accessible_svg_with_one_rect_per_bar() -> None:
    bars = [("<script>", 3), ("mardi", 0), ("mercredi", 12)]
    svg = bar_chart_svg(bars, title="Entries & days", description="Entries per day")
    root = parse(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == "Entries & days"
    assert desc is not None and desc.text == "Entries per day"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    rects = root.findall(f"{SVG}rect")
    assert len(rects) == len(bars) and {r.get("class") for r in rects} == {"bar"}
    assert [r.findtext(f"{SVG}title") for r in rects] == ["<script>: 3", "mardi: 0", "mercredi: 12"]
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_chart_uses_classes_and_no_inline_style_or_script() -> None:
    svg = bar_chart_svg([("a", 1)], title="t", description="d")
    for element in parse(svg).iter():
        assert "style" not in element.attrib
        assert element.tag not in {f"{SVG}style", f"{SVG}script"}
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_chart_stacks_a_second_series_with_named_tooltips() -> None:
    confirmed = [("1", 2), ("2", 5)]
    pending = [("1", 1), ("2", 0)]
    root = parse(
        bar_chart_svg(
            confirmed,
            title="t",
            description="d",
            stacked=pending,
            series=("confirmed", "pending"),
        )
    )
    stacked = root.findall(f"{SVG}rect[@class='bar-stacked']")
    base = root.findall(f"{SVG}rect[@class='bar']")
    assert len(base) == len(stacked) == 2
    assert stacked[0].findtext(f"{SVG}title") == "1 — pending: 1"
    # The stacked part sits right on top of the first series.
    assert float(stacked[0].get("y", "")) + float(stacked[0].get("height", "")) == pytest.approx(
        float(base[0].get("y", ""))
    )


def test_chart_thins_axis_labels_when_bars_are_many() -> None:
    bars = [(f"{n:02d}/11", n) for n in range(1, 31)]
    root = parse(bar_chart_svg(bars, title="t", description="d"))
    shown = [t.text for t in root.findall(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert len(root.findall(f"{SVG}rect")) == 30
    assert 2 <= len(shown) < 30 and shown[0] == "01/11"


def test_chart_refuses_negative_values_and_mismatched_series() -> None:
    with pytest.raises(ValueError, match="negative"):
        bar_chart_svg([("a", -1)], title="t", description="d")
    with pytest.raises(ValueError, match="labels"):
        bar_chart_svg([("a", 1)], title="t", description="d", stacked=[("b", 1)])


def test_a_dashboard_counts_on_its_one_connection_when_the_pool_has_no_other(
    engine: Engine, demo: None, settings: Settings
) -> None:
    """The viral figures go to a second connection only when one is free at once: a request
    holding the last one must not wait for another (each such request would hold what the
    others wait for), it counts on its own."""
    from sqlmodel import Session

    from contest.workspace import contest_overview
    from viral.stats import viral_stats

    with engine.connect() as connection:
        organizer_id, contest_id = connection.execute(
            sa.text("SELECT organizer_id, id FROM contest WHERE slug = 'demo'")
        ).one()
        expected = viral_stats(connection, contest_id, NOW)
    single = sa.create_engine(
        settings.database_url.reveal(), pool_size=1, max_overflow=0, pool_timeout=2
    )
    try:
        with Session(single) as session:
            shown = contest_overview(session, organizer_id, contest_id, NOW)
    finally:
        single.dispose()
    assert shown.viral == expected


def test_a_closed_contest_charts_its_last_days_not_the_month_since(
    client: TestClient, engine: Engine, settings: Settings, clock: FixedClock
) -> None:
    """demo-closed closed yesterday; its 1,000 entries came a month ago. The chart of entries
    per day ends on the day it closed, so they show."""
    sign_in(client, "demo@example.org", demo_password(settings))
    with engine.connect() as connection:
        closed_id, closes_at = connection.execute(
            sa.select(tables.contest.c.id, tables.contest.c.closes_at).where(
                tables.contest.c.slug == "demo-closed"
            )
        ).one()
    page = client.get(f"/admin/contests/{closed_id}").text
    chart = page[page.index("Participations par jour") :]
    chart = chart[: chart.index("</svg>")]
    zone = ZoneInfo("Europe/Paris")
    last_day = closes_at.replace(tzinfo=UTC).astimezone(zone)
    assert f"{last_day:%d/%m}" in chart and f"{clock.now().astimezone(zone):%d/%m}" not in chart
    confirmed = [int(n) for n in re.findall(r"confirmées: (\d+)</title>", chart)]
    assert sum(confirmed) > 0, "the month's entries are drawn"
