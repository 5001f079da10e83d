"""The live server handle, screenshots and look-ups shared by the browser tests."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path

    def mails(self) -> list[Path]:
        return sorted((self.data_dir / "mail").glob("*.eml"))

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Reads the server's database (SQLite), for ids the pages do not show."""
        with closing(sqlite3.connect(self.data_dir / "contest.db")) as db:
            return db.execute(sql, params).fetchall()

    def execute(self, sql: str, *params: Any) -> None:
        """Changes the server's database (SQLite), as time passing would."""
        with closing(sqlite3.connect(self.data_dir / "contest.db", timeout=30)) as db, db:
            db.execute(sql, params)

    def sign(self, purpose: str, payload: Any) -> str:
        """A token signed with the server's key at the server's time (the machine's clock),
        as its e-mails would carry."""
        from contest.clock import SYSTEM_CLOCK
        from contest.settings import Settings
        from contest.tokens import Purpose, Signer

        settings = Settings.from_env({"CONTEST_DATA_DIR": str(self.data_dir)})
        return Signer(settings.secret_keys, SYSTEM_CLOCK).sign(Purpose[purpose], payload)

    def cli(self, *args: str) -> str:
        """Runs the `contest` command against the server's data folder and address."""
        return subprocess.run(
            [sys.executable, "-m", "contest.cli", *args],
            env={
                "CONTEST_DATA_DIR": str(self.data_dir),
                "CONTEST_BASE_URL": self.url,  # as the server's: the links it mails work
                "PATH": "/usr/bin:/bin",
            },
            capture_output=True,
            text=True,
            check=True,
        ).stdout


def demo_password(server: LiveServer) -> str:
    output = server.cli("demo")
    return re.search(r"demo@example.org\s+/\s+(\S+)", output).group(1)  # type: ignore[union-attr]


CONFIRM_LINK = r"http://\S+/confirm/\S+"


def sign_in_demo(page: Page, server: LiveServer, language: str = "en") -> None:
    """Signs the demo organizer in through the sign-in page (in ``language``)."""
    page.goto(f"{server.url}/admin/login?lang={language}")
    page.locator("#l-email").fill("demo@example.org")
    page.locator("#l-password").fill(demo_password(server))
    page.locator("form[action^='/admin/login'] button[type=submit]").click()
    page.wait_for_load_state()


def wait_for_link(
    server: LiveServer, recipient: str, pattern: str = CONFIRM_LINK, timeout: float = 15
) -> str:
    """The first link matching ``pattern`` in the plain text of a mail sent to ``recipient``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in server.mails():
            message = message_from_bytes(Path(path).read_bytes())
            if message["To"] != recipient:
                continue
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    text = part.get_payload(decode=True).decode()  # type: ignore[union-attr]
                    if found := re.search(pattern, text):
                        return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no e-mail to {recipient} with a link like {pattern}")


def screenshot(page: object, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path
