"""No personal data and no secret in the server's logs, through a whole journey.

The real server runs as a subprocess (``contest serve``, its own logging set-up, the mail sender
in process) with its output captured; the journey enters, confirms, opens the own page,
downloads the data, enters again, signs the organizer in (once with a wrong password), downloads
the leads and erases the participant; the SMTP server is unreachable the whole time, so that
the delivery failures are logged too. Then the output is searched for every personal or
secret value the journey used.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contest.clock import SYSTEM_CLOCK
from contest.settings import Settings
from contest.tokens import Purpose, Signer
from tests.helpers import form_token, free_port

EMAIL = "zelda.private@example.net"
NAME = "Zeldaprivate"
NETWORK = "198.51.100.23"
SMTP_PASSWORD = "smtp-Pa55word-never-logged"
SECRET_KEY = "log-hygiene-secret-key-" + "x" * 30


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    data = tmp_path / "data"
    port, closed = free_port(), free_port()
    # The machine's clock as this process sees it: under `make test-future` (libfaketime) the
    # server is 400 days ahead too, or it would find the test's tokens signed in its future.
    clock_env = {
        k: v for k, v in os.environ.items() if k == "LD_PRELOAD" or k.startswith("FAKETIME")
    }
    env = {
        **clock_env,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CONTEST_DATA_DIR": str(data),
        "CONTEST_SECRET_KEY": SECRET_KEY,
        "CONTEST_BASE_URL": f"http://127.0.0.1:{port}",
        "CONTEST_SMTP_URL": f"smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:{closed}",
    }
    cli = [sys.executable, "-m", "contest.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    demo = subprocess.run([*cli, "demo"], env=env, check=True, capture_output=True, text=True)
    password = re.search(r"demo@example.org\s+/\s+(\S+)", demo.stdout).group(1)  # type: ignore[union-attr]
    (tmp_path / "password").write_text(password)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}", data, log
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not start")


def test_a_whole_journey_leaves_no_personal_data_or_secret_in_the_logs(
    server: tuple[str, Path, Path], tmp_path: Path
) -> None:
    base, data, log = server
    password = (tmp_path / "password").read_text()
    proxy = {"X-Forwarded-For": NETWORK, "User-Agent": "Hygiene/1.0 (private device)"}
    key = Settings.from_env({"CONTEST_SECRET_KEY": SECRET_KEY}).secret_keys[0]
    signer = Signer((key,), SYSTEM_CLOCK)  # the server's: it runs on the machine's clock
    with httpx.Client(base_url=base, headers=proxy, timeout=15) as visitor:
        form = {
            "form_token": form_token(visitor.get("/c/demo").text),
            "email": EMAIL,
            "first_name": NAME,
            "accept_rules": "on",
            "consent_marketing_email": "on",
        }
        assert visitor.post("/c/demo/entries", data=form).status_code == 303
        assert visitor.post("/c/demo/entries", data=form).status_code == 303  # again

        with sqlite3.connect(data / "contest.db") as db:
            public_id = db.execute(
                "SELECT e.public_id FROM entry e JOIN person p ON p.id = e.person_id "
                "WHERE p.email = ?",
                (EMAIL,),
            ).fetchone()[0]
        confirm = signer.sign(Purpose.CONFIRM, public_id)
        done = visitor.post(f"/c/demo/confirm/{confirm}")
        assert done.status_code == 303
        own = done.headers["location"]
        me_token = own.rstrip("/").rsplit("/", 1)[-1]
        assert visitor.get(own).status_code == 200
        assert visitor.get(f"{own}/data.json").status_code == 200
        # The SMTP server is down: give the sender time to fail and log it.
        time.sleep(2.5)

    with httpx.Client(base_url=base, headers={"Origin": base, **proxy}, timeout=15) as organizer:

        def login_token() -> str:
            page = organizer.get("/admin/login").text
            return re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

        wrong = {"email": "demo@example.org", "password": "not-the-password"}
        refused = organizer.post("/admin/login", data={**wrong, "token": login_token()})
        assert refused.status_code in {400, 401, 403, 422}
        right = {"email": "demo@example.org", "password": password, "token": login_token()}
        assert organizer.post("/admin/login", data=right).status_code == 303
        session_cookies = [c.value for c in organizer.cookies.jar]
        assert organizer.get("/admin/leads.csv").status_code == 200

    with httpx.Client(base_url=base, headers=proxy, timeout=15) as visitor:
        erase_page = visitor.get(f"/c/demo/me/{me_token}/erase")
        hidden = dict(re.findall(r'name="(\w+)" value="([^"]*)"', erase_page.text))
        visitor.post(f"/c/demo/me/{me_token}/erase", data=hidden)

    output = log.read_text(errors="replace")
    assert "Uvicorn running" in output or "Started server process" in output, output[-2000:]
    assert "failed" in output, "the SMTP failures were logged (else this scan proves little)"
    needles = {
        "participant address": EMAIL,
        "address, local part": "zelda.private",
        "first name": NAME,
        "network": "198.51.100.",
        "user agent": "private device",
        "confirmation token": confirm,
        "own page token": me_token,
        "organizer password": password,
        "wrong password": "not-the-password",
        "SMTP password": SMTP_PASSWORD,
        "secret key": SECRET_KEY,
        **{f"cookie {n}": value for n, value in enumerate(session_cookies) if len(value) > 8},
    }
    leaks = {what: value for what, value in needles.items() if value in output}
    assert not leaks, f"found in the logs: {sorted(leaks)}\n{output[-3000:]}"


def test_database_errors_carry_no_personal_values_into_the_logs(engine: object) -> None:
    """A failed statement, logged with its traceback as the error paths do, shows neither its
    parameters nor the row the database quotes back (PostgreSQL's "Failing row contains")."""
    import logging

    import sqlalchemy as sa

    from contest.logs import FORMAT, RedactingFormatter

    with pytest.raises(sa.exc.DBAPIError) as failure:
        with engine.begin() as connection:  # type: ignore[attr-defined]
            connection.execute(
                sa.text("INSERT INTO person (email) VALUES (:email)"), {"email": EMAIL}
            )
    record = logging.LogRecord(
        "contest.writer",
        logging.ERROR,
        __file__,
        1,
        "entry group failed for %s",
        ("x@y.fr",),
        (type(failure.value), failure.value, failure.tb),
    )
    line = RedactingFormatter(FORMAT).format(record)
    assert "parameters hidden" in line and "Traceback" in line
    assert EMAIL not in line and "x@y.fr" not in line and "zelda" not in line
