"""Browser fixtures: the real app served by uvicorn on loopback, driven by Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.browser.live import LiveServer
from tests.helpers import free_port

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    for candidate in ("chromium", "chromium-browser"):
        if found := shutil.which(candidate):
            return found
    raise RuntimeError(
        "Debian's Chromium is needed for the browser tests: apt-get install chromium "
        "(`make test` installs it when run as root)."
    )


@contextlib.contextmanager
def demo_server(data_dir: Path, **settings: str) -> Iterator[LiveServer]:
    """`contest migrate`, `contest demo` and `contest serve` on a free loopback port, with
    ``settings`` (CONTEST_* variables) on top of the tests' own; stopped on exit.

    Test workers run side by side: a port found free may be taken by another worker's server
    before this one binds it, and that server would answer the health check. The server is
    ready once its own log says it listens; if it exited instead, another port is tried."""
    env = {
        **os.environ,
        "CONTEST_DATA_DIR": str(data_dir),
        "CONTEST_OUTBOUND_ALLOW": "127.0.0.1",  # the tests' local shops and webhooks
        "CONTEST_DRAND_URLS": "none",  # no test reaches the internet
        **settings,
    }
    command = [sys.executable, "-m", "contest.cli"]
    subprocess.run([*command, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([*command, "demo"], env=env, check=True, capture_output=True)
    for _ in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env["CONTEST_BASE_URL"] = url
        with (data_dir / "server.log").open("w") as log:
            server = subprocess.Popen(
                [*command, "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            if _listening(server, data_dir / "server.log", url):
                yield LiveServer(url, data_dir)
                return
        finally:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=15)
    raise RuntimeError((data_dir / "server.log").read_text())


def _listening(server: subprocess.Popen[bytes], log: Path, url: str) -> bool:
    """Whether ``server`` itself listens on ``url`` (its log says so and it answers); False
    when it exited (its port was taken meanwhile)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        if f"running on {url}" in log.read_text(errors="replace"):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    raise RuntimeError(log.read_text())


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
    )
    yield browser
    browser.close()
