"""Shared fixtures: an isolated database per test on SQLite and PostgreSQL, the app, SMTP."""

from __future__ import annotations

import itertools
import re
import shutil
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from pgserver import postgres_server  # noqa: E402

from contest.app import create_app  # noqa: E402
from contest.demo import seed_demo  # noqa: E402
from contest.mail import Delivery, MessageBuilder, Sender  # noqa: E402
from contest.settings import Secret, Settings  # noqa: E402
from contest.storage import create_db_engine, migrate  # noqa: E402
from contest.templating import Templates  # noqa: E402
from contest.tokens import Signer  # noqa: E402

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
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "contest.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    server: str = request.getfixturevalue("pg_server")
    name = f"test_{next(_counter)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE template_contest"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=Secret(database_url),
        secret_keys=(Secret(TEST_KEY),),
        base_url="http://testserver",
        smtp_url=None,
        env="test",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.database_url.reveal(), pool_size=5)
    yield engine
    engine.dispose()


NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def demo(engine: Engine, settings: Settings) -> None:
    """The demo data, with a small closed contest to keep tests quick."""
    with Session(engine) as session:
        seed_demo(session, settings, datetime.now(UTC), closed_entries=20)


@pytest.fixture
def client(settings: Settings, engine: Engine, demo: None) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine, send_mail=False)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def sender(settings: Settings, engine: Engine) -> Sender:
    """Delivers the outbox as the worker would (to .eml files unless smtp_url is set)."""
    templates = Templates({"htmx_available": False, "base_url": settings.base_url})
    builder = MessageBuilder(settings, engine, templates, Signer(settings.secret_keys))
    return Sender(engine, builder, Delivery(settings))


def form_token(page_html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', page_html)
    assert match, "the page has no entry form"
    return match.group(1)


def enter(client: TestClient, slug: str = "demo", **fields: str) -> object:
    """Fills and sends the entry form like a browser without JavaScript."""
    page = client.get(f"/c/{slug}")
    data = {"form_token": form_token(page.text), "first_name": "Ann", "accept_rules": "on"}
    data.update(fields)
    return client.post(f"/c/{slug}/entries", data=data, follow_redirects=False)


def read_eml(folder: Path) -> list[Message]:
    return [message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def link_in(message: Message, pattern: str) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()  # type: ignore[union-attr]
            match = re.search(pattern, text)
            if match:
                return match.group(0)
    raise AssertionError(f"no link matching {pattern}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shown(response: object) -> str:
    """The page's text with HTML entities decoded, as a reader sees it."""
    import html

    return html.unescape(response.text)  # type: ignore[attr-defined]
