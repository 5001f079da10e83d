"""The PostgreSQL entry load through nginx, as docs/deploy.md deploys the app.

The same load as ``measure_postgresql`` of bench/run.py (wrk, ``bench/entries.lua``, the
``demo`` contest, a throwaway PostgreSQL server) on two app processes, each a ``contest
serve`` of its own on a loopback port (``CONTEST_APP_SENDS_MAIL=no``: one ``contest worker``
sends the outbox meanwhile), with Debian's nginx in front using
``deploy/nginx-site.conf`` (TLS included; only the names, ports and paths replaced, as
``tests/deploy/nginx.py`` does for the test). wrk's requests each claim their own client
address in ``X-Forwarded-For``; here nginx takes it from wrk (the realip module, as behind a
load balancer) and passes it on with ``$remote_addr``, so the entry limits per network apply
as in the direct run.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bench import load as loads
from bench.load import Load, LoadResult

if TYPE_CHECKING:
    from bench.run import Group

NAME = "proxy"
PROCESSES = 2
PUBLIC_NAME = "contest.bench"


def load_through_nginx(tmp: Path, load: Load, database_url: str) -> LoadResult:
    """Two app processes behind nginx under wrk; the result and what was stored."""
    from bench.run import app_environment, contest_command, say
    from tests.deploy.nginx import nginx

    prefix = "nginx"
    data_dir = tmp / f"app-{prefix}"
    ports = [loads.free_port() for _ in range(PROCESSES)]
    # wrk's requests carry the Origin of the address they are sent to, which the app checks
    # against its public address: nginx's own here.
    http_port, https_port = loads.free_port(), loads.free_port()
    env = app_environment(data_dir, ports[0], database_url)
    env["CONTEST_BASE_URL"] = f"https://127.0.0.1:{https_port}"
    env["CONTEST_APP_SENDS_MAIL"] = "no"  # as docs/deploy.md: a worker sends the outbox
    contest = contest_command()
    for step in (["migrate"], ["demo"]):
        subprocess.run([*contest, *step], env=env, check=True, capture_output=True, cwd=tmp)
    with contextlib.ExitStack() as stack:
        for n, port in enumerate(ports):
            serve = [*contest, "serve", "--host", "127.0.0.1", "--port", str(port)]
            log = tmp / f"{prefix}-{n}.log"
            stack.enter_context(loads.serving(serve, env, port, log, "/healthz"))
        stack.enter_context(sending_worker(contest, env, tmp / f"{prefix}-worker.log"))
        upstreams = [f"127.0.0.1:{port}" for port in ports]
        say(f"  {PROCESSES} app processes ({', '.join(upstreams)}) behind nginx, https")
        proxy = stack.enter_context(
            nginx(
                tmp / "nginx",
                upstreams,
                server_name=PUBLIC_NAME,
                trust_forwarded_from="127.0.0.1",
                ports=(http_port, https_port),
            )
        )
        token = _form_token(proxy.url, proxy.certificate)
        wrk = loads.measure(proxy.url, token, prefix, load)
        sent = loads.count_sent(database_url, prefix)
    return LoadResult(wrk, loads.count_stored(database_url, prefix), sent)


@contextlib.contextmanager
def sending_worker(contest: list[str], env: dict[str, str], log: Path) -> Iterator[int]:
    """One `contest worker` sending the outbox during the load (its pid), stopped gracefully
    after."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*contest, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent
        )
    try:
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _form_token(base: str, certificate: Path) -> str:
    """The contest page's form token, fetched through nginx over TLS."""
    import re
    import ssl
    import urllib.request

    context = ssl.create_default_context(cafile=str(certificate))
    with urllib.request.urlopen(f"{base}/c/{loads.SLUG}", timeout=10, context=context) as page:
        text = page.read().decode()
    match = re.search(r'name="form_token" value="([^"]+)"', text)
    if match is None:
        raise RuntimeError(f"{base}/c/{loads.SLUG} has no entry form")
    return match.group(1)


def measure_postgresql_nginx(tmp: Path, load: Load) -> Group:
    """Entries/s, latency, failures and the nothing-lost count, PostgreSQL behind nginx."""
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
    from tests.pgserver import postgres_server

    group = Group()
    say(f"Entries, PostgreSQL: {PROCESSES} app processes behind nginx (deploy/nginx-site.conf)")
    with postgres_server() as url:
        app = load_through_nginx(tmp, load, url)
    _check_stored(group, "PostgreSQL behind nginx", app, CONSENTS_PER_ENTRY)
    label = f"PostgreSQL, {PROCESSES} processes behind nginx (https)"
    group.figures.append(
        Figure(
            f"Entries/s, {label}",
            f"{app.wrk.rate:,.0f}/s",
            f"{POSTGRESQL_GOAL:,.0f}/s (goal)",
            f"{app.wrk.rate / POSTGRESQL_GOAL:.0%} of the goal",
            command(NAME),
        )
    )
    group.figures += _entry_figures(label, NAME, app, None)
    group.goals.append(
        Goal(
            f"PostgreSQL entries/s ≥ {POSTGRESQL_GOAL:,.0f} with two app processes behind nginx",
            f"{app.wrk.rate:,.0f}/s",
            app.wrk.rate >= POSTGRESQL_GOAL,
        )
    )
    return group


def main() -> int:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as folder:
        group = measure_postgresql_nginx(Path(folder), Load())
    for figure in group.figures:
        sys.stdout.write(f"{figure.figure}: {figure.value}\n")
    for problem in group.problems:
        sys.stdout.write(f"problem: {problem}\n")
    return 1 if group.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
