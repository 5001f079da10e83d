"""Forms posted from another site's page are refused before anything is read or written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from tests.helpers import enter, form_token


def _entries(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM entry")).scalar_one())


def _post_entry(client: TestClient, headers: dict[str, str], email: str) -> object:
    data = {
        "form_token": form_token(client.get("/c/demo").text),
        "first_name": "Ann",
        "email": email,
        "accept_rules": "on",
    }
    return client.post("/c/demo/entries", data=data, headers=headers, follow_redirects=False)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed frame on another site
        {"Origin": "http://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_an_entry_forged_by_another_site_is_refused_and_not_written(
    client: TestClient, engine: Engine, headers: dict[str, str]
) -> None:
    before = _entries(engine)
    answer = _post_entry(client, headers, "forged@example.org")
    assert answer.status_code == 403  # type: ignore[attr-defined]
    assert "Refused: this form was sent from another site." in answer.text  # type: ignore[attr-defined]
    assert _entries(engine) == before


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a client that sends no Origin (curl, a mail provider's one-click POST)
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    ],
)
def test_forms_of_this_site_pass(
    client: TestClient, engine: Engine, headers: dict[str, str]
) -> None:
    answer = _post_entry(client, headers, "welcome@example.org")
    assert answer.status_code == 303  # type: ignore[attr-defined]


def test_the_organizer_workspace_and_unsubscribe_are_guarded_too(client: TestClient) -> None:
    evil = {"Origin": "https://evil.example"}
    assert client.post("/admin/login", data={}, headers=evil).status_code == 403
    assert client.post("/unsubscribe/whatever", headers=evil).status_code == 403
    assert enter(client, email="plain@example.org").status_code == 303  # type: ignore[attr-defined]


def test_the_bearer_api_is_not_a_browser_form(client: TestClient) -> None:
    answer = client.post("/api/v1/contests", json={}, headers={"Origin": "https://evil.example"})
    assert answer.status_code == 401  # refused for its missing token, not by the guard
