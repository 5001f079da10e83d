"""The batch figures: the draw, the lead export and the client import, each measured alone.

Every measure runs in its own process (``python -m bench.batch MEASURE ...``) so that its peak
memory is its own; it prints one JSON object. The data it works on is made beforehand and is
not timed: synthetic pool entries come from a generator, leads are inserted with
``INSERT ... SELECT`` (:func:`make_leads`), the client file is built in memory.

    python -m bench.batch draw 10000000     # 10 winners, weighted pool
    python -m bench.batch scan 10000000     # the same pool, only read
    python -m bench.batch export sqlite:///path/contest.db demo
    python -m bench.batch import sqlite:///path/contest.db demo 100000
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from contest import tables
from contest.draw.protocol import PoolEntry, draw, draw_seed, new_secret
from contest.models import UTCDateTime

WINNERS = 10
CLIENT_CSV_HEADER = "email,client_since,orders_count,segments\n"


def synthetic_pool(count: int) -> Iterator[PoolEntry]:
    """``count`` entries sorted by ticket, weighing 1 to 4 chances."""
    for n in range(count):
        yield PoolEntry(f"t{n:012d}", 1 + n % 4)


def _status_mb(field: str) -> float:
    """A memory figure of /proc/self/status (VmRSS now, VmHWM the peak), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def _reset_peak() -> None:
    """Starts the peak (VmHWM) afresh from the current RSS (Linux 4.0 and later)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass  # then the peak may include what the set-up used before the run


def measured(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Runs ``work`` once; its result plus seconds, the peak RSS during the run and its growth."""
    _reset_peak()
    before = _status_mb("VmRSS")
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    peak = _status_mb("VmHWM")
    return {**result, "seconds": seconds, "peak_rss_mb": peak, "added_mb": peak - before}


def measure_draw(count: int) -> dict[str, Any]:
    pool_digest = hashlib.sha256(b"bench pool").hexdigest()
    seed = draw_seed(new_secret(), pool_digest)

    def run() -> dict[str, Any]:
        result = draw(synthetic_pool(count), seed, WINNERS)
        return {"count": result.count, "total_weight": result.total_weight}

    return measured(run)


def measure_scan(count: int) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        entries = total = 0
        for entries, entry in enumerate(synthetic_pool(count), 1):  # noqa: B007
            total += entry.weight
        return {"count": entries, "total_weight": total}

    return measured(run)


def _organizer_and_contest(engine: Engine, slug: str) -> tuple[int, int]:
    contest = tables.contest
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(contest.c.organizer_id, contest.c.id).where(contest.c.slug == slug)
        ).one()
    return int(row.organizer_id), int(row.id)


def make_leads(engine: Engine, slug: str, count: int, now: datetime) -> None:
    """``count`` persons who entered ``slug``, confirmed, and consented to marketing e-mails.

    Each has what the app writes for such a lead: a confirmed entry with an answer, the rules
    accepted, and the marketing consent granted then confirmed (three consent records).
    """
    organizer_id, contest_id = _organizer_and_contest(engine, slug)

    person, entry, consent = tables.person, tables.entry, tables.consentrecord
    numbers = sa.select(sa.literal(1).label("n")).cte("numbers", recursive=True)
    numbers = numbers.union_all(sa.select(numbers.c.n + 1).where(numbers.c.n < count))
    entered = sa.literal(now - timedelta(days=3), UTCDateTime())
    confirmed = sa.literal(now - timedelta(days=3, minutes=-5), UTCDateTime())
    address = sa.literal("lead") + sa.cast(numbers.c.n, sa.String) + "@example.net"
    with engine.begin() as connection:
        connection.execute(
            person.insert().from_select(
                ["organizer_id", "email", "email_key", "first_name", "created_at"]
                + ["last_activity_at", "undeliverable"],
                sa.select(
                    sa.literal(organizer_id),
                    address,
                    address,
                    sa.literal("Léa"),
                    entered,
                    confirmed,
                    sa.false(),
                ),
            )
        )
        leads = sa.and_(person.c.organizer_id == organizer_id, person.c.email.like("lead%"))
        connection.execute(
            entry.insert().from_select(
                ["public_id", "contest_id", "person_id", "status", "chances", "rules_version"]
                + ["answers", "source", "language", "created_at", "confirmed_at"]
                + ["confirmation_sent_at", "ip_network"],
                sa.select(
                    sa.literal("lead") + sa.cast(person.c.id, sa.String),
                    sa.literal(contest_id),
                    person.c.id,
                    sa.literal("confirmed"),
                    sa.literal(1),
                    sa.literal("bench"),
                    sa.literal({"first_name": "Léa"}, sa.JSON),
                    sa.literal("direct"),
                    sa.literal("fr"),
                    entered,
                    confirmed,
                    entered,
                    sa.literal("10.0.0.0"),
                ).where(leads),
            )
        )
        ours = sa.and_(entry.c.contest_id == contest_id, entry.c.public_id.like("lead%"))
        for purpose, event, at in (
            ("rules", "granted", entered),
            ("marketing_email", "granted", entered),
            ("marketing_email", "confirmed", confirmed),
        ):
            wording = f"{purpose} wording"
            connection.execute(
                consent.insert().from_select(
                    ["organizer_id", "person_id", "entry_id", "purpose", "event", "wording"]
                    + ["wording_hash", "language", "page_url", "channel", "ip_truncated"]
                    + ["user_agent", "created_at"],
                    sa.select(
                        sa.literal(organizer_id),
                        entry.c.person_id,
                        entry.c.id,
                        sa.literal(purpose),
                        sa.literal(event),
                        sa.literal(wording),
                        sa.literal(hashlib.sha256(wording.encode()).hexdigest()),
                        sa.literal("fr"),
                        sa.literal(""),
                        sa.literal("web" if event == "granted" else "email"),
                        sa.literal("10.0.0.0"),
                        sa.literal(""),
                        at,
                    ).where(ours),
                )
            )


def measure_export(url: str, slug: str) -> dict[str, Any]:
    from contest.leads.export import export_leads
    from contest.leads.subscriptions import PreferenceLinks
    from contest.settings import Secret
    from contest.storage import create_db_engine
    from contest.tokens import Signer

    engine = create_db_engine(url)
    organizer_id, _ = _organizer_and_contest(engine, slug)
    links = PreferenceLinks(Signer([Secret("bench-key-" * 4)]), "http://127.0.0.1:8000")

    def run() -> dict[str, Any]:
        lines = size = 0
        with open(os.devnull, "w", encoding="utf-8") as out:
            now = datetime.now(UTC)
            chunks = export_leads(engine, organizer_id, contest_slug=slug, now=now, links=links)
            for chunk in chunks:
                out.write(chunk)
                lines, size = lines + chunk.count("\r\n"), size + len(chunk)
        return {"lines": lines, "characters": size}

    return measured(run)


def client_file(count: int) -> bytes:
    """A client list as a shop exports it: ``count`` distinct clients."""
    rows = io.StringIO()
    rows.write(CLIENT_CSV_HEADER)
    for n in range(count):
        since = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}"
        rows.write(f"client{n}@example.net,{since},{n % 40},{'loyal' if n % 9 == 0 else ''}\n")
    return rows.getvalue().encode()


def measure_import(url: str, slug: str, count: int) -> dict[str, Any]:
    from contest.leads.clients import import_clients
    from contest.storage import create_db_engine

    engine = create_db_engine(url)
    organizer_id, _ = _organizer_and_contest(engine, slug)
    data = client_file(count)

    def run() -> dict[str, Any]:
        report = import_clients(engine, organizer_id, io.BytesIO(data), datetime.now(UTC))
        return {
            "rows_read": report.rows_read,
            "created": report.created,
            "skipped": report.skipped,
            "fatal": report.fatal[1] if report.fatal else None,
        }

    return measured(run)


def measure_campaign(data_dir: str, slug: str, count: int) -> dict[str, Any]:
    """A campaign to ``count`` consenting leads, queued by the worker's duty and sent over SMTP
    to a local server that accepts and drops every message (aiosmtpd)."""
    from aiosmtpd.controller import Controller
    from sqlmodel import Session

    from contest import campaigns
    from contest.demo import seed_demo
    from contest.settings import Settings
    from contest.storage import create_db_engine, migrate
    from contest.templating import Templates
    from contest.tokens import Signer
    from contest.worker import build_sender
    from tests.helpers import free_port

    class Sink:
        received = 0

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            Sink.received += 1
            return "250 OK"

    port = free_port()
    sink = Controller(Sink(), hostname="127.0.0.1", port=port)
    sink.start()
    settings = Settings.from_env(
        {
            "CONTEST_DATA_DIR": data_dir,
            "CONTEST_SECRET_KEY": "bench-secret-key-" * 3,
            "CONTEST_SMTP_URL": f"smtp://127.0.0.1:{port}",
        }
    )
    engine = create_db_engine(settings.database_url.reveal())
    migrate(engine)
    now = datetime.now(UTC)
    with Session(engine) as session:
        seed_demo(session, settings, now)
    make_leads(engine, slug, count, now - timedelta(hours=1))
    organizer_id, _ = _organizer_and_contest(engine, slug)
    with engine.begin() as connection:
        campaign_id = campaigns.create_campaign(
            connection,
            organizer_id,
            campaigns.CampaignSettings(
                name="Bench",
                contest=slug,
                subject_fr="Un nouveau jeu",
                body_fr="Bonjour,\n\nNotre nouveau jeu est ouvert.",
                rate_per_minute=10_000,
            ),
            now,
        )
        campaigns.start(connection, organizer_id, campaign_id, now)
    templates = Templates({"htmx_available": False, "base_url": settings.base_url})
    sender = build_sender(settings, engine, templates, Signer(settings.secret_keys))

    def run() -> dict[str, Any]:
        moment, queued, sent = now, 0, 0
        started = time.perf_counter()
        while True:  # what the worker does each minute: queue a batch, then send
            batch = campaigns.send_due(engine, moment)
            queued += batch
            sent += sender.run_once()
            if batch == 0 and campaigns.send_due(engine, moment + timedelta(minutes=1)) == 0:
                break
            moment += timedelta(minutes=1)
        return {
            "queued": queued,
            "sent": sent,
            "received": Sink.received,
            "send_seconds": time.perf_counter() - started,
        }

    try:
        return measured(run)
    finally:
        sink.stop()
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__)
    measures = parser.add_subparsers(dest="measure", required=True)
    for name in ("draw", "scan"):
        pool = measures.add_parser(name)
        pool.add_argument("count", type=int)
    export = measures.add_parser("export")
    export.add_argument("url")
    export.add_argument("slug")
    campaign = measures.add_parser("campaign")
    campaign.add_argument("data_dir")
    campaign.add_argument("slug")
    campaign.add_argument("count", type=int)
    clients = measures.add_parser("import")
    clients.add_argument("url")
    clients.add_argument("slug")
    clients.add_argument("count", type=int)
    args = parser.parse_args(argv)
    if args.measure == "draw":
        result = measure_draw(args.count)
    elif args.measure == "scan":
        result = measure_scan(args.count)
    elif args.measure == "export":
        result = measure_export(args.url, args.slug)
    elif args.measure == "campaign":
        result = measure_campaign(args.data_dir, args.slug, args.count)
    else:
        result = measure_import(args.url, args.slug, args.count)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
