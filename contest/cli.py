"""The contest command: serve the app, run the worker, draw, export, and the rest."""

from __future__ import annotations

import argparse
import getpass
import math
import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from sqlalchemy import Engine
from sqlmodel import Session

from contest import logs
from contest.actors import act_as
from contest.clock import SYSTEM_CLOCK, Clock
from contest.settings import Settings, SettingsError
from contest.storage import NotMigrated, create_db_engine, ensure_migrated, migrate
from rules import catalogue


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        sys.exit(f"contest: {exc}")


def _migrated_engine(settings: Settings) -> Engine:
    """The database engine; stops with the command to run when the schema is behind."""
    engine = create_db_engine(settings.database_url.reveal())
    try:
        ensure_migrated(engine)
    except NotMigrated as exc:
        sys.exit(f"contest: {exc}")
    return engine


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    engine = create_db_engine(settings.database_url.reveal())
    before, after = migrate(engine)
    print(f"Database schema: {before or 'empty'} -> {after}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    engine = create_db_engine(settings.database_url.reveal())
    migrate(engine)
    engine.dispose()
    if args.workers > 1 and engine.dialect.name == "sqlite":
        # SQLite takes one writer at a time: a second process waits for the first one's lock.
        print(
            "Note: on SQLite, more processes do not take more entries (one writer at a time);"
            " use PostgreSQL to spread the load (docs/deploy.md)."
        )
    print(f"Serving on http://{args.host}:{args.port}  (public address: {settings.base_url})")
    uvicorn.run(
        "contest.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=list(settings.trusted_proxies),
        log_level="info",
        log_config=logs.server_config(),
        access_log=False,
        server_header=False,
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from contest.demo import seed_demo

    settings = _settings()
    engine = _migrated_engine(settings)
    with Session(engine) as session:
        login = seed_demo(session, settings, SYSTEM_CLOCK.now())
    print("Demo ready" + (" (created)" if login.created else ""))
    print(f"  Contest page:       {settings.base_url}/c/demo")
    print(f"  Clients only:       {settings.base_url}/c/demo-clients")
    print(f"  Closed, to draw:    {settings.base_url}/c/demo-closed")
    print(f"  Organizer login:    {login.email}  /  {login.password}")
    if settings.smtp_url is None:
        print(f"  E-mails are written to {settings.mail_dir}/ (set CONTEST_SMTP_URL to send them)")
    return 0


def cmd_create_organizer(args: argparse.Namespace) -> int:
    """``contest create-organizer EMAIL [--legal-name …]``: an account, and its organization's
    settings for scripted installs (the workspace's Organization page edits them later)."""
    from contest.contests.formats import parse_settings
    from contest.contests.setting import ConfigErrors
    from contest.organization import ORGANIZATION_SETTINGS, OrganizationSettings, create_organizer
    from contest.passwords import WeakPassword, hash_password
    from contest.people import InvalidEmail, clean_email

    settings = _settings()
    try:
        email = clean_email(args.email)
    except InvalidEmail:
        sys.exit(f"contest: not a valid e-mail address: {args.email}")
    given = {name: getattr(args, name, None) or "" for name in ORGANIZATION_SETTINGS}
    try:
        organization = parse_settings(OrganizationSettings, {k: v for k, v in given.items() if v})
    except ConfigErrors as problems:
        for name, (_, english) in problems.errors.items():
            print(f"contest: --{name.replace('_', '-')}: {english}", file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not sys.stdin.isatty():
        sys.exit("contest: no terminal to type the password in: use --password-stdin")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            sys.exit("contest: the two passwords differ")
    try:
        hashed = hash_password(password)
    except WeakPassword as exc:
        sys.exit(f"contest: {exc}")
    engine = _migrated_engine(settings)
    try:
        with Session(engine) as session:
            created = create_organizer(session, email, hashed, organization, SYSTEM_CLOCK.now())
    finally:
        engine.dispose()
    if not created:
        sys.exit(f"contest: an organizer {email} already exists")
    print(f"Organizer {email} created.")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from contest.templating import Templates
    from contest.tokens import Signer
    from contest.worker import build_sender

    settings = _settings()
    engine = _migrated_engine(settings)
    templates = Templates({"htmx_available": False, "base_url": settings.base_url})
    sender = build_sender(settings, engine, templates, Signer(settings.secret_keys))
    if args.once:  # one round of what the loop does: the due duties, then the outbox
        if sender.maintenance is not None:
            sender.maintenance(sender.clock())
        print(f"Sent {sender.run_once()} message(s).")
        return 0
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()
        sender.wake.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("Worker sending the outbox; Ctrl-C to stop.")
    sender.run_forever(stop, interval=args.interval)
    return 0


def cmd_rules_list(args: argparse.Namespace) -> int:
    language = args.lang
    for rule in catalogue():
        if args.jurisdiction and rule.pack not in {"ALL", args.jurisdiction}:
            continue
        message = rule.message_fr if language == "fr" else rule.message_en
        print(f"{rule.id}  [{rule.jurisdiction}; {rule.moment}; {rule.severity}]  {rule.title}")
        print(f"    {message}")
        print(f"    Source: {rule.source}")
    return 0


def cmd_draw(args: argparse.Namespace) -> int:
    from contest.draw.drawing import DrawRefused, public_record_json, run_draw, signing_key
    from contest.outbound import connector_client
    from contest.prizes import claims

    settings = _settings()
    engine = create_db_engine(settings.database_url.reveal())
    try:
        ensure_migrated(engine)
        key, key_id = signing_key(settings.secret_keys[0].reveal())
        outcome = run_draw(
            engine,
            args.slug,
            SYSTEM_CLOCK.now(),
            signing_key=key,
            key_id=key_id,
            operator=args.operator,
            public_value=args.public_value,
            public_value_source=args.public_value_source,
            relays=settings.drand_urls,
            client=connector_client(settings),
        )
        told = claims.notify_after_draw(engine, args.slug, SYSTEM_CLOCK.now())
    except NotMigrated as exc:
        sys.exit(f"contest: {exc}")
    except DrawRefused as exc:
        print(f"contest: {exc.message_en}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    sys.stdout.write(public_record_json(outcome.record))
    if outcome.record.pool.entries is None:
        print(
            f"contest: the pool of {outcome.record.pool.count} entries is too large to list in "
            f"the record; it is published at {settings.base_url}/c/{args.slug}/pool.tsv "
            "(contest verify-draw RECORD --pool POOL.tsv).",
            file=sys.stderr,
        )
    if told:
        print(
            f"contest: {told} winner(s) will be told by e-mail (contest worker).", file=sys.stderr
        )
    if not outcome.created:
        print(
            f"contest: {args.slug} was already drawn at {outcome.record.drawn_at}; this is its "
            "first record (a contest is drawn once).",
            file=sys.stderr,
        )
    return 0


def cmd_verify_draw(args: argparse.Namespace) -> int:
    from pathlib import Path

    from contest.draw.drawing import verify_file

    result = verify_file(Path(args.record), Path(args.pool) if args.pool else None)
    record = result.record
    if result.ok and record is not None:
        pool = record.pool
        print(
            f"OK: {record.contest_slug} drawn at {record.drawn_at}: the secret matches its "
            f"commitment; the pool of {pool.count} entries (total weight {pool.total_weight}, "
            f"digest {pool.digest}) and its Merkle root recompute; {len(record.winners)} "
            f"winner(s) and {len(record.alternates)} alternate(s) recompute from the seed."
        )
        return 0
    for problem in result.problems:
        print(f"{problem.code}: {problem.detail}")
    print(f"FAILED: {args.record} does not match its draw ({len(result.problems)} problem(s)).")
    return 1


def cmd_verify_instant_win(args: argparse.Namespace) -> int:
    """``contest verify-instant-win RECORD.json``: 0 when the record holds (no database, no
    network), 1 with each problem otherwise."""
    import json
    from pathlib import Path

    from contest.instantwin import verify

    try:
        data = json.loads(Path(args.record).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"FAILED: {args.record} cannot be read: {exc}")
        return 1
    problems = verify(data) if isinstance(data, dict) else ["the record is not a JSON object"]
    if not problems:
        won = sum(1 for moment in data["moments"] if moment.get("ticket"))
        print(
            f"OK: {data['contest']}: the salt and the {len(data['moments'])} moment(s) give the "
            f"published commitment; {won} moment(s) went to the first confirmation at or after "
            f"them, among {len(data['confirmations'])} confirmation(s)."
        )
        return 0
    for problem in problems:
        print(problem)
    print(f"FAILED: {args.record} does not hold ({len(problems)} problem(s)).")
    return 1


def cmd_verify_consents(args: argparse.Namespace) -> int:
    """``contest verify-consents [--organizer EMAIL]``: 1 and the first broken link on failure,
    2 for an unknown organizer."""
    from contest.leads.consents import verify_organizers

    engine = _migrated_engine(_settings())
    try:
        with engine.connect() as connection:
            reports = verify_organizers(connection, getattr(args, "organizer", None))
    finally:
        engine.dispose()
    if not reports:
        print(f"contest: no organizer {args.organizer}", file=sys.stderr)
        return 2
    for email, report in reports:
        if report.ok:
            print(
                f"OK {email}: {report.checked} record(s) chained, head "
                f"{report.last_seq} {report.last_hash or '-'}; "
                f"{report.unsealed} waiting to be sealed"
            )
            continue
        broken = report.first_broken
        assert broken is not None
        print(
            f"BROKEN {email}: seq {broken.seq} (record id {broken.record_id}): "
            f"{broken.reason}; {report.checked} record(s) intact before it"
        )
    return 1 if any(not report.ok for _, report in reports) else 0


def cmd_purge(args: argparse.Namespace) -> int:
    from contest.leads import privacy

    settings = _settings()
    engine = _migrated_engine(settings)
    purged = privacy.purge_expired(
        engine,
        SYSTEM_CLOCK.now(),
        suppression_key=settings.secret_keys[0].reveal().encode(),
        default_months=args.months,
    )
    for entry in purged:
        print(f"contest {entry.contest_id}: {entry.persons} person(s) purged")
    if not purged:
        print("Nothing to purge.")
    return 0


def cmd_bounces(args: argparse.Namespace) -> int:
    """``contest bounces [FILE ...]``: applies returned messages (bounces, complaints) read from
    files, or the one message on standard input (for a mail server that pipes them to a
    command); prints what each changed. 0 even for a message that is no report (a mail server
    would otherwise return it again); 75 (EX_TEMPFAIL: try again later) when one could not be
    applied."""
    from contest.bounces.handling import handle_raw
    from contest.bounces.reports import MAX_REPORT_BYTES

    engine = _migrated_engine(_settings())
    status = 0
    try:
        for name in args.files or ["-"]:
            if name == "-":
                raw = sys.stdin.buffer.read(MAX_REPORT_BYTES)
            else:
                try:
                    with open(name, "rb") as message:
                        raw = message.read(MAX_REPORT_BYTES)
                except OSError as exc:
                    print(f"contest: {name}: {exc.strerror or exc}", file=sys.stderr)
                    status = 66  # EX_NOINPUT
                    continue
            try:
                outcome = handle_raw(engine, raw, SYSTEM_CLOCK.now(), door="cli")
            except Exception as exc:
                print(f"{name}: not applied ({type(exc).__name__}); try again", file=sys.stderr)
                status = 75
                continue
            if outcome.kind == "bounce":
                done = f"{outcome.undeliverable} address(es) marked undeliverable"
            elif outcome.kind == "complaint":
                done = f"{outcome.withdrawn} consent(s) withdrawn"
            else:
                done = "nothing done"
            print(
                f"{name}: {outcome.kind}, {done}"
                + (f" ({outcome.reason})" if outcome.reason else "")
            )
    finally:
        engine.dispose()
    return status


def cmd_sending_domain(args: argparse.Namespace) -> int:
    """``contest sending-domain [--check]``: the platform's own sending domain (that of
    CONTEST_MAIL_FROM): makes its DKIM key the first time, prints the DNS records to publish,
    and with ``--check`` reads them. 0 when its DKIM record matches (or is not checked), 1
    when it does not, 2 when the sending address cannot be signed for."""
    from email.utils import parseaddr

    from contest import sendingdomains
    from contest.secretbox import SecretBox
    from contest.transactions import writing

    settings = _settings()
    engine = _migrated_engine(settings)
    address = parseaddr(settings.mail_from)[1]
    try:
        with engine.connect() as connection:
            domain = sendingdomains.sending_domain_of(connection, None)
        if domain is None or domain.address != address:
            box = SecretBox(settings.secret_keys)
            now = SYSTEM_CLOCK.now()
            domain = writing(engine, sendingdomains.set_sending_address, box, None, address, now)
        relay = sendingdomains.relay_of(settings)
        if args.check:
            lookup = sendingdomains.DnsLookup(settings.dns_servers)
            domain = sendingdomains.check_sending_domain(
                engine, None, lookup, relay, SYSTEM_CLOCK.now()
            )
    except sendingdomains.SenderAddressInvalid as exc:
        print(f"contest: CONTEST_MAIL_FROM {address!r}: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"Sending address: {domain.address} (DKIM selector {domain.selector})")
    for record in domain.records(relay):
        status = f"  [{record.status.value}]" if args.check else ""
        print(f"{record.kind.value.upper()}  {record.name}  TXT  {record.value}{status}")
    dkim = domain.records(relay)[0]
    return 1 if args.check and dkim.status is not sendingdomains.RecordStatus.MATCH else 0


def cmd_export_leads(args: argparse.Namespace) -> int:
    return export_leads(
        _settings(),
        args.slug,
        args.purpose,
        args.lawful_basis,
        sys.stdout,
        sys.stderr,
        partner=args.partner,
    )


def export_leads(
    settings: Settings,
    slug: str,
    purpose: str,
    lawful_basis: str | None,
    out: TextIO,
    err: TextIO,
    clock: Clock = SYSTEM_CLOCK,
    partner: str | None = None,
) -> int:
    """``contest export leads SLUG``: the CSV on ``out``; 0, or 1 with the reason on ``err``."""
    from contest.leads.export import LeadExportRefused, basis_note, export_contest_leads
    from contest.leads.subscriptions import PreferenceLinks
    from contest.tokens import Signer

    engine = _migrated_engine(settings)
    try:
        links = PreferenceLinks(Signer(settings.secret_keys, clock), settings.base_url)
        chunks = export_contest_leads(
            engine, slug, purpose, lawful_basis, clock.now(), links, partner=partner
        )
        for chunk in chunks:
            out.write(chunk)
    except LeadExportRefused as exc:
        err.write(f"contest: {exc.message_en}\n")
        return 1
    finally:
        engine.dispose()
    err.write(f"contest: leads of {slug} exported for {purpose} ({basis_note(lawful_basis)}).\n")
    return 0


def organization_options() -> list[tuple[str, str]]:
    """The organization's settings as options of ``create-organizer``, from their declaration
    (those a person types: not the logo, set by its upload)."""
    from contest.organization import ORGANIZATION_SETTINGS

    return [(name, spec.label) for name, spec in ORGANIZATION_SETTINGS.items() if spec.api]


def _number(
    kind: type[int] | type[float], low: float, high: float | None = None
) -> Callable[[str], int | float]:
    """An argparse type: a number within bounds, refused with a message naming them."""

    def read(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"a number, not {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"a number, not {text!r}")
        if value < low or (high is not None and value > high):
            bounds = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"{bounds}, not {text}")
        return value

    return read


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate if needed, then serve the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_number(int, 1, 65535), default=8000)
    serve.add_argument("--workers", type=_number(int, 1), default=1)
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("migrate", help="upgrade the database schema").set_defaults(
        func=cmd_migrate
    )
    commands.add_parser("demo", help="seed the demo (idempotent)").set_defaults(func=cmd_demo)

    create = commands.add_parser("create-organizer", help="create an organizer account")
    create.add_argument("email")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    for name, spec in organization_options():
        create.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="TEXT", help=spec)
    create.set_defaults(func=cmd_create_organizer)

    worker = commands.add_parser("worker", help="send the outbox until stopped")
    worker.add_argument(
        "--once",
        action="store_true",
        help="run the due duties (reminders, results, expired claims...), send what is due, exit",
    )
    worker.add_argument(
        "--interval", type=_number(float, 0.1, 3600), default=1.0, help="seconds between rounds"
    )
    worker.set_defaults(func=cmd_worker)

    sending = commands.add_parser(
        "sending-domain",
        help="the DKIM key and DNS records of the platform's sending address (CONTEST_MAIL_FROM)",
    )
    sending.add_argument("--check", action="store_true", help="read the published records")
    sending.set_defaults(func=cmd_sending_domain)

    drawing = commands.add_parser("draw", help="draw a closed contest, print its record")
    drawing.add_argument("slug")
    drawing.add_argument(
        "--public-value",
        default="",
        help="the value the rules announced: a drand round's signature (empty: fetched from "
        "CONTEST_DRAND_URLS), a lottery's result, the bailiff's value",
    )
    drawing.add_argument(
        "--public-value-source",
        default="",
        help="where it comes from (only for contests published without an announced value)",
    )
    drawing.add_argument("--operator", default="cli", help="who runs the draw (not an e-mail)")
    drawing.set_defaults(func=cmd_draw)

    export = commands.add_parser("export", help="export data")
    export_commands = export.add_subparsers(dest="export_command", required=True)
    leads = export_commands.add_parser("leads", help="a contest's qualified leads as CSV on stdout")
    leads.add_argument("slug")
    leads.add_argument(
        "--purpose",
        default="marketing_email",
        help="a consent purpose, or e.g. prize_fulfilment (then --lawful-basis)",
    )
    leads.add_argument("--lawful-basis", metavar="TEXT", help="required for non-consent purposes")
    leads.add_argument(
        "--partner", metavar="NAME", help="with --purpose partners: one of the contest's partners"
    )
    leads.set_defaults(func=cmd_export_leads)

    verify = commands.add_parser(
        "verify-draw", help="recompute a published draw record; exit 0 only if it matches"
    )
    verify.add_argument("record", metavar="RECORD.json")
    verify.add_argument(
        "--pool", metavar="POOL.tsv", help="the published pool file, for a record without it"
    )
    verify.set_defaults(func=cmd_verify_draw)

    instant = commands.add_parser(
        "verify-instant-win",
        help="check an instant-win record: commitment, moments and winners; exit 0 if it holds",
    )
    instant.add_argument("record", metavar="RECORD.json")
    instant.set_defaults(func=cmd_verify_instant_win)

    verify = commands.add_parser(
        "verify-consents", help="verify the consent chains; exit 1 on a broken link"
    )
    verify.add_argument("--organizer", metavar="EMAIL")
    verify.set_defaults(func=cmd_verify_consents)

    purge = commands.add_parser("purge", help="apply the retention periods now")
    purge.add_argument(
        "--months", type=_number(int, 1, 1200), default=12, help="when a contest sets none"
    )
    purge.set_defaults(func=cmd_purge)

    bounces = commands.add_parser(
        "bounces", help="apply returned messages (bounces, complaints) from files or stdin"
    )
    bounces.add_argument("files", nargs="*", metavar="FILE", help="raw messages; none: stdin")
    bounces.set_defaults(func=cmd_bounces)

    rules = commands.add_parser("rules", help="the legal rule catalogue")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    listing = rules_commands.add_parser("list", help="print the catalogue")
    listing.add_argument("--lang", choices=["fr", "en"], default="en")
    listing.add_argument(
        "--jurisdiction",
        type=str.upper,
        choices=sorted({rule.pack for rule in catalogue()} - {"ALL"}),
        help="only the rules of one pack, with those that apply everywhere",
    )
    listing.set_defaults(func=cmd_rules_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    # SIGPIPE stays ignored, as Python sets it: a client or an SMTP server hanging up in the
    # middle of an answer must fail that one connection, not end `contest serve` or the worker
    # without a word. A reader of our output that stops early is met here instead.
    logs.configure()
    args = build_parser().parse_args(argv)
    act_as("cli")  # the audit log's name for what the command line does
    try:
        result: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        if not _stdout_gone():
            raise
        # `contest rules list | head`: the reader has what it wanted; end quietly, and keep
        # the interpreter's last flush from complaining about the same pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return result


def _stdout_gone() -> bool:
    """Whether our standard output is a pipe whose reader has closed it (poll says POLLERR)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(main())
