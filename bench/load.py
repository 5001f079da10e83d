"""Load on the entry path: serve an app, send it entries with wrk, count what was stored.

wrk runs ``entries.lua`` beside this file: every request is a complete entry with its own
e-mail address and its own client address (X-Forwarded-For, as a reverse proxy sends it), and
the script counts the 200 answers, which are the htmx "check your inbox" fragment: the handler
answers it only after the entry's transaction has committed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

LUA = Path(__file__).with_name("entries.lua")
SLUG = "demo"


@dataclass(frozen=True)
class Load:
    """wrk's settings: threads, open connections, seconds of warm-up and of measure."""

    threads: int = 2
    connections: int = 64
    warmup: float = 2
    duration: float = 10

    def wrk_options(self, duration: float) -> list[str]:
        return [f"-t{self.threads}", f"-c{self.connections}", f"-d{duration:g}s"]

    def describe(self) -> str:
        return f"wrk -t{self.threads} -c{self.connections} -d{self.duration:g}s"


@dataclass(frozen=True)
class WrkResult:
    ok: int  # 200 answers: stored entries
    other: int  # answers with another status
    statuses: str  # those other statuses, "code:count,..." or "-"
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int  # connect, read and write errors
    timeouts: int

    @property
    def rate(self) -> float:
        return self.ok / self.seconds


@dataclass(frozen=True)
class Stored:
    """What the database holds for the addresses of one run; ``None`` for what it lacks."""

    entries: int
    consents: int | None
    outbox: int

    def complete(self, answered: int, consents_per_entry: int | None) -> bool:
        """Every 2xx has its rows, and every stored entry its consents and its message.

        More entries than 2xx answers is expected: requests still in flight when wrk stops
        are stored, unanswered to wrk.
        """
        whole = self.entries >= answered and self.outbox == self.entries
        if consents_per_entry is not None:
            whole = whole and self.consents == consents_per_entry * self.entries
        return whole


@dataclass(frozen=True)
class LoadResult:
    wrk: WrkResult
    stored: Stored
    # Confirmation e-mails sent, and queued, when wrk stopped (warm-up included): the rest go
    # out after the load.
    mail_at_end: tuple[int, int] | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(
    argv: Sequence[str], env: Mapping[str, str], port: int, log: Path, ready_path: str
) -> Iterator[str]:
    """Starts a server, waits until ``ready_path`` answers 200, yields its base URL.

    On exit, stops it with SIGTERM (a graceful shutdown: uvicorn finishes the requests in
    flight and runs the app's shutdown, which stores the entries already handed over).
    """
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            list(argv), env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(process, base + ready_path, log)
        yield base
    finally:
        _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{tail(log)}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} within {timeout:g} s:\n{tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:  # it should not have: say how it ended
        sys.stderr.write(f"  the server (pid {process.pid}) had exited: {process.returncode}\n")
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the server and its workers
        process.wait()


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def form_token(base: str, slug: str = SLUG) -> str:
    """The signed token of the contest page's entry form, as a browser gets it."""
    with urllib.request.urlopen(f"{base}/c/{slug}", timeout=10) as page:
        text = page.read().decode()
    match = re.search(r'name="form_token" value="([^"]+)"', text)
    if match is None:
        raise RuntimeError(f"{base}/c/{slug} has no entry form")
    return match.group(1)


def run_wrk(base: str, token: str, prefix: str, load: Load, duration: float) -> WrkResult:
    """Sends entries for ``duration`` seconds; addresses start with ``prefix``."""
    command = [
        "wrk",
        *load.wrk_options(duration),
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        f"{base}/c/{SLUG}/entries",
        "--",
        token,
        prefix,
        base,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    fields = dict(pair.split("=", 1) for pair in line.split()[1:])
    return WrkResult(
        ok=int(fields["ok"]),
        other=int(fields["other"]),
        statuses=fields["statuses"],
        seconds=int(fields["duration_us"]) / 1e6,
        p50_ms=int(fields["p50_us"]) / 1e3,
        p90_ms=int(fields["p90_us"]) / 1e3,
        p99_ms=int(fields["p99_us"]) / 1e3,
        max_ms=int(fields["max_us"]) / 1e3,
        socket_errors=sum(int(fields[k]) for k in ("connect", "read", "write")),
        timeouts=int(fields["timeout"]),
    )


def count_sent(database_url: str, prefix: str) -> tuple[int, int]:
    """Confirmation messages sent so far, and queued in all, to the addresses of the run
    ``prefix`` and of its warm-up (which come first in the outbox)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.text(
                    "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM outboxmessage"
                    " WHERE template = 'confirm' AND (recipient LIKE :run OR recipient LIKE :warm)"
                ),
                {"run": f"{prefix}-%", "warm": f"warm{prefix}-%"},
            ).one()
            return int(row[0]), int(row[1])
    finally:
        engine.dispose()


def count_stored(database_url: str, prefix: str) -> Stored:
    """Entries, consent records and confirmation messages of the addresses ``prefix-...``."""
    pattern = {"pattern": f"{prefix}-%"}
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:

            def count(sql: str) -> int:
                return int(connection.execute(sa.text(sql), pattern).scalar_one())

            return Stored(
                entries=count(
                    "SELECT count(*) FROM entry JOIN person ON person.id = entry.person_id"
                    " WHERE person.email LIKE :pattern"
                ),
                consents=count(
                    "SELECT count(*) FROM consentrecord"
                    " JOIN person ON person.id = consentrecord.person_id"
                    " WHERE person.email LIKE :pattern"
                ),
                outbox=count(
                    "SELECT count(*) FROM outboxmessage"
                    " WHERE template = 'confirm' AND recipient LIKE :pattern"
                ),
            )
    finally:
        engine.dispose()


def count_baseline(path: Path, prefix: str) -> Stored:
    """The same count in the baseline's database (it writes no consent records)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            pattern = {"pattern": f"{prefix}-%"}
            entries = connection.execute(
                sa.text("SELECT count(*) FROM entry WHERE email LIKE :pattern"), pattern
            ).scalar_one()
            outbox = connection.execute(
                sa.text("SELECT count(*) FROM outbox WHERE recipient LIKE :pattern"), pattern
            ).scalar_one()
        return Stored(entries=int(entries), consents=None, outbox=int(outbox))
    finally:
        engine.dispose()


def measure(base: str, token: str, prefix: str, load: Load) -> WrkResult:
    """A warm-up (its entries kept apart by their prefix), then the measured run."""
    if load.warmup > 0:
        run_wrk(base, token, f"warm{prefix}", load, load.warmup)
    return run_wrk(base, token, prefix, load, load.duration)
