"""The organizer's dashboard of a big contest: 1,000,000 entries and 200,000 referrals.

``measure_dashboard`` builds (untimed) a SQLite database whose ``demo`` contest has
``ENTRIES`` entries over the last 60 days, ``REFERRALS`` of them brought by a referrer (chains
several generations deep, a few very active referrers, every referral status and fraud reason),
their link clicks, invitations, tracked partner and campaign links and funnel counters, as the
app writes them. Then it times each panel the dashboard page computes
(:func:`contest.workspace.contest_overview`: the figures of ``contest.dashboard``, the viral
statistics of ``viral.stats``, the leaderboard, the prizes), each the median of ``RUNS`` runs
after one warm-up, and the whole page through the app. Goal: every panel under
``PANEL_GOAL_MS``.

    python -m bench.dashboard                 # prints each panel's time
    python -m bench.dashboard --keep FOLDER   # builds the database there once, reuses it
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from bench.load import SLUG, Load

if TYPE_CHECKING:
    from bench.run import Group

ENTRIES = 1_000_000
REFERRALS = 200_000
DAYS = 60  # the entries are spread over the last DAYS days
CONFIRMED_SHARE = 0.8
SUPER_REFERRERS = 500  # a few participants bring a good share of the referrals
REFERRAL_CLICKS = 500_000
SOURCE_CLICKS = 100_000
INVITATIONS = 20_000
PARTNERS = ("newsletter", "blog", "poster", "instagram", "partner-shop")
CAMPAIGNS = ("black-friday", "xmas", "winter-sale")
RUNS = 5
PAGE_RUNS = 3
PANEL_GOAL_MS = 300.0
SEED = 21
FIRST_NAMES = ("Léa", "Hugo", "Chloé", "Louis", "Emma Martin", "Jules", "Inès", "Adam", "Zoé")
NAME = "dashboard"
CONTEST_STATS = "contest_stats (the figures above together)"
VIRAL_STATS = "viral_stats (the viral figures together)"
SUMS = (CONTEST_STATS, VIRAL_STATS)  # several panels at once: figures, not goals
BENCH_KEY = "bench-dashboard-key-for-a-throwaway-database"


def say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# --- The database ----------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    """A naive UTC timestamp as the app stores it (``UTCDateTime``)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def build_database(folder: Path, now: datetime) -> tuple[str, int]:
    """A migrated database with the demo, and the big contest's rows; (URL, the contest's id)."""
    from sqlmodel import Session

    from contest.demo import seed_demo
    from contest.storage import create_db_engine, migrate

    settings = _settings(folder)
    url = settings.database_url.reveal()
    engine = create_db_engine(url)
    try:
        migrate(engine)
        with Session(engine) as session:
            seed_demo(session, settings, now)
        with engine.connect() as connection:
            organizer_id, contest_id = connection.execute(
                sa.text("SELECT organizer_id, id FROM contest WHERE slug = :slug"), {"slug": SLUG}
            ).one()
    finally:
        engine.dispose()
    database = sqlite3.connect(url.split(":///", 1)[1])
    try:
        database.execute("PRAGMA synchronous=OFF")
        _fill(database, int(organizer_id), int(contest_id), now)
        database.commit()
    finally:
        database.close()
    return url, int(contest_id)


def _settings(folder: Path) -> Any:
    from contest.settings import Settings

    # A fixed key: the demo organizer's password derives from it, and a kept database is
    # signed into again on the next run. The database is a throwaway one.
    return Settings.from_env({"CONTEST_DATA_DIR": str(folder), "CONTEST_SECRET_KEY": BENCH_KEY})


def _fill(database: sqlite3.Connection, organizer_id: int, contest_id: int, now: datetime) -> None:
    rng = random.Random(SEED)  # noqa: S311 (synthetic data, the same at every run)
    start = now - timedelta(days=DAYS)
    span = (now - start).total_seconds()
    first_person = _next_id(database, "person")
    first_entry = _next_id(database, "entry")

    def people() -> Iterator[tuple[Any, ...]]:
        for n in range(ENTRIES):
            address = f"big{n}@example.net"
            at = _stamp(start + timedelta(seconds=span * n / ENTRIES))
            name = FIRST_NAMES[n % len(FIRST_NAMES)]
            yield (first_person + n, organizer_id, address, address, name, at, at, False)

    database.executemany(
        "INSERT INTO person (id, organizer_id, email, email_key, first_name, created_at,"
        " last_activity_at, undeliverable) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        people(),
    )
    say(f"  {ENTRIES:,} persons")
    # Which entries a referrer brought: REFERRALS entries spread over the contest's life, each
    # brought by an earlier confirmed entry (a "super referrer" one time in three).
    referred = set(rng.sample(range(ENTRIES // 50, ENTRIES), REFERRALS))
    confirmed_so_far: list[int] = []
    referrals: list[tuple[Any, ...]] = []
    partner_codes = [f"p{n}" for n in range(len(PARTNERS))]

    def entries() -> Iterator[tuple[Any, ...]]:
        for n in range(ENTRIES):
            entry_id = first_entry + n
            created = start + timedelta(seconds=span * n / ENTRIES + rng.random())
            confirmed = rng.random() < CONFIRMED_SHARE
            confirmed_at = None
            if confirmed:
                confirmed_at = min(created + timedelta(minutes=rng.expovariate(1 / 90)), now)
            referrer = None
            if n in referred and confirmed_so_far:
                pool = confirmed_so_far[:SUPER_REFERRERS] if rng.random() < 1 / 3 else None
                referrer = rng.choice(pool or confirmed_so_far)
                source = "referral"
                referrals.append(_referral(rng, contest_id, referrer, entry_id, created, confirmed))
            else:
                roll = rng.random()
                if roll < 0.15:
                    source = f"partner:{rng.choice(partner_codes)}"
                elif roll < 0.2:
                    source = f"utm:{rng.choice(CAMPAIGNS)}"
                else:
                    source = "direct"
            if confirmed:
                confirmed_so_far.append(entry_id)
            yield (
                entry_id,
                f"big{n:08d}",
                contest_id,
                first_person + n,
                "confirmed" if confirmed else "pending",
                1 + (rng.random() < 0.1),
                "bench",
                "{}",
                source,
                "fr" if rng.random() < 0.8 else "en",
                _stamp(created),
                _stamp(confirmed_at) if confirmed_at else None,
                _stamp(created),
                f"B{n:08d}" if confirmed else None,
                referrer,
                f"10.{n % 250}.{(n // 250) % 250}.0/24",
                "{}",
            )

    database.executemany(
        "INSERT INTO entry (id, public_id, contest_id, person_id, status, chances,"
        " rules_version, answers, source, language, created_at, confirmed_at,"
        " confirmation_sent_at, referral_code, referrer_entry_id, ip_network, eligibility)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        entries(),
    )
    say(f"  {ENTRIES:,} entries")
    database.executemany(
        "INSERT INTO referral (contest_id, referrer_entry_id, referred_entry_id, status,"
        " reasons, score, bonus, created_at, confirmed_at, decided_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        referrals,
    )
    say(f"  {len(referrals):,} referrals")
    database.executemany(
        "INSERT INTO sourcelink (contest_id, code, label, kind, utm_source, utm_medium,"
        " utm_campaign, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (contest_id, code, label.title(), "partner", "", "", "", _stamp(start))
            for code, label in zip(partner_codes, PARTNERS, strict=True)
        ]
        + [
            (contest_id, f"c{n}", f"Mail {name}", "campaign", "mail", "email", name, _stamp(start))
            for n, name in enumerate(CAMPAIGNS)
        ],
    )

    def clicks() -> Iterator[tuple[Any, ...]]:
        for n in range(REFERRAL_CLICKS + SOURCE_CLICKS):
            kind = "referral" if n < REFERRAL_CLICKS else "source"
            code = f"B{rng.randrange(ENTRIES):08d}" if kind == "referral" else "p0"
            at = start + timedelta(seconds=rng.random() * span)
            yield (contest_id, kind, code, _stamp(at))

    database.executemany(
        "INSERT INTO linkclick (contest_id, kind, code, created_at) VALUES (?, ?, ?, ?)", clicks()
    )
    database.executemany(
        "INSERT INTO invitation (contest_id, referrer_entry_id, address_hash, ip_network,"
        " created_at) VALUES (?, ?, ?, ?, ?)",
        (
            (contest_id, rng.choice(confirmed_so_far), f"{n:064x}", "10.0.0.0/24", _stamp(now))
            for n in range(INVITATIONS)
        ),
    )
    database.executemany(
        "INSERT INTO funnelcount (contest_id, day, metric, count) VALUES (?, ?, ?, ?)",
        (
            (contest_id, (start + timedelta(days=d)).date().isoformat(), metric, count)
            for d in range(DAYS + 1)
            for metric, count in (("page_view", 60_000), ("form_start", 25_000))
        ),
    )
    say(f"  {REFERRAL_CLICKS + SOURCE_CLICKS:,} link clicks, {INVITATIONS:,} invitations")


def _referral(
    rng: random.Random,
    contest_id: int,
    referrer: int,
    referred: int,
    created: datetime,
    confirmed: bool,
) -> tuple[Any, ...]:
    reasons: list[str] = []
    if not confirmed:
        status = "pending"
    else:
        roll = rng.random()
        if roll < 0.85:
            status = "credited"
        elif roll < 0.9:
            status, reasons = "not_credited", ["CAP_REACHED"]
        elif roll < 0.94:
            status, reasons = "not_credited", [rng.choice(("DISPOSABLE_DOMAIN", "SELF_REFERRAL"))]
        elif roll < 0.98:
            status, reasons = "review", ["IP_BURST"]
        else:
            status, reasons = "rejected", ["REFERRAL_RING"]
    decided = _stamp(created + timedelta(hours=1)) if status != "pending" else None
    return (
        contest_id,
        referrer,
        referred,
        status,
        json.dumps(reasons),
        0,
        1 if status == "credited" else 0,
        _stamp(created),
        decided,
        decided,
    )


def _next_id(database: sqlite3.Connection, table: str) -> int:
    return int(database.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])


# --- The panels ------------------------------------------------------------------------------


def panels(contest_id: int, now: datetime, tz: str) -> dict[str, Callable[[Connection], object]]:
    """Each figure the dashboard page computes, by the name the report gives it.

    The parts of ``contest_stats`` and ``viral_stats`` are timed one by one (their private
    query functions), so that a slow one is named; their sums are timed too.
    """
    from contest import dashboard, workspace
    from contest.prizes import claims
    from viral import invitations, stats

    def configuration(connection: Connection) -> object:
        from sqlmodel import Session

        with Session(bind=connection) as session:
            organizer_id = _organizer_of(connection, contest_id)
            return workspace.current_configuration(session, organizer_id, contest_id, now)

    return {
        "totals (entries, pending, confirmed, chances)": lambda c: dashboard._totals(c, contest_id),
        "sources (direct, referral, partners, campaigns)": lambda c: dashboard._sources(
            c, contest_id
        ),
        "funnel (page views, form starts)": lambda c: dashboard._funnel_counts(c, contest_id),
        "invitations sent": lambda c: invitations.invitations_sent(c, contest_id),
        "entries per day (30 days)": lambda c: dashboard._per_day(
            c, contest_id, now, ZoneInfo(tz), 30
        ),
        "entries per hour of the day": lambda c: dashboard._per_hour(c, contest_id, ZoneInfo(tz)),
        CONTEST_STATS: lambda c: dashboard.contest_stats(
            c, contest_id, now, tz, invitations=invitations.invitations_sent
        ),
        "viral: referral counts and K": lambda c: stats._counts(c, contest_id),
        "viral: daily cohorts": lambda c: stats._cohorts(c, contest_id, now),
        "viral: generations": lambda c: stats._generations(c, contest_id),
        "viral: cycle time": lambda c: stats._cycle_time(c, contest_id),
        "viral: top 1% of referrers": lambda c: stats._top_referrers(c, contest_id),
        "viral: fraud share": lambda c: stats._fraud(c, contest_id),
        VIRAL_STATS: lambda c: stats.viral_stats(c, contest_id, now),
        "leaderboard (top 10 referrers)": lambda c: stats.leaderboard(c, contest_id, limit=10),
        "prizes awarded": lambda c: claims.awards(c, contest_id),
        "configuration and compliance verdict": configuration,
    }


def _organizer_of(connection: Connection, contest_id: int) -> int:
    return int(
        connection.execute(
            sa.text("SELECT organizer_id FROM contest WHERE id = :id"), {"id": contest_id}
        ).scalar_one()
    )


def time_panels(engine: Engine, contest_id: int, now: datetime, tz: str) -> dict[str, float]:
    """Each panel's median time in milliseconds, over RUNS runs after a warm-up."""
    times: dict[str, float] = {}
    for name, panel in panels(contest_id, now, tz).items():
        runs = []
        with engine.connect() as connection:
            panel(connection)
            for _ in range(RUNS):
                started = time.perf_counter()
                panel(connection)
                runs.append((time.perf_counter() - started) * 1000)
                connection.rollback()
        times[name] = statistics.median(runs)
        say(f"  {name}: {times[name]:,.0f} ms")
    return times


def time_page(folder: Path, engine: Engine, contest_id: int) -> float:
    """The dashboard page through the app (signed in as the demo organizer), median ms."""
    from starlette.testclient import TestClient

    from contest.app import create_app
    from contest.demo import demo_password

    settings = _settings(folder)
    app = create_app(settings, engine=engine, send_mail=False)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        login = client.get("/admin/login").text
        token = login.split('name="token" value="', 1)[1].split('"', 1)[0]
        signed = client.post(
            "/admin/login",
            data={"token": token, "email": "demo@example.org", "password": demo_password(settings)},
            follow_redirects=False,
        )
        if signed.status_code != 303:
            raise RuntimeError(f"signing in answered {signed.status_code}")
        path = f"/admin/contests/{contest_id}"
        runs = []
        for n in range(PAGE_RUNS + 1):
            started = time.perf_counter()
            page = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            if page.status_code != 200:
                raise RuntimeError(f"{path} answered {page.status_code}")
            if n:
                runs.append(elapsed)
    return statistics.median(runs)


def measure_dashboard(tmp: Path, load: Load) -> Group:
    """Every panel of the big contest's dashboard, and the whole page; goal < 300 ms each."""
    return _measure(tmp / "dashboard")


def _measure(folder: Path) -> Group:
    """Builds the database in ``folder`` unless it is there already, then times the panels."""
    from bench.report import Figure, Goal
    from bench.run import Group, command
    from contest.storage import create_db_engine, migrate

    now = datetime.now(UTC)
    url = _settings(folder).database_url.reveal()
    if (folder / "contest.db").exists():
        say(f"Dashboard: reusing {folder / 'contest.db'}")
        contest_id = _contest_id(url)
    else:
        say(f"Dashboard: {ENTRIES:,} entries and {REFERRALS:,} referrals (building, not timed)")
        started = time.monotonic()
        url, contest_id = build_database(folder, now)
        say(f"  built in {time.monotonic() - started:.0f} s")
    say(f"  timing each panel (median of {RUNS} runs after a warm-up)")
    engine = create_db_engine(url)
    migrate(engine)  # a reused database gets the indexes of later migrations
    group = Group()
    try:
        tz = "Europe/Paris"
        times = time_panels(engine, contest_id, now, tz)
        page_ms = time_page(folder, engine, contest_id)
        say(f"  the whole page: {page_ms:,.0f} ms")
    finally:
        engine.dispose()
    label = f"{ENTRIES:,} entries, {REFERRALS:,} referrals, SQLite"
    for name, ms in times.items():
        group.figures.append(
            Figure(
                f"Dashboard panel: {name} ({label})",
                f"{ms:,.0f} ms",
                f"{PANEL_GOAL_MS:,.0f} ms (goal)",
                f"{ms / PANEL_GOAL_MS:.2f}× the goal",
                command(NAME),
            )
        )
    group.figures.append(
        Figure(
            f"Dashboard page through the app, signed in ({label})",
            f"{page_ms:,.0f} ms",
            "—",
            "—",
            command(NAME),
        )
    )
    # One goal per panel; the two sums (several panels together) are figures only.
    for name, ms in times.items():
        if name in SUMS:
            continue
        group.goals.append(
            Goal(
                f"Dashboard panel under {PANEL_GOAL_MS:,.0f} ms: {name} ({label})",
                f"{ms:,.0f} ms",
                ms < PANEL_GOAL_MS,
            )
        )
    slowest = max((name for name in times if name not in SUMS), key=lambda name: times[name])
    group.goals.append(
        Goal(
            f"Every dashboard panel under {PANEL_GOAL_MS:,.0f} ms ({label})",
            f"slowest: {slowest}, {times[slowest]:,.0f} ms",
            times[slowest] < PANEL_GOAL_MS,
        )
    )
    return group


def _contest_id(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT id FROM contest WHERE slug = :slug"), {"slug": SLUG}
                ).scalar_one()
            )
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument(
        "--keep", type=Path, metavar="FOLDER", help="build the database there once and reuse it"
    )
    args = parser.parse_args(argv)
    if args.keep is not None:
        group = _measure(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as folder:
            group = measure_dashboard(Path(folder), Load())
    for figure in group.figures:
        sys.stdout.write(f"{figure.figure}: {figure.value}\n")
    for goal in group.goals:
        sys.stdout.write(f"{goal.text}: {'met' if goal.met else 'NOT MET'} ({goal.measured})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
