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
import base64
import csv
import hashlib
import hmac
import io
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from contest import tables
from contest.draw.protocol import MerkleProof, PoolEntry, draw, draw_seed, new_secret
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


def _stored_time(moment: datetime) -> str:
    """A time as SQLAlchemy stores a UTC ``DateTime`` in SQLite (naive, microseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def make_draw_entries(engine: Engine, slug: str, count: int) -> None:
    """``count`` confirmed entries of the closed contest ``slug``, as the app leaves them.

    Each entry has its person (addresses on four domains), a random 16-character ticket and
    share code, and answers; half give a birth date, one in 5,000 of a minor (excluded at the
    draw by the age rule). One entry in two was brought by a referral credited one chance
    (``referral`` rows), so a quarter of the entries weigh 3; one credit in a hundred came
    after the close and does not count in the pool. Inserted with ``INSERT ... SELECT``
    (SQLite), not timed.
    """
    organizer_id, contest_id = _organizer_and_contest(engine, slug)
    with engine.begin() as connection:
        closes_at = connection.execute(
            sa.select(tables.contest.c.closes_at).where(tables.contest.c.id == contest_id)
        ).scalar_one()
        params = {
            "organizer": organizer_id,
            "contest": contest_id,
            "count": count,
            "entered": _stored_time(closes_at - timedelta(days=20)),
            "before": _stored_time(closes_at - timedelta(days=2)),
            "after": _stored_time(closes_at + timedelta(hours=1)),
        }
        person_base = connection.execute(sa.text("SELECT coalesce(max(id), 0) FROM person"))
        entry_base = connection.execute(sa.text("SELECT coalesce(max(id), 0) FROM entry"))
        params |= {"person_base": person_base.scalar_one(), "entry_base": entry_base.scalar_one()}
        numbers = (
            "WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers "
            "WHERE n < :count) "
        )
        domains = "CASE n % 4 WHEN 0 THEN 'example.net' WHEN 1 THEN 'example.org' "
        domains += "WHEN 2 THEN 'mail.example' ELSE 'example.fr' END"
        connection.execute(
            sa.text(
                numbers + "INSERT INTO person (id, organizer_id, email, email_key, first_name, "
                "created_at, last_activity_at, undeliverable) SELECT :person_base + n, "
                f":organizer, 'p' || n || '@' || {domains}, 'p' || n || '@' || {domains}, "
                "'Léa', :entered, :entered, 0 FROM numbers ORDER BY n"
            ),
            params,
        )
        birth = (
            "CASE WHEN n % 5000 = 1 THEN json_object('first_name', 'Léa', 'birth_date', "
            "'2015-06-01') WHEN n % 2 = 0 THEN json_object('first_name', 'Léa', 'birth_date', "
            "date('1950-01-01', '+' || (n * 7919 % 18000) || ' days')) "
            "ELSE json_object('first_name', 'Léa') END"
        )
        connection.execute(
            sa.text(
                numbers + "INSERT INTO entry (id, public_id, contest_id, person_id, status, "
                "chances, rules_version, answers, source, language, created_at, confirmed_at, "
                "confirmation_sent_at, referral_code, referrer_entry_id, ip_network, "
                "eligibility) SELECT :entry_base + n, "
                "substr(lower(hex(randomblob(12))), 1, 16), :contest, :person_base + n, "
                "'confirmed', 1 + 2 * (n * 4 <= :count), 'bench', "
                f"{birth}, 'direct', 'fr', :entered, :entered, :entered, "
                "substr(lower(hex(randomblob(8))), 1, 12), "
                "CASE WHEN n % 2 = 0 THEN :entry_base + (n + 3) / 4 END, '10.0.0.0', '{}' "
                "FROM numbers ORDER BY n"
            ),
            params,
        )
        connection.execute(
            sa.text(
                "INSERT INTO referral (contest_id, referrer_entry_id, referred_entry_id, status, "
                "reasons, score, bonus, created_at, confirmed_at, decided_at) SELECT :contest, "
                "referrer_entry_id, id, 'credited', '[]', 0, 1, :entered, :entered, "
                "CASE WHEN id % 100 = 0 THEN :after ELSE :before END FROM entry "
                "WHERE contest_id = :contest AND referrer_entry_id IS NOT NULL ORDER BY id"
            ),
            params,
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


# The leads a marketing export holds (the people of the contest whose latest marketing e-mail
# consent record is "confirmed", whose address has not bounced), with what the file shows.
LEAD_ROWS = """
SELECT p.id, p.email, p.first_name, c.event, c.created_at, c.wording_hash, e.source,
       (SELECT count(*) FROM entry mine WHERE mine.person_id = p.id) AS contests,
       json_extract(e.answers, '$.questions') AS answers
FROM person p
JOIN entry e ON e.person_id = p.id AND e.contest_id = :contest
JOIN consentrecord c ON c.id = (
    SELECT max(id) FROM consentrecord
    WHERE person_id = p.id AND purpose = 'marketing_email')
WHERE p.organizer_id = :organizer AND p.erased_at IS NULL AND NOT p.undeliverable
  AND c.event = 'confirmed'
ORDER BY p.id
"""


def measure_export_baseline(url: str, slug: str) -> dict[str, Any]:
    """The same file made plainly: one ``sqlite3`` query of the leads with their current
    consent, ``csv.writer``, a segment and score from the number of contests, and an
    HMAC-SHA256 link per row (what a signed preferences link costs at the least)."""
    from contest.leads.export import CSV_COLUMNS

    connection = _plain_connection(url)
    organizer, contest = connection.execute(
        "SELECT organizer_id, id FROM contest WHERE slug = ?", (slug,)
    ).fetchone()
    key, prefix = b"bench-key-" * 4, "http://127.0.0.1:8000/unsubscribe/"

    def run() -> dict[str, Any]:
        lines = size = 0
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(["# Leads of contest demo for marketing_email"])
        writer.writerow(CSV_COLUMNS)
        with open(os.devnull, "w", encoding="utf-8") as out:
            rows = connection.execute(LEAD_ROWS, {"contest": contest, "organizer": organizer})
            while batch := rows.fetchmany(1000):
                for pid, email, name, state, since, version, source, contests, answers in batch:
                    payload = b"%d.%d" % (organizer, pid)
                    signature = base64.urlsafe_b64encode(hmac.digest(key, payload, "sha256"))
                    segment = "hot_prospect" if contests >= 3 else "cold_prospect"
                    writer.writerow(
                        [email, name, segment, 15 + 5 * contests, "marketing_email", state]
                        + [since, version, source, contests]
                        + [prefix + payload.decode() + "." + signature.decode(), answers or ""]
                    )
                text = buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                out.write(text)
                lines, size = lines + text.count("\r\n"), size + len(text)
            text = buffer.getvalue()
            out.write(text)
            lines, size = lines + text.count("\r\n"), size + len(text)
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


def measure_import_baseline(url: str, slug: str, count: int) -> dict[str, Any]:
    """The same rows written plainly: ``csv.reader``, the address lowercased, the date parsed,
    the segments split, then ``executemany`` into the client list and its versions, in one
    ``sqlite3`` transaction."""
    connection = _plain_connection(url)
    (organizer,) = connection.execute(
        "SELECT organizer_id FROM contest WHERE slug = ?", (slug,)
    ).fetchone()
    data = client_file(count)
    now = _stored_time(datetime.now(UTC))

    def run() -> dict[str, Any]:
        rows = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        next(rows)
        clients = [
            (
                organizer,
                email.strip().lower(),
                _stored_time(datetime.fromisoformat(since).replace(tzinfo=UTC)),
                int(orders or 0),
                json.dumps([s for s in segments.split("|") if s]),
            )
            for email, since, orders, segments in rows
        ]
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO client (organizer_id, email_key, client_since, orders_count, segments, "
            f"updated_at) VALUES (?, ?, ?, ?, ?, '{now}')",
            clients,
        )
        connection.executemany(
            "INSERT INTO clientversion (organizer_id, email_key, client_since, orders_count, "
            f"segments, learned_at) VALUES (?, ?, ?, ?, ?, '{now}')",
            clients,
        )
        connection.execute("COMMIT")
        return {"created": len(clients)}

    return measured(run)


def measure_campaign(data_dir: str, slug: str, count: int) -> dict[str, Any]:
    """A campaign to ``count`` consenting leads, queued by the worker's duty and sent over SMTP
    to a local server that accepts and drops every message (aiosmtpd)."""
    from aiosmtpd.controller import Controller
    from sqlmodel import Session

    from contest import campaigns
    from contest.clock import FixedClock
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
    # The worker's minutes pass at once: the sender reads the same clock as the batches, so
    # the messages a minute queues are due when it sends.
    clock = FixedClock(now)
    sender = build_sender(settings, engine, templates, Signer(settings.secret_keys, clock), clock)

    def run() -> dict[str, Any]:
        queued, sent = 0, 0
        started = time.perf_counter()
        while True:  # what the worker does each minute: queue a batch, then send
            batch = campaigns.send_due(engine, clock.now())
            queued += batch
            sent += sender.run_once()
            later = clock.now() + timedelta(minutes=1)
            if batch == 0 and campaigns.send_due(engine, later) == 0:
                break
            clock.advance(timedelta(minutes=1))
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


# --- The draw from the database -------------------------------------------------------------

DRAW_SLUG = "demo-closed"


def _sqlite_path(url: str) -> str:
    return url.split(":///", 1)[1]


def _plain_connection(url: str) -> sqlite3.Connection:
    """A plain ``sqlite3`` connection, tuned as the app's engine tunes its own."""
    connection = sqlite3.connect(_sqlite_path(url), isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


# The rows the draw reads: what docs/draw.md calls the pool at the close (the entries
# confirmed before the close, their chances less the credits after it) with what the
# eligibility re-check needs (the person's key, birth date and state), in ticket order.
POOL_ROWS = """
SELECT e.public_id, e.chances - coalesce(late.bonus, 0), p.email_key,
       json_extract(e.answers, '$."birth_date"'), json_extract(e.answers, '$."region"')
FROM entry e JOIN person p ON p.id = e.person_id
LEFT JOIN (SELECT referrer_entry_id, sum(bonus) AS bonus FROM referral
           WHERE contest_id = :contest AND status = 'credited' AND decided_at >= :closes
           GROUP BY referrer_entry_id) late ON late.referrer_entry_id = e.id
WHERE e.contest_id = :contest AND e.status = 'confirmed' AND e.confirmed_at < :closes
ORDER BY e.public_id
"""


def measure_select(url: str, slug: str) -> dict[str, Any]:
    """The bare ``SELECT`` of the pool's rows through ``sqlite3``, fetched in batches."""
    connection = _plain_connection(url)
    contest, closes = connection.execute(
        "SELECT id, closes_at FROM contest WHERE slug = ?", (slug,)
    ).fetchone()

    def run() -> dict[str, Any]:
        rows = 0
        cursor = connection.execute(POOL_ROWS, {"contest": contest, "closes": closes})
        while batch := cursor.fetchmany(10_000):
            rows += len(batch)
        return {"rows": rows}

    return measured(run)


def measure_drawdb(url: str, slug: str) -> dict[str, Any]:
    """``contest draw``'s function, end to end: freeze, digest, Merkle root, draw, proofs,
    record; then the record's proofs are checked against its root."""
    from contest.clock import SYSTEM_CLOCK
    from contest.draw.drawing import run_draw, signing_key
    from contest.draw.protocol import verify_inclusion
    from contest.storage import create_db_engine

    engine = create_db_engine(url)
    key, key_id = signing_key("bench-secret-key-" * 3)

    def run() -> dict[str, Any]:
        outcome = run_draw(
            engine, slug, SYSTEM_CLOCK.now(), signing_key=key, key_id=key_id, operator="bench"
        )
        return {"created": outcome.created, "record": outcome.record.to_dict()}

    result = measured(run)
    record, pool = result.pop("record"), None
    pool = record["pool"]
    proven = 0
    for placed in record["winners"] + record["alternates"]:
        line = f"{placed['ticket']}\t{placed['weight']}\n".encode()
        proof = MerkleProof(placed["index"], pool["count"], tuple(placed.get("proof") or ()))
        proven += verify_inclusion(pool["merkle_root"], line, proof)
    return result | {
        "count": pool["count"],
        "excluded": sum(record["exclusions"].values()),
        "placements": len(record["winners"]) + len(record["alternates"]),
        "proven": proven,
    }


def undraw(url: str, slug: str) -> None:
    """Forgets the contest's draw and frozen pool, so that it can be drawn again."""
    connection = _plain_connection(url)
    (contest,) = connection.execute("SELECT id FROM contest WHERE slug = ?", (slug,)).fetchone()
    connection.execute("BEGIN")
    for table in ("drawplacement", "drawrecord", "drawpoolchunk", "poolfreeze", "auditevent"):
        connection.execute(f"DELETE FROM {table} WHERE contest_id = ?", (contest,))
    connection.execute("UPDATE contest SET status = 'closed' WHERE id = ?", (contest,))
    connection.execute("COMMIT")
    connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__)
    measures = parser.add_subparsers(dest="measure", required=True)
    for name in ("draw", "scan"):
        pool = measures.add_parser(name)
        pool.add_argument("count", type=int)
    for name in ("drawdb", "select", "export-baseline"):
        database = measures.add_parser(name)
        database.add_argument("url")
        database.add_argument("slug")
    export = measures.add_parser("export")
    export.add_argument("url")
    export.add_argument("slug")
    campaign = measures.add_parser("campaign")
    campaign.add_argument("data_dir")
    campaign.add_argument("slug")
    campaign.add_argument("count", type=int)
    for name in ("import", "import-baseline"):
        clients = measures.add_parser(name)
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
    elif args.measure == "drawdb":
        result = measure_drawdb(args.url, args.slug)
    elif args.measure == "select":
        result = measure_select(args.url, args.slug)
    elif args.measure == "export-baseline":
        result = measure_export_baseline(args.url, args.slug)
    elif args.measure == "campaign":
        result = measure_campaign(args.data_dir, args.slug, args.count)
    elif args.measure == "import-baseline":
        result = measure_import_baseline(args.url, args.slug, args.count)
    else:
        result = measure_import(args.url, args.slug, args.count)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
