"""The recipe of docs/deploy.md, run: Debian's nginx with ``deploy/nginx-site.conf`` in front
of two ``contest serve`` processes and a ``contest worker`` over one PostgreSQL database.

Real processes throughout; the client connects to nginx from 127.1.2.3 (another loopback
address than nginx's own 127.0.0.1), so that the address the app records can only be the one
nginx saw.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from contest import outbox
from contest.clock import SYSTEM_CLOCK
from tests.deploy.nginx import INSTALL_HINT, SITE, Nginx, find_nginx, nginx
from tests.helpers import form_token, free_port
from tests.reliability.served import Inbox, Served, rows, serve, wait_until

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_NAME = "contest.test"
CLIENT = "127.1.2.3"  # nginx sees this address; the app must record its network, 127.1.2.0
SPOOFED = "203.0.113.66"  # what a client claims in its own X-Forwarded-For: never believed
IMMUTABLE = "public, max-age=31536000, immutable"
PER_NETWORK = 6  # entries one network may make per 10 minutes, lowered for the test

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def nginx_installed() -> None:
    if find_nginx() is None:
        if os.geteuid() == 0:  # `make test` installs it as root: missing there is a failure
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def database(pg_server: str) -> Iterator[str]:
    """An empty database of its own on the session's PostgreSQL server."""
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text("CREATE DATABASE deploy_recipe"))
    try:
        yield pg_server.rsplit("/", 1)[0] + "/deploy_recipe"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text("DROP DATABASE IF EXISTS deploy_recipe WITH (FORCE)"))
        admin.dispose()


def environment(tmp_path: Path, database: str, smtp_port: int) -> dict[str, str]:
    """The variables of docs/deploy.md, every process the same."""
    return {
        "CONTEST_ENV": "production",
        "CONTEST_DATABASE_URL": database,
        "CONTEST_SECRET_KEY": "deploy-test-key-" * 4,
        "CONTEST_BASE_URL": f"https://{PUBLIC_NAME}",
        "CONTEST_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CONTEST_TRUSTED_PROXIES": "127.0.0.1",
        "CONTEST_APP_SENDS_MAIL": "no",  # the worker sends every mail below
        "CONTEST_DATA_DIR": str(tmp_path / "data"),
        "CONTEST_DRAND_URLS": "none",
        "CONTEST_ENTRY_LIMIT_PER_NETWORK": f"{PER_NETWORK}/10m",
    }


def contest(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "contest.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def client_of(proxy: Nginx, source: str = CLIENT) -> httpx.Client:
    """A browser at ``source`` that trusts the test's certificate."""
    context = ssl.create_default_context(cafile=str(proxy.certificate))
    transport = httpx.HTTPTransport(verify=context, local_address=source)
    return httpx.Client(base_url=proxy.url, transport=transport, timeout=20)


def enter(
    client: httpx.Client, token: str, address: str, claimed: str | None = SPOOFED
) -> httpx.Response:
    """The entry form (its ``token`` taken from the contest page) sent as htmx does, with a
    forged X-Forwarded-For unless ``claimed`` is None."""
    headers = {"HX-Request": "true"}
    if claimed is not None:
        headers["X-Forwarded-For"] = claimed
    data = {
        "form_token": token,
        "email": address,
        "first_name": "Ann",
        "accept_rules": "on",
    }
    return client.post("/c/demo/entries", data=data, headers=headers)


def upstreams(proxy: Nginx, method: str, path: str, count: int = 1) -> list[str]:
    """The app process nginx passed each such request to ("-": nginx answered itself), once
    at least ``count`` of them are logged (nginx logs a request after answering it)."""
    found: list[str] = []

    def logged() -> bool:
        found.clear()
        for line in proxy.access_lines():
            parts = line.split()
            if parts[2] == method and parts[3].startswith(path):
                found.append(parts[-1].removeprefix("upstream="))
        return len(found) >= count

    wait_until(logged, f"{count} {method} {path} in nginx's access log", timeout=5)
    return found


def test_the_site_file_is_the_one_the_recipe_shows() -> None:
    recipe = (ROOT / "docs" / "deploy.md").read_text()
    assert SITE.read_text().strip() in recipe, "docs/deploy.md must show deploy/nginx-site.conf"


def test_nginx_in_front_of_two_app_processes_and_a_worker_over_postgresql(
    nginx_installed: None, tmp_path: Path, database: str, inbox: tuple[Inbox, int]
) -> None:
    mails, smtp_port = inbox
    env = environment(tmp_path, database, smtp_port)
    contest(env, "migrate")
    contest(env, "demo")
    logs = tmp_path / "logs"
    logs.mkdir()
    with (logs / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "contest.cli", "worker"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        with (
            serve(env, logs / "app-1.log") as first,
            serve(env, logs / "app-2.log") as second,
        ):
            apps = [first.url.removeprefix("http://"), second.url.removeprefix("http://")]
            with nginx(tmp_path / "nginx", apps, server_name=PUBLIC_NAME) as proxy:
                run_the_recipe(proxy, first, second, mails, database, apps)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def run_the_recipe(
    proxy: Nginx, first: Served, second: Served, mails: Inbox, database: str, apps: list[str]
) -> None:
    with (
        client_of(proxy) as browser,
        client_of(proxy, "127.1.3.4") as elsewhere,
        client_of(proxy, "127.1.4.5") as late,
    ):
        check_through(proxy, browser, elsewhere, late, first, second, mails, database, apps)


def check_through(
    proxy: Nginx,
    browser: httpx.Client,
    elsewhere: httpx.Client,
    late: httpx.Client,
    first: Served,
    second: Served,
    mails: Inbox,
    database: str,
    apps: list[str],
) -> None:
    # The contest page comes from an app process, which knows it is served over https.
    page = browser.get("/c/demo")
    assert page.status_code == 200
    assert "strict-transport-security" in page.headers
    assert upstreams(proxy, "GET", "/c/demo")[-1] in apps

    # Plain http is sent to https.
    plain = httpx.get(f"http://127.0.0.1:{proxy.http_port}/c/demo", follow_redirects=False)
    assert plain.status_code == 301
    assert plain.headers["location"].startswith("https://")

    # A static file comes from nginx, with the app's own cache headers.
    asset = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', page.text)
    assert asset, "the contest page links its stylesheet with its content's hash"
    served = browser.get(asset.group(1))
    assert served.status_code == 200
    assert served.content == (ROOT / "static" / "css" / "site.css").read_bytes()
    assert served.headers["cache-control"] == IMMUTABLE
    assert served.headers["x-content-type-options"] == "nosniff"
    assert upstreams(proxy, "GET", "/static/css/site.css") == ["-"], "not proxied"
    unversioned = browser.get("/static/css/site.css")
    assert unversioned.headers["cache-control"] == "no-cache"
    from_app = httpx.get(first.url + asset.group(1))
    assert from_app.headers["cache-control"] == served.headers["cache-control"]
    assert httpx.get(first.url + "/static/css/site.css").headers["cache-control"] == "no-cache"

    # Entries through nginx, each claiming another client address: the app records the
    # network nginx saw, and its limit per network counts them together.
    token = form_token(page.text)
    addresses = [f"proxied-{n}@example.org" for n in range(PER_NETWORK)]
    for n, address in enumerate(addresses):
        answer = enter(browser, token, address, claimed=f"203.0.113.{n + 1}")
        assert answer.status_code == 200, answer.text
    refused = enter(browser, token, "one-too-many@example.org", claimed="198.51.100.7")
    assert refused.status_code == 429, "the limit keys on the address nginx saw"
    assert enter(elsewhere, token, "other-network@example.org").status_code == 200
    addresses.append("other-network@example.org")
    engine = sa.create_engine(database)
    try:
        stored = rows(
            engine,
            "SELECT person.email, entry.ip_network, consentrecord.ip_truncated FROM entry"
            " JOIN person ON person.id = entry.person_id"
            " JOIN consentrecord ON consentrecord.entry_id = entry.id"
            " WHERE person.email LIKE :pattern",
            pattern="%@example.org",
        )
        networks = {email: (network, truncated) for email, network, truncated in stored}
        assert set(networks) == set(addresses), "every entry answered 200 is stored"
        assert {networks[a] for a in addresses[:-1]} == {("127.1.2.0", "127.1.2.0")}
        assert networks[addresses[-1]] == ("127.1.3.0", "127.1.3.0")
        # Both app processes took entries (nginx turns from one to the other).
        assert set(upstreams(proxy, "POST", "/c/demo/entries", PER_NETWORK + 2)) == set(apps)

        # The confirmation mails reach the SMTP server, each once.
        def mailed() -> dict[str, list[str]]:
            return mails.by_recipient()

        wait_until(lambda: set(addresses) <= set(mailed()), "the confirmation mails")
        assert all(len(mailed()[a]) == 1 for a in addresses)

        # One app process killed outright: the site keeps answering, entries included.
        first.kill()
        for _ in range(6):
            assert browser.get("/c/demo").status_code == 200
        assert enter(late, token, "after-the-kill@example.org").status_code == 200
        wait_until(lambda: "after-the-kill@example.org" in mailed(), "the mail after the kill")

        # With no app process left, the worker still delivers what is queued.
        second.stop()
        with engine.begin() as connection:
            confirm = connection.execute(
                sa.text(
                    "SELECT language, payload FROM outboxmessage"
                    " WHERE template = 'confirm' AND recipient = :to"
                ),
                {"to": addresses[0]},
            ).one()
            outbox.enqueue(
                connection,
                key="deploy-test:again",
                template="confirm",
                recipient=addresses[0],
                language=confirm.language,
                payload=confirm.payload,
                now=SYSTEM_CLOCK.now(),
            )
        started = time.monotonic()
        wait_until(lambda: len(mailed()[addresses[0]]) == 2, "the worker's delivery")
        assert time.monotonic() - started < 30
    finally:
        engine.dispose()


def test_the_recipe_fetches_the_page_assets_the_makefile_names() -> None:
    """A production install has the htmx and ALTCHA files the app's pages load, at the versions
    the Makefile pins."""
    recipe = (ROOT / "docs" / "deploy.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for name, asset in (("HTMX", "htmx.min.js"), ("ALTCHA", "altcha.min.js")):
        version = re.search(rf"^{name}_VERSION := (\S+)$", makefile, re.M).group(1)  # type: ignore[union-attr]
        fetch = f"sh tools/fetch-{name.lower()}.sh {version} static/js/{asset}"
        assert fetch in recipe, fetch
