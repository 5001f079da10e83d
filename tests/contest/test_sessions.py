"""Workspace sessions kept server-side: signing out ends a copied cookie too, the owner sees
every signed-in browser of the organization and can end any of them, and the worker forgets
ended sessions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.app import create_app
from contest.clock import FixedClock
from contest.demo import demo_password
from contest.maintenance import Maintenance
from contest.settings import Settings
from tests.contest.test_organizer import csrf
from tests.helpers import shown, sign_in

PHONE = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"


@pytest.fixture
def second(
    settings: Settings, engine: Engine, client: TestClient, clock: FixedClock
) -> Iterator[TestClient]:
    """Another browser on the same app (the demo is seeded by ``client``)."""
    app = create_app(settings, engine=engine, send_mail=False, clock=clock)
    with TestClient(app, base_url="http://testserver", headers={"User-Agent": PHONE}) as other:
        yield other


def signed_in(client: TestClient) -> bool:
    return client.get("/admin/", follow_redirects=False).status_code == 200


def test_signing_out_ends_the_session_for_a_copied_cookie_too(
    client: TestClient, second: TestClient, settings: Settings
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    assert signed_in(client)
    copied = client.cookies.get("contest_session")
    assert copied
    client.post("/admin/logout", data={"csrf": csrf(client)})
    second.cookies.set("contest_session", copied)
    assert not signed_in(second), "the copied cookie no longer signs anyone in"


def test_the_owner_sees_every_session_and_ends_one(
    client: TestClient, second: TestClient, settings: Settings
) -> None:
    password = demo_password(settings)
    sign_in(client, "demo@example.org", password)
    sign_in(second, "demo@example.org", password)
    listed = client.get("/admin/sessions?lang=en")
    assert listed.status_code == 200
    text = shown(listed)
    assert "Chrome · Android" in text and "(this browser)" in text
    ends = listed.text.split('action="/admin/sessions/')[1:]
    assert len(ends) == 2
    ids = [int(part.split("/", 1)[0]) for part in ends]
    rows = listed.text.split("<tr>")
    phone_row = next(row for row in rows if "Android" in row)
    other_id = int(phone_row.split('action="/admin/sessions/')[1].split("/", 1)[0])
    assert other_id in ids
    ended = client.post(f"/admin/sessions/{other_id}/end", data={"csrf": csrf(client)},
                        follow_redirects=False)  # fmt: skip
    assert ended.status_code == 303
    assert not signed_in(second) and signed_in(client)
    assert client.post("/admin/sessions/999999/end", data={"csrf": csrf(client)}).status_code == 404


def test_the_worker_forgets_sessions_ended_a_day_ago(
    client: TestClient, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    client.post("/admin/logout", data={"csrf": csrf(client)})
    Maintenance(engine, b"key")(clock.now() + timedelta(days=2))
    with engine.connect() as connection:
        left = connection.execute(sa.select(sa.func.count()).select_from(tables.organizersession))
        assert left.scalar_one() == 0
