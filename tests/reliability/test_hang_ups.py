"""A peer that hangs up ends one connection, never a long-running process.

When a client closes its connection while ``contest serve`` is still answering it (a browser
tab closed, a load tester stopping), or an SMTP or shop server drops the worker's, the kernel
sends the writing process SIGPIPE. It must be ignored, as Python sets it, so that the write
fails in that one connection: a process taking SIGPIPE's default action dies on the spot,
without a line in its log. The signal is sent here directly, as the kernel sends it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from contest.clock import SYSTEM_CLOCK, Clock
from tests.helpers import form_token
from tests.reliability.served import serve, wait_until


@pytest.fixture
def clock() -> Clock:
    """`contest serve` runs on the machine's clock: the demo is seeded at its time too."""
    return SYSTEM_CLOCK


def test_a_hang_up_ends_neither_the_server_nor_the_worker(
    demo: None, server_env: dict[str, str], start_smtp: object, tmp_path: Path
) -> None:
    inbox, smtp_port = start_smtp()  # type: ignore[operator]
    env = {**server_env, "CONTEST_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}"}
    with (tmp_path / "worker.log").open("ab") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "contest.cli", "worker", "--interval", "0.2"],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        with serve(env, tmp_path / "server.log") as server:
            os.kill(server.process.pid, signal.SIGPIPE)
            os.kill(worker.pid, signal.SIGPIPE)

            token = form_token(httpx.get(f"{server.url}/c/demo").text)
            answer = httpx.post(
                f"{server.url}/c/demo/entries",
                data={
                    "form_token": token,
                    "email": "hung-up@example.org",
                    "first_name": "Ann",
                    "accept_rules": "on",
                },
                headers={"HX-Request": "true"},
            )
            assert answer.status_code == 200, answer.text[:300]
            wait_until(
                lambda: "hung-up@example.org" in inbox.by_recipient(),
                "the confirmation is sent",
            )
            assert server.process.poll() is None
            assert worker.poll() is None
    finally:  # the worker, still there, stops as asked (exit status 0), not killed
        worker.terminate()
        assert worker.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()


def test_a_reader_that_stops_early_ends_a_command_quietly() -> None:
    """`contest rules list | head -1`: no traceback once the reader has what it wanted."""
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first line is written
    done = subprocess.run(
        [sys.executable, "-m", "contest.cli", "rules", "list"],
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=60,
    )
    os.close(writer)
    assert done.returncode == 1
    assert done.stderr == ""
