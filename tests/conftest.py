"""Shared fixtures: an isolated database per test on SQLite and PostgreSQL, the app, SMTP."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from contest.app import create_app
from contest.clock import FixedClock
from contest.demo import demo_password, seed_demo
from contest.mail import Sender
from contest.settings import Secret, Settings
from contest.storage import create_db_engine, migrate
from contest.templating import Templates
from contest.tokens import Signer
from contest.worker import build_sender
from tests.helpers import token_via_workspace
from tests.pgserver import postgres_server

TEST_KEY = "test-secret-key-not-for-production"
_counter = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "contest.db"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE template_contest"))
        template = create_db_engine(url.rsplit("/", 1)[0] + "/template_contest")
        migrate(template)
        template.dispose()
        admin.dispose()
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        target = tmp_path / "contest.db"
        shutil.copy(sqlite_template, target)
        yield f"sqlite:///{target}"
        return
    server: str = request.getfixturevalue("pg_server")
    name = f"test_{next(_counter)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        # A file copy of the small template is faster than the WAL-logged default (15+).
        recent = int(connection.execute(sa.text("SHOW server_version_num")).scalar_one()) >= 150000
        strategy = " STRATEGY FILE_COPY" if recent else ""
        connection.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE template_contest{strategy}"))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:  # the server keeps the next tests' databases only
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=Secret(database_url),
        secret_keys=(Secret(TEST_KEY),),
        base_url="http://testserver",
        smtp_url=None,
        env="test",
        outbound_allow=("127.0.0.0/8", "::1", "localhost"),  # the tests' local servers
        drand_urls=(),  # no test reaches the internet: a relay is a local server when needed
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.database_url.reveal(), pool_size=5)
    yield engine
    engine.dispose()


NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    """The time every test runs at: held still at NOW, moved only by the test itself."""
    return FixedClock(NOW)


@pytest.fixture
def signer(settings: Settings, clock: FixedClock) -> Signer:
    """Signs and checks tokens at the test's time, as the app does."""
    return Signer(settings.secret_keys, clock)


@pytest.fixture
def demo(engine: Engine, settings: Settings, clock: FixedClock) -> None:
    """The demo data, seeded at the test's time, with a small closed contest to keep tests
    quick."""
    with Session(engine) as session:
        seed_demo(session, settings, clock.now(), closed_entries=20)


@pytest.fixture
def client(
    settings: Settings, engine: Engine, demo: None, clock: FixedClock
) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine, send_mail=False, clock=clock)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def sender(settings: Settings, engine: Engine, signer: Signer, clock: FixedClock) -> Sender:
    """Delivers the outbox as the worker would (to .eml files unless smtp_url is set)."""
    templates = Templates({"htmx_available": False, "base_url": settings.base_url})
    return build_sender(settings, engine, templates, signer, clock)


@pytest.fixture
def bearer(client: TestClient, settings: Settings) -> dict[str, str]:
    """The demo organizer's API token, as an Authorization header."""
    token = token_via_workspace(client, "demo@example.org", demo_password(settings))
    return {"Authorization": f"Bearer {token}"}
