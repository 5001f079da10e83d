"""Ordinary concurrency never answers 503, against a real server: simultaneous API and workspace
writes queue for the database's write lock (SQLite) or its row locks (PostgreSQL), and every
change answered with a 2xx is there afterwards."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from contest.app import create_app
from contest.clock import FixedClock
from contest.demo import demo_password
from contest.settings import Settings
from tests.contest.test_api import CONTEST
from tests.contest.test_organizer import VALID
from tests.helpers import free_port


@pytest.fixture
def live_url(client: TestClient, settings: Settings, clock: FixedClock) -> Iterator[str]:
    """The app served by uvicorn on loopback, with an engine of its own made as in production
    (``client`` has seeded the demo data and is only there for that)."""
    port = free_port()
    app = create_app(settings, send_mail=False, clock=clock)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def all_at_once(count: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """``call(0)`` ... ``call(count - 1)``, each in its own thread, released together."""
    answers: list[httpx.Response | BaseException | None] = [None] * count
    start = threading.Barrier(count)

    def run(index: int) -> None:
        start.wait()
        try:
            answers[index] = call(index)
        except BaseException as exc:  # reported below, with the index
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done: list[httpx.Response] = []
    for index, answer in enumerate(answers):
        assert isinstance(answer, httpx.Response), f"call {index}: {answer!r}"
        done.append(answer)
    return done


def statuses(answers: list[httpx.Response]) -> list[int]:
    return [answer.status_code for answer in answers]


def sign_in_live(browser: httpx.Client, settings: Settings) -> None:
    """Signs the demo organizer in on the live server, through the login form."""
    page = browser.get("/admin/login").text
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token
    answer = browser.post(
        "/admin/login",
        data={
            "token": token.group(1),
            "email": "demo@example.org",
            "password": demo_password(settings),
        },
    )
    assert answer.status_code == 303


def test_32_api_changes_16_api_creations_and_workspace_writes_at_once_never_answer_503(
    live_url: str, bearer: dict[str, str], settings: Settings
) -> None:
    with httpx.Client(base_url=live_url, headers=bearer, timeout=60) as api:
        with httpx.Client(base_url=live_url, timeout=60) as browser:
            sign_in_live(browser, settings)
            writes_at_once(api, browser)


def writes_at_once(api: httpx.Client, browser: httpx.Client) -> None:
    created = api.post("/api/v1/contests", json={**CONTEST, "slug": "rush", "title": "Rush"})
    assert created.status_code == 201
    path = f"/api/v1/contests/{created.json()['id']}"

    def change(index: int) -> httpx.Response:
        return api.patch(path, json={"title": f"Changed {index}"})

    changed = all_at_once(32, change)
    assert statuses(changed) == [200] * 32, [a.text for a in changed if a.status_code != 200]
    assert api.get(path).json()["title"] in {f"Changed {i}" for i in range(32)}

    def create(index: int) -> httpx.Response:
        return api.post("/api/v1/contests", json={**CONTEST, "slug": f"rush-{index}"})

    made = all_at_once(16, create)
    assert statuses(made) == [201] * 16, [a.text for a in made if a.status_code != 201]
    slugs = {item["slug"] for item in api.get("/api/v1/contests").json()["items"]}
    assert {f"rush-{i}" for i in range(16)} <= slugs

    # The workspace and the API at once: new drafts from the form, changes of one contest
    # from the form, and API changes of another.
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/admin/").text)
    assert csrf
    edited_id = made[0].json()["id"]

    def mixed(index: int) -> httpx.Response:
        form = {**VALID, "csrf": csrf.group(1)}
        if index % 3 == 0:
            return browser.post("/admin/contests/new", data={**form, "slug": f"form-{index}"})
        if index % 3 == 1:
            edit = {**form, "slug": "rush-0", "title": f"Edited {index}"}
            return browser.post(f"/admin/contests/{edited_id}/edit", data=edit)
        return api.patch(path, json={"title": f"Again {index}"})

    answers = all_at_once(32, mixed)
    assert all(a.status_code in {200, 303} for a in answers), [
        (a.status_code, a.text[:200]) for a in answers if a.status_code not in {200, 303}
    ]
    slugs = {item["slug"] for item in api.get("/api/v1/contests").json()["items"]}
    assert {f"form-{i}" for i in range(0, 32, 3)} <= slugs
    edited = api.get(f"/api/v1/contests/{edited_id}").json()["title"]
    assert edited in {f"Edited {i}" for i in range(1, 32, 3)}
    assert api.get(path).json()["title"] in {f"Again {i}" for i in range(2, 32, 3)}
