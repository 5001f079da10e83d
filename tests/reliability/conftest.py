"""Fixtures for the reliability tests: the app's environment for ``contest serve``, SMTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller

from contest.settings import Settings
from tests.helpers import free_port
from tests.reliability.served import BASE_URL, Inbox


@pytest.fixture
def server_env(settings: Settings) -> dict[str, str]:
    """``contest serve``'s environment: the test's database and data folder, no rate limit per
    address (the tests send one address many times on purpose)."""
    return {
        "CONTEST_DATA_DIR": str(settings.data_dir),
        "CONTEST_DATABASE_URL": settings.database_url.reveal(),
        "CONTEST_SECRET_KEY": settings.secret_keys[0].reveal(),
        "CONTEST_BASE_URL": BASE_URL,
        "CONTEST_ENV": "development",
        "CONTEST_ENTRY_LIMIT_PER_ADDRESS": "off",
    }


@pytest.fixture
def start_smtp() -> Iterator[Callable[..., tuple[Inbox, int]]]:
    """Starts a local SMTP server (on ``port``, or a free one) that records what it accepts."""
    controllers: list[Controller] = []

    def start(inbox: Inbox | None = None, port: int | None = None) -> tuple[Inbox, int]:
        inbox = inbox or Inbox()
        port = port or free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return inbox, port

    yield start
    for controller in controllers:
        inbox = controller.handler
        if isinstance(inbox, Inbox):
            inbox.release()
        controller.stop()
