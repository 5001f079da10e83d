"""Helpers shared by the tests: fill the entry form, read e-mails, find free ports."""

from __future__ import annotations

import email.policy
import html
import itertools
import json
import os
import re
import socket
import subprocess
import sys
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from contest.leads.subscriptions import PreferenceLinks
from contest.settings import Secret
from contest.tokens import Signer

# Preferences links for exports made outside the app (tests calling the domain directly).
LINKS = PreferenceLinks(Signer([Secret("test-only-key-" * 3)]), "http://testserver")


def form_token(page_html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', page_html)
    assert match, "the page has no entry form"
    return match.group(1)


def enter(client: TestClient, slug: str = "demo", **fields: str) -> object:
    """Fills and sends the entry form like a browser without JavaScript."""
    page = client.get(f"/c/{slug}")
    data = {"form_token": form_token(page.text), "first_name": "Ann", "accept_rules": "on"}
    if (
        'required name="region"' in page.text
        or 'name="region" autocomplete="address-level1" required' in page.text
    ):
        data["region"] = "TX"  # a contest for US residents asks their state
    data.update(fields)
    return client.post(f"/c/{slug}/entries", data=data, follow_redirects=False)


def read_eml(folder: Path) -> list[Message]:
    return [
        message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(folder.glob("*.eml"))
    ]


def link_in(message: Message, pattern: str) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()  # type: ignore[union-attr]
            match = re.search(pattern, text)
            if match:
                return match.group(0)
    raise AssertionError(f"no link matching {pattern}")


_PORT_BLOCK = 1_000
_next_port = itertools.count()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, for a server a test starts.

    Taken from a block of its own per xdist worker, below the kernel's ephemeral range
    (32768 and up): a port asked of the kernel (bind to port 0), closed, then bound again by
    the server could meanwhile be handed to another worker's server or to any connection's
    local end. Here no other worker and no connection gets it, and each call gives the next
    port of the block, so a server stopped a moment ago leaves its port alone."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    first = 20_000 + (int(worker) if worker.isdigit() else 0) % 12 * _PORT_BLOCK
    for _ in range(_PORT_BLOCK):
        port = first + next(_next_port) % _PORT_BLOCK
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
            try:
                s.bind(("127.0.0.1", port))
            except OSError:  # taken (a server of this worker, or another program)
                continue
            return port
    raise RuntimeError(f"no free port between {first} and {first + _PORT_BLOCK - 1}")


def shown(response: object) -> str:
    """The page's text with HTML entities decoded, as a reader sees it."""
    return html.unescape(response.text)  # type: ignore[attr-defined]


def sign_in(client: TestClient, email: str, password: str) -> object:
    """Signs in through the organizer's login form."""
    page = client.get("/admin/login").text
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token, "the login page has no form token"
    return client.post(
        "/admin/login",
        data={"token": token.group(1), "email": email, "password": password},
        follow_redirects=False,
    )


def token_via_workspace(client: TestClient, email: str, password: str) -> str:
    """An API token made through the workspace's API page, as an organizer would."""
    sign_in(client, email, password)
    page = client.get("/admin/api-tokens").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    created = client.post("/admin/api-tokens", data={"csrf": csrf, "name": "CRM"}).text
    client.cookies.clear()
    return re.search(r"(ctk_[A-Za-z0-9_-]+)", created).group(1)  # type: ignore[union-attr]


def check_record(
    command: str, record: dict[str, Any], folder: Path
) -> subprocess.CompletedProcess[str]:
    """``contest COMMAND RECORD.json`` as a third party runs it: no database, no key, no
    network (``verify-draw``, ``verify-instant-win``)."""
    path = folder / "record.json"
    path.write_text(json.dumps(record))
    return subprocess.run(
        [sys.executable, "-m", "contest.cli", command, str(path)],
        env={"CONTEST_DATA_DIR": str(folder / "nowhere"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
