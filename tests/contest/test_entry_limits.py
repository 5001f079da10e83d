"""Entry rate limits: per network and per address, kept in the database for every process."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest.app import create_app
from contest.clock import FixedClock
from contest.ratelimit import Limit, parse_limit
from contest.settings import Settings, SettingsError
from contest.storage import create_db_engine
from tests.helpers import enter, form_token


def _client(settings: Settings, engine: Engine, clock: FixedClock, ip: str) -> TestClient:
    app = create_app(settings, engine=engine, send_mail=False, clock=clock)
    return TestClient(app, base_url="http://testserver", client=(ip, 40000))


@pytest.fixture
def strict(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        entry_limit_per_network=Limit(3, timedelta(minutes=10)),
        entry_limit_per_address=Limit(4, timedelta(hours=1)),
    )


@pytest.fixture
def shop_wifi(
    strict: Settings, engine: Engine, demo: None, clock: FixedClock
) -> Iterator[TestClient]:
    with _client(strict, engine, clock, "203.0.113.7") as client:
        yield client


def _entries(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM entry")).scalar_one())


def test_a_network_past_its_limit_is_told_to_wait_and_nothing_is_written(
    shop_wifi: TestClient, strict: Settings, engine: Engine, clock: FixedClock
) -> None:
    before = _entries(engine)
    for n in range(3):
        assert enter(shop_wifi, email=f"guest{n}@example.com").status_code == 303
    refused = enter(shop_wifi, email="guest3@example.com")

    assert refused.status_code == 429
    assert "Trop de participations envoyées depuis votre réseau" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    assert _entries(engine) == before + 3

    # The neighbouring network is another bucket; the limit is per network, not global.
    with _client(strict, engine, clock, "198.51.100.9") as elsewhere:
        assert enter(elsewhere, email="guest3@example.com").status_code == 303


def test_the_same_network_is_limited_across_app_processes(
    shop_wifi: TestClient, strict: Settings, engine: Engine, clock: FixedClock
) -> None:
    """A second process (its own engine on the same database) sees the same count."""
    for n in range(2):
        assert enter(shop_wifi, email=f"first{n}@example.com").status_code == 303
    other_engine = create_db_engine(strict.database_url.reveal())
    try:
        with _client(strict, other_engine, clock, "203.0.113.80") as other:
            assert enter(other, email="second0@example.com").status_code == 303
            assert enter(other, email="second1@example.com").status_code == 429
    finally:
        other_engine.dispose()


def test_repeated_attempts_with_one_address_are_slowed_down(
    strict: Settings, engine: Engine, demo: None, clock: FixedClock
) -> None:
    strict = dataclasses.replace(strict, entry_limit_per_network=None)
    with _client(strict, engine, clock, "192.0.2.1") as client:
        answers = [enter(client, email="same@example.com").status_code for _ in range(6)]
        # A differently written form of the same address is the same person.
        folded = enter(client, email="Same+again@Example.com")
    # The first attempt makes the person known; the next four are counted, then ignored:
    # answered like any entry (a refusal would tell a stranger the address is known).
    assert answers == [303] * 6 and folded.status_code == 303
    with engine.connect() as connection:
        mails = connection.execute(sa.text("SELECT count(*) FROM outboxmessage")).scalar_one()
    assert mails == 1, "only the first attempt's confirmation"


def test_htmx_refusal_is_a_fragment_with_the_message(shop_wifi: TestClient) -> None:
    for n in range(3):
        enter(shop_wifi, email=f"fragment{n}@example.com")
    page = shop_wifi.get("/c/demo?lang=en")
    answer = shop_wifi.post(
        "/c/demo/entries",
        data={
            "form_token": form_token(page.text),
            "first_name": "Ann",
            "email": "fragment9@example.com",
            "accept_rules": "on",
            "lang": "en",
        },
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 429
    assert "Too many entries were sent from your network" in answer.text
    assert "<html" not in answer.text.lower()


def test_rate_limit_rows_hold_no_address_nor_network(shop_wifi: TestClient, engine: Engine) -> None:
    enter(shop_wifi, email="private.person@example.com")
    with engine.connect() as connection:
        buckets = connection.execute(sa.text("SELECT bucket FROM ratelimit")).scalars().all()
    assert buckets
    assert not any("private" in b or "example.com" in b or "203.0.113" in b for b in buckets)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60/10m", Limit(60, timedelta(minutes=10))),
        ("5/30s", Limit(5, timedelta(seconds=30))),
        ("100/3600", Limit(100, timedelta(hours=1))),
        ("2/1d", Limit(2, timedelta(days=1))),
        ("off", None),
        ("0", None),
    ],
)
def test_limits_are_read_from_the_environment(text: str, expected: Limit | None) -> None:
    assert parse_limit(text) == expected
    settings = Settings.from_env(
        {"CONTEST_ENTRY_LIMIT_PER_NETWORK": text, "CONTEST_SECRET_KEY": "k" * 40}
    )
    assert settings.entry_limit_per_network == expected


@pytest.mark.parametrize("text", ["sixty", "60/", "60/10x", "-1/1m", "60/0m"])
def test_a_malformed_limit_stops_the_app_with_the_variable_named(text: str) -> None:
    with pytest.raises(SettingsError, match="CONTEST_ENTRY_LIMIT_PER_ADDRESS"):
        Settings.from_env({"CONTEST_ENTRY_LIMIT_PER_ADDRESS": text, "CONTEST_SECRET_KEY": "k" * 40})
