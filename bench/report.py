"""BENCHMARKS.md: the machine, the figures of one run, and how to run them again."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    figure: str
    value: str
    baseline: str
    ratio: str
    command: str


@dataclass(frozen=True)
class Goal:
    """A goal the product states, and whether this run met it."""

    text: str
    measured: str
    met: bool


def machine() -> str:
    """CPU model, cores, RAM, then the versions of Python, SQLite and PostgreSQL."""
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        kilobytes = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
    return (
        f"{cpu}, {os.cpu_count()} cores, {kilobytes / 2**20:.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {postgresql_version()}"
    )


def postgresql_version() -> str:
    try:
        from tests.pgserver import find_bindir

        out = subprocess.run(
            [str(find_bindir() / "postgres"), "--version"], capture_output=True, text=True
        ).stdout
    except (RuntimeError, OSError):
        return "PostgreSQL not installed"
    found = re.search(r"\(PostgreSQL\) (\S+)", out)
    return f"PostgreSQL {found.group(1)}" if found else "PostgreSQL (unknown version)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(figures: Sequence[Figure], date: str, machine_line: str) -> str:
    lines = [
        "| figure | value | baseline | ratio | command | date | machine |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        cells = (f.figure, f.value, f.baseline, f.ratio, f"`{f.command}`", date, machine_line)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


PREAMBLE = """\
# Benchmarks

Figures from one run of `make bench` (ten minutes or so; everything on 127.0.0.1). Run it
again to refresh this file; `.venv/bin/python -m bench.run --only NAME` (names: `sqlite`,
`postgresql`, `proxy`, `draw`, `drawdb`, `export`, `import`, `campaign`, `dashboard`, and
`drawdb-large`, which only `--only` or `--large` runs: it adds about five minutes) measures
one group and prints its rows without writing this file. The code is in `bench/`. The machine
is shared and has two cores, which wrk and the servers share too: compare the ratios, which
come from the same run, rather than figures of different runs.

What each figure means:

- **Entries/s**: complete contest entries stored per second under {load} (after a {warmup:g} s
  warm-up), against the `demo` contest of a fresh database (`contest migrate`, `contest demo`)
  served by `contest serve` with `CONTEST_ENV=production`. Each request is the urlencoded
  entry form (signed form token taken from the contest page, e-mail, first name, the rules
  and age box, the marketing consent box) sent as htmx does (`HX-Request: true`), with its own
  e-mail address and its own client address in `X-Forwarded-For` (as a reverse proxy sends
  it; the app trusts it from 127.0.0.1). With htmx, a stored entry is answered **200** with
  the "check your inbox" fragment (without htmx it is a 303 to the "entered" page): only 200
  counts as success. The app's process also sends the confirmation e-mails meanwhile
  (written as `.eml` files: `CONTEST_SMTP_URL` unset, `CONTEST_MAIL_FILES=yes`), as far as
  the database's write lock lets it: "Nothing lost" says how many were sent by the end of the
  load (the warm-up's first, in the order they were queued); the others go out after it.
- **Baseline** of the entry figures: `bench/baseline.py`, a bare Starlette app served by
  uvicorn the same way (one worker) that parses the same form and inserts one entry row and
  one outbox row with `sqlite3` in WAL mode, one transaction per request, same wrk settings.
- **Latency p50 / p99**: wrk's percentiles (`--latency`) over the measured run.
- **Refused or failed**: answers other than 200, and wrk's socket errors and timeouts (5 s).
- **Nothing lost**: after the load and a graceful stop, the rows stored for the run's
  addresses: every 200 must have its entry, each entry its two consent records (rules,
  marketing) and its confirmation message in the outbox. There may be a few more entries than
  200 answers: requests in flight when wrk stops are stored without wrk counting the answer.
- **PostgreSQL**: the same load on `contest serve --workers N` (N = 1, 2 and 3 app processes,
  each with its entry writer) with `CONTEST_APP_SENDS_MAIL=no` and one `contest worker`
  sending the outbox meanwhile, as `docs/deploy.md` runs them, over a fresh throwaway
  PostgreSQL server for each N, started from the machine's binaries (`tests/pgserver.py`,
  durability off as in the tests). Each row also gives the CPU time one stored entry cost in
  the app processes, in PostgreSQL and in the worker (from /proc, each process tree with its
  reaped children): on a machine with more cores, entries/s is bounded by the cores divided
  by their sum, as long as no lock serialises the writes.
- **PostgreSQL behind nginx**: the same load through Debian's nginx with
  `deploy/nginx-site.conf` over TLS in front of two `contest serve` processes and a worker
  (nginx takes wrk's per-request client address with its realip module, so the entry limits
  apply as in the direct run).
- **Dashboard**: each panel of a SQLite contest of 1,000,000 entries and 200,000 referrals
  (median of 5 runs after a warm-up; goal under 300 ms each), and the signed-in page through
  the app.
- **Draw**: `contest.draw.protocol.draw` drawing 10 winners from 10,000,000 synthetic weighted
  entries (1 to 4 chances) read from a generator, beside a bare scan of the same generator that only
  sums the weights; seconds and peak resident memory (VmHWM) of a process of its own, with
  what the run added to the process in brackets; each is run twice, in turn, and the faster
  run of each counts.
- **Draw from the database**: `contest.draw.drawing.run_draw`, what `contest draw` runs, end
  to end on a closed contest of 1,000,000 confirmed entries: freezing the pool (the entries
  read in ticket order, each judged by the draw-time rules, the pool file written and stored,
  its digest and Merkle root), the draw, the winners' and alternates' inclusion proofs, the
  signed record and its storage; the record's proofs are then checked against its root. The
  entries are inserted beforehand, not timed (`bench.batch.make_draw_entries`): a person each,
  random 16-character tickets, half with a birth date (one in 5,000 of a minor, excluded by the
  age rule), one in two brought by a referral credited one chance (one credit in a hundred
  after the close, which the pool does not count). **Baseline**: the bare `SELECT` of the same
  rows with the columns the draw reads (ticket, chances less the late credits, the person's
  key, birth date and state, in ticket order) through `sqlite3`, fetched in batches and
  nothing else. Each is run twice, in turn, and the faster run of each counts.
  `drawdb-large` draws 10,000,000 entries once, against its goals of a minute and 200 MB.
- **Lead export**: `contest.leads.export.export_leads` streaming the 1,000,000 consenting leads of a
  contest as CSV (to /dev/null), SQLite; the rows are inserted beforehand, not timed.
  **Baseline**: the same file made plainly: one `sqlite3` query of the contest's people whose
  latest marketing consent record is "confirmed" (and whose address has not bounced), with
  that record, their source and number of contests, written with `csv.writer`, a segment and a
  score from the number of contests, and an HMAC-SHA256 link per row. Twice each, in turn; the
  faster counts.
- **Client import**: `contest.leads.clients.import_clients` reading a 100,000-row client CSV (built
  in memory beforehand) into an empty client list, SQLite. **Baseline**: the same file through
  `csv.reader` (the address lowercased, the date parsed, the segments split) and `executemany`
  into the client list and its versions, in one `sqlite3` transaction. Twice each, each into a
  fresh database; the faster counts.
- **Campaign**: an e-mail campaign to 20,000 consenting leads (10,000 a minute), queued by the
  worker's duty minute after minute (the minutes pass at once on the sender's clock) and sent
  over SMTP to a local server that accepts and drops every message (aiosmtpd), SQLite.

"""


def markdown(
    figures: Sequence[Figure],
    goals: Sequence[Goal],
    *,
    date: str,
    machine_line: str,
    load: str,
    warmup: float,
    elapsed: float,
    load_averages: tuple[float, float],
    notes: Sequence[str] = (),
) -> str:
    parts = [PREAMBLE.format(load=f"`{load}`", warmup=warmup)]
    before, after = load_averages
    parts.append(
        f"Run of {date}, {elapsed / 60:.1f} minutes, on: {machine_line}. Load average (1 min) "
        f"{before:.1f} at the start, {after:.1f} at the end (the benchmark itself keeps both "
        "cores busy; a start well above 0 means other work was running too).\n\n"
    )
    if goals:
        parts.append("Goals stated by the product, as measured in this run:\n\n")
        for goal in goals:
            parts.append(
                f"- {goal.text}: {'met' if goal.met else '**not met**'} ({goal.measured})\n"
            )
        parts.append("\n")
    parts.append(table(figures, date, machine_line))
    if notes:
        parts.append("\n" + "\n".join(f"- {note}" for note in notes) + "\n")
    return "".join(parts)
