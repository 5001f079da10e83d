"""Entries on PostgreSQL with 1, 2 and 3 app processes, and where each entry's CPU goes.

The same load as ``measure_postgresql`` (wrk, ``bench/entries.lua``, the ``demo`` contest of
a fresh throwaway PostgreSQL server for each count), on ``contest serve --workers N`` with
``CONTEST_APP_SENDS_MAIL=no`` and one ``contest worker`` sending the outbox, as
docs/deploy.md runs them. Besides entries/s, each run reports the CPU time one entry costs
in the app processes, in PostgreSQL and in the worker (from /proc: each process tree's own
and its reaped children's time): on a machine with more cores, entries/s is bounded by the
cores divided by that sum, as long as no lock serialises the writes, which the figures for 1,
2 and 3 processes on this two-core machine show or refute.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench import load as loads
from bench.load import Load, LoadResult

if TYPE_CHECKING:
    from bench.run import Group

NAME = "postgresql"
COUNTS = (1, 2, 3)
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    processes: int
    result: LoadResult
    app_ms: float  # CPU milliseconds per stored entry, app processes
    database_ms: float  # ... PostgreSQL
    worker_ms: float  # ... the worker


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                tree.setdefault(int(_stat(int(name))[1]), []).append(int(name))
    return tree


def cpu_seconds(root: int) -> float:
    """CPU time of a process, its live descendants, and the children it has reaped."""
    tree = _children()
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        with contextlib.suppress(OSError, IndexError):
            fields = _stat(pid)
            total += int(fields[11]) + int(fields[12])  # utime, stime
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: reaped children
        stack.extend(tree.get(pid, ()))
    return total / TICK


def postmaster(database_url: str) -> int:
    """The pid of the PostgreSQL server listening on the URL's port."""
    port = re.search(r":(\d+)/", database_url)
    assert port is not None, database_url
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
            if argv[0].endswith(b"postgres") and f"-p {port.group(1)}".encode() in b" ".join(argv):
                return int(name)
    raise RuntimeError(f"no PostgreSQL server on port {port.group(1)}")


def measure_processes(tmp: Path, load: Load, processes: int) -> Run:
    from bench.proxy import sending_worker
    from bench.run import app_environment, contest_command
    from tests.pgserver import postgres_server

    prefix = f"scale{processes}"
    port = loads.free_port()
    contest = contest_command()
    with postgres_server() as url:
        env = app_environment(tmp / f"app-{prefix}", port, url)
        env["CONTEST_APP_SENDS_MAIL"] = "no"
        for step in (["migrate"], ["demo"]):
            subprocess.run([*contest, *step], env=env, check=True, capture_output=True, cwd=tmp)
        serve = [*contest, "serve", "--host", "127.0.0.1", "--port", str(port)]
        serve += ["--workers", str(processes)]
        log = tmp / f"{prefix}.log"
        with (
            loads.serving(serve, env, port, log, "/healthz") as base,
            sending_worker(contest, env, tmp / f"{prefix}-worker.log") as worker,
        ):
            token = loads.form_token(base)
            if load.warmup > 0:
                loads.run_wrk(base, token, f"warm{prefix}", load, load.warmup)
            app = _serving_pid(port, log)
            database = postmaster(url)
            before = [cpu_seconds(pid) for pid in (app, database, worker)]
            wrk = loads.run_wrk(base, token, prefix, load, load.duration)
            after = [cpu_seconds(pid) for pid in (app, database, worker)]
            sent = loads.count_sent(url, prefix)
        stored = loads.count_stored(url, prefix)
    entries = max(stored.entries, 1)
    per_entry = [1000 * (b - a) / entries for a, b in zip(before, after, strict=True)]
    return Run(processes, LoadResult(wrk, stored, sent), *per_entry)


def _serving_pid(port: int, log: Path) -> int:
    """The `contest serve` process listening on ``port`` (uvicorn's workers are its children);
    when there is none, the error quotes the end of its ``log`` (the bench's folder is gone
    once the run ends)."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
            if b"serve" in argv and str(port).encode() in argv:
                return int(name)
    found = subprocess.run(["pgrep", "-af", str(port)], capture_output=True, text=True).stdout
    raise RuntimeError(
        f"no contest serve on port {port} ({found.strip() or 'no process names it'}); "
        f"the end of its log:\n{loads.tail(log)}"
    )


def measure_postgresql(tmp: Path, load: Load) -> Group:
    """Entries/s with 1, 2 and 3 app processes and a worker, the CPU one entry costs where,
    and the product's goal on two processes."""
    from bench.report import Figure, Goal
    from bench.run import (
        CONSENTS_PER_ENTRY,
        POSTGRESQL_GOAL,
        Group,
        _check_stored,
        _entry_figures,
        command,
        say,
    )

    group = Group()
    runs: list[Run] = []
    for processes in COUNTS:
        say(f"Entries, PostgreSQL: {processes} app process(es) and a worker")
        run = measure_processes(tmp, load, processes)
        _check_stored(group, f"PostgreSQL, {processes} process(es)", run.result, CONSENTS_PER_ENTRY)
        runs.append(run)
    one = runs[0].result.wrk.rate
    for run in runs:
        cpu = run.app_ms + run.database_ms + run.worker_ms
        label = f"PostgreSQL, {run.processes} app process(es) and a worker"
        group.figures.append(
            Figure(
                f"Entries/s, {label}",
                f"{run.result.wrk.rate:,.0f}/s; CPU per entry: app {run.app_ms:.2f} ms, "
                f"PostgreSQL {run.database_ms:.2f} ms, worker {run.worker_ms:.2f} ms "
                f"(total {cpu:.2f} ms)",
                f"{one:,.0f}/s (1 process)" if run.processes > 1 else "—",
                f"{run.result.wrk.rate / one:.2f}×" if run.processes > 1 and one else "—",
                command(NAME),
            )
        )
        group.figures += _entry_figures(label, NAME, run.result, None)
    two = next(run for run in runs if run.processes == 2).result.wrk.rate
    group.goals.append(
        Goal(
            f"PostgreSQL entries/s ≥ {POSTGRESQL_GOAL:,.0f} with two app processes",
            f"{two:,.0f}/s",
            two >= POSTGRESQL_GOAL,
        )
    )
    return group
