"""The real app in its own process (``contest serve``, uvicorn), which a test may kill outright,
and a local SMTP server that records what it accepts."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.helpers import free_port

# The public address, the same whatever the port: Message-IDs are derived from its domain.
BASE_URL = "http://contest.test"


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM: uvicorn's graceful shutdown."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def serve(env: Mapping[str, str], log: Path) -> Iterator[Served]:
    """Runs ``contest serve`` on a free port until it answers ``/healthz``."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "contest.cli", "serve", "--port", str(port)],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            served.stop()


class Inbox:
    """An aiosmtpd handler keeping every message it accepts.

    ``stall_on=n`` makes the n-th message hang after its final dot, before the server's 250,
    until :meth:`release` (the moment of RFC 1047: the message is received, the sender does
    not know it yet).
    """

    def __init__(self, stall_on: int | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.stall_on = stall_on
        self.stalled = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        message = message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
            count = len(self.messages)
        if count == self.stall_on:
            self.stalled.set()
            while not self._released.is_set():
                await asyncio.sleep(0.05)
        return "250 OK"

    def release(self) -> None:
        self._released.set()

    def by_recipient(self) -> dict[str, list[str]]:
        """Recipient -> the Message-ID of every copy received."""
        with self._lock:
            copies: dict[str, list[str]] = {}
            for message in self.messages:
                copies.setdefault(str(message["To"]), []).append(str(message["Message-ID"]))
        return copies


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout} s: {what}")
        time.sleep(0.1)


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql), params))
