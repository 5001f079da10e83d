"""The database held by someone else (a migration, a stuck session) beyond the lock timeout.

The participant gets a page saying to try again in a moment (503 with ``Retry-After``, in their
language), never an error page with a stack trace, and nothing of their request is half kept.
On SQLite another connection holds the write lock (``BEGIN IMMEDIATE``); on PostgreSQL it holds
``LOCK TABLE entry IN ACCESS EXCLUSIVE MODE``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest.app import create_app
from contest.clock import FixedClock
from contest.settings import Settings
from contest.storage import create_db_engine
from contest.tokens import Purpose, Signer
from tests.helpers import enter, form_token, shown
from tests.reliability.served import rows, wait_until

TRY_AGAIN = {
    "fr": (
        "Nous n'avons pas pu enregistrer votre participation ; rien n'a été conservé.",
        "Veuillez réessayer dans quelques secondes.",
    ),
    "en": (
        "We could not save your entry just now; nothing was recorded.",
        "Please try again in a few seconds.",
    ),
}


@pytest.fixture
def impatient(settings: Settings, demo: None, clock: FixedClock) -> Iterator[TestClient]:
    """The app with a lock timeout of half a second (30 s by default)."""
    engine = create_db_engine(settings.database_url.reveal(), pool_size=5, lock_timeout=0.5)
    app = create_app(settings, engine=engine, send_mail=False, clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        yield client
    engine.dispose()


@contextlib.contextmanager
def database_held(settings: Settings) -> Iterator[None]:
    url = settings.database_url.reveal()
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None, timeout=5)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = sa.create_engine(url)
    try:
        with engine.connect() as holder:
            holder.execute(sa.text("LOCK TABLE entry IN ACCESS EXCLUSIVE MODE"))
            yield
            holder.rollback()
    finally:
        engine.dispose()


def assert_try_again(answer: object, language: str) -> None:
    assert answer.status_code == 503  # type: ignore[attr-defined]
    assert int(answer.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert answer.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    text = shown(answer)
    assert any(message in text for message in TRY_AGAIN[language]), text
    assert "Traceback" not in text and "OperationalError" not in text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_entry_sent_while_the_database_is_held_asks_to_send_again_and_keeps_nothing(
    impatient: TestClient, settings: Settings, engine: Engine, language: str
) -> None:
    address = "held@example.org"
    data = {
        "form_token": form_token(impatient.get("/c/demo").text),
        "email": address,
        "first_name": "Ann",
        "accept_rules": "on",
        "lang": language,
    }
    with database_held(settings):
        answer = impatient.post("/c/demo/entries", data=data, follow_redirects=False)
        htmx = impatient.post("/c/demo/entries", data=data, headers={"HX-Request": "true"})
    assert_try_again(answer, language)
    assert address in answer.text, "the form comes back filled in"
    assert_try_again(htmx, language)

    assert rows(engine, "SELECT id FROM person WHERE email = :e", e=address) == []
    assert rows(engine, "SELECT id FROM outboxmessage WHERE recipient = :e", e=address) == []
    again = impatient.post("/c/demo/entries", data=data, follow_redirects=False)
    assert again.status_code == 303, "sending again a moment later works"
    assert len(rows(engine, "SELECT id FROM person WHERE email = :e", e=address)) == 1


@pytest.mark.parametrize("language", ["fr", "en"])
def test_confirming_while_the_database_is_held_asks_to_try_again_and_changes_nothing(
    impatient: TestClient, settings: Settings, engine: Engine, signer: Signer, language: str
) -> None:
    address = "confirming@example.org"
    assert enter(impatient, email=address).status_code == 303  # type: ignore[attr-defined]
    [entry] = rows(
        engine,
        "SELECT entry.id, entry.public_id FROM entry JOIN person ON person.id = entry.person_id"
        " WHERE person.email = :e",
        e=address,
    )
    link = f"/c/demo/confirm/{signer.sign(Purpose.CONFIRM, entry.public_id)}"
    with database_held(settings):
        answer = impatient.post(f"{link}?lang={language}", follow_redirects=False)
    assert_try_again(answer, language)

    [(status,)] = rows(engine, "SELECT status FROM entry WHERE id = :id", id=entry.id)
    assert status == "pending"
    confirmed = "SELECT id FROM consentrecord WHERE entry_id = :id AND event = 'confirmed'"
    assert rows(engine, confirmed, id=entry.id) == []
    assert impatient.post(link, follow_redirects=False).status_code == 303
    [(status,)] = rows(engine, "SELECT status FROM entry WHERE id = :id", id=entry.id)
    assert status == "confirmed"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("deadlocks", [1, 2])
def test_an_entry_caught_in_a_deadlock_is_run_again_and_kept_once(
    settings: Settings, engine: Engine, demo: None, clock: FixedClock, deadlocks: int
) -> None:
    """Another session and the entry writer each wait for the other: PostgreSQL aborts the
    writer's transaction, which runs the group again, as often as it is caught again; the
    participant sees only success."""
    address = "deadlock@example.org"
    url = settings.database_url.reveal()
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:  # the writer's sessions find the cycle, 2 s after waiting
        connection.execute(
            sa.text(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET deadlock_timeout = '2s'")
        )
    [organizer] = rows(engine, "SELECT organizer_id FROM contest WHERE slug = 'demo'")
    app_engine = create_db_engine(url, pool_size=5)
    other = sa.create_engine(url)
    answers: list[object] = []
    try:
        app = create_app(settings, engine=app_engine, send_mail=False, clock=clock)
        with TestClient(app) as client:
            token = form_token(client.get("/c/demo").text)
            with other.connect() as session:
                session.execute(sa.text("SET LOCAL deadlock_timeout = '60s'"))
                session.execute(sa.text("LOCK TABLE outboxmessage IN SHARE MODE"))
                participant = threading.Thread(
                    target=lambda: answers.append(
                        client.post(
                            "/c/demo/entries",
                            data={"form_token": token, "email": address, "accept_rules": "on"},
                            follow_redirects=False,
                        )
                    )
                )
                participant.start()  # the writer inserts the person, then waits for the outbox
                wait_until(lambda: waiting(admin) == 1, "the writer waits for the outbox")
                # ... while this session waits for the writer's new person: a deadlock.
                session.execute(
                    sa.text(
                        "INSERT INTO person (organizer_id, email, email_key, first_name,"
                        " created_at, undeliverable) VALUES (:o, :e, :e, '', :at, false)"
                    ),
                    {"o": organizer.organizer_id, "e": address, "at": clock.now()},
                )
                wait_until(lambda: waiting(admin) == 1, "the writer runs again, and waits")
                if deadlocks == 2:  # it waits for our person; we wait for its hold on persons
                    session.execute(sa.text("LOCK TABLE person IN SHARE MODE"))
                    wait_until(lambda: waiting(admin) == 1, "the writer runs a third time")
                session.rollback()
            participant.join(timeout=30)
    finally:
        app_engine.dispose()
        other.dispose()
        admin.dispose()
    [answer] = answers
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert len(rows(engine, "SELECT id FROM person WHERE email = :e", e=address)) == 1
    assert len(rows(engine, "SELECT id FROM outboxmessage WHERE recipient = :e", e=address)) == 1


def waiting(admin: Engine) -> int:
    """How many sessions wait for a lock."""
    with admin.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            ).scalar_one()
        )
