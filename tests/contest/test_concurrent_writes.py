"""Ordinary concurrency never answers 503: writes through the API and the workspace queue for
the database's write lock instead of failing when a read lock cannot be upgraded."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
from starlette.testclient import TestClient

from tests.contest.test_api import CONTEST


def all_at_once(count: int, call: Callable[[int], httpx.Response]) -> list[int]:
    statuses: list[int] = [0] * count
    start = threading.Barrier(count)

    def run(index: int) -> None:
        start.wait()
        statuses[index] = call(index).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_simultaneous_creations_and_changes_all_succeed(
    client: TestClient, bearer: dict[str, str]
) -> None:
    def create(index: int) -> httpx.Response:
        body = {**CONTEST, "slug": f"rush-{index}", "title": f"Rush {index}"}
        return client.post("/api/v1/contests", json=body, headers=bearer)

    assert all_at_once(12, create) == [201] * 12

    items = client.get("/api/v1/contests", headers=bearer).json()["items"]
    [contest_id] = [item["id"] for item in items if item["slug"] == "rush-0"]

    def change(index: int) -> httpx.Response:
        body = {"title": f"Changed {index}"}
        return client.patch(f"/api/v1/contests/{contest_id}", json=body, headers=bearer)

    assert all_at_once(12, change) == [200] * 12
    title = client.get(f"/api/v1/contests/{contest_id}", headers=bearer).json()["title"]
    assert title.startswith("Changed ")
