"""The public value mixed into a draw is announced at publication, before it exists, and the
draw takes that value and no other: a drand round fixed by the draw date (its signature checked
offline against the League of Entropy's key), a named lottery draw, or a bailiff's value.

The drand round used is a real quicknet round (657413, emitted 2023-09-15 11:00:03 UTC, its
signature as published by the drand relays), so the contest runs in September 2023 on the
test's clock."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest.app import create_app
from contest.clock import FixedClock
from contest.draw.beacon import QUICKNET, drand_randomness
from contest.mail import Sender
from contest.settings import Settings
from tests.contest.test_organization import EMAIL, PASSWORD, create_organizer
from tests.contest.test_self_service import IDENTITY, contest_body, enter_and_confirm
from tests.helpers import sign_in, token_via_workspace
from tests.shop_servers import FakeServer, Received, Reply

ROUND = 657413
ROUND_TIME = datetime(2023, 9, 15, 11, 0, 3, tzinfo=UTC)
SIGNATURE = (
    "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be"
    "41076862b98fad56e91a6b85b89cd97b"
)
RANDOMNESS = "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587"
OTHER_SIGNATURE = (  # a valid point, but round 657413's signature it is not
    "9391bf57538cf1c0012fabc0d933408d21f785324bcbb4f9850503e5a31e268f"
    "6e523e1c1db91ab4bf950752474e1580"
)
START = datetime(2023, 9, 1, 10, 0, tzinfo=UTC)


class DrandRelay(FakeServer):
    """A drand HTTP relay answering ``/{chain}/public/{round}`` with the given signatures."""

    def __init__(self, signatures: dict[int, str]) -> None:
        super().__init__()
        self.signatures = signatures

    def handle(self, request: Received) -> Reply:
        chain, _, number = request.path.strip("/").partition("/public/")
        if chain != QUICKNET.hash or not number.isdigit() or int(number) not in self.signatures:
            return Reply(404, b"not found")
        signature = self.signatures[int(number)]
        body = {"round": int(number), "randomness": RANDOMNESS, "signature": signature}
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


@pytest.fixture
def relay() -> Iterator[DrandRelay]:
    with DrandRelay({ROUND: SIGNATURE}) as server:
        yield server


@pytest.fixture
def clock() -> FixedClock:
    """September 2023 for the app, its mail and its tokens: the round used is of that month."""
    return FixedClock(START)


@pytest.fixture
def api(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    relay: DrandRelay,
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app on an empty database with its drand relay, and an organizer's API token."""
    settings = dataclasses.replace(settings, drand_urls=(relay.url,))
    assert create_organizer(monkeypatch, settings) == 0
    app = create_app(settings, engine=engine, send_mail=False, clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        headers = {"Authorization": f"Bearer {token_via_workspace(client, EMAIL, PASSWORD)}"}
        assert client.patch("/api/v1/organization", json=IDENTITY, headers=headers).is_success
        yield client, headers


def publish(client: TestClient, headers: dict[str, str], clock: FixedClock, **fields: Any) -> int:
    body = contest_body(clock) | {
        "opens_at": "2023-09-01T00:00",
        "closes_at": "2023-09-14T18:00",
        "draw_at": "2023-09-15T11:00:01",  # drand round 657413 is the first at or after it
    }
    created = client.post("/api/v1/contests", json=body | fields, headers=headers)
    assert created.status_code == 201, created.text
    contest_id: int = created.json()["id"]
    published = client.post(f"/api/v1/contests/{contest_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return contest_id


def draw(
    client: TestClient, headers: dict[str, str], contest_id: int, value: str | None = None
) -> Any:
    body = {} if value is None else {"public_value": value}
    return client.post(f"/api/v1/contests/{contest_id}/draw", json=body, headers=headers)


def verify(record: dict[str, Any], folder: Path) -> subprocess.CompletedProcess[str]:
    """``contest verify-draw`` as a third party runs it: no database, no key, no network."""
    path = folder / "record.json"
    path.write_text(json.dumps(record, indent=2))
    return subprocess.run(
        [sys.executable, "-m", "contest.cli", "verify-draw", str(path)],
        env={"CONTEST_DATA_DIR": str(folder / "nowhere"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_rules_announce_the_drand_round_of_the_draw_date_at_publication(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    publish(client, headers, clock)
    rules = client.get("/c/summer/rules?lang=en").text
    assert f"round {ROUND} of the drand beacon" in rules
    assert f"https://api.drand.sh/{QUICKNET.hash}/public/{ROUND}" in rules
    assert "Nobody, the organizer included, can know that value before then." in rules


def test_the_draw_waits_for_the_round_takes_only_its_signature_and_the_record_proves_it(
    api: tuple[TestClient, dict[str, str]],
    clock: FixedClock,
    sender: Sender,
    settings: Settings,
    tmp_path: Path,
) -> None:
    client, headers = api
    contest_id = publish(client, headers, clock)
    enter_and_confirm(client, sender, settings, "ann@example.org")
    enter_and_confirm(client, sender, settings, "bob@example.org")

    clock.instant = ROUND_TIME - timedelta(seconds=1)  # past the draw date, not the round
    early = draw(client, headers, contest_id, SIGNATURE)
    assert early.status_code == 409 and early.json()["error"]["code"] == "too_early"
    assert "2023-09-15 11:00:03" in early.json()["error"]["message"]

    clock.instant = ROUND_TIME + timedelta(minutes=5)
    forged = draw(client, headers, contest_id, OTHER_SIGNATURE)
    assert forged.status_code == 409 and forged.json()["error"]["code"] == "bad_signature"
    garbage = draw(client, headers, contest_id, "42")
    assert garbage.status_code == 409 and garbage.json()["error"]["code"] == "bad_signature"

    drawn = draw(client, headers, contest_id, SIGNATURE.upper())
    assert drawn.status_code == 201, drawn.text
    record = drawn.json()
    assert record["public_value"] == RANDOMNESS
    assert record["randomness"] == {
        "source": "drand",
        "chain": QUICKNET.hash,
        "round": ROUND,
        "at": "2023-09-15T11:00:03Z",
        "signature": SIGNATURE,
    }
    assert f"round {ROUND}" in record["public_value_source"]

    checked = verify(record, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # A record whose value is not the announced round's fails, however it is dressed up.
    made_up = record | {"public_value": "0" * 64}
    assert verify(made_up, tmp_path).returncode == 1
    other_round = record | {"randomness": record["randomness"] | {"round": ROUND + 1}}
    failed = verify(other_round, tmp_path)
    assert failed.returncode == 1 and "randomness" in failed.stdout + failed.stderr
    moved = record | {"randomness": record["randomness"] | {"at": "2023-09-15T11:00:06Z"}}
    assert verify(moved, tmp_path).returncode == 1
    known_before_close = record | {"closed_at": "2023-09-16T00:00:00Z"}
    assert verify(known_before_close, tmp_path).returncode == 1


def test_without_a_value_the_draw_fetches_the_round_from_the_relay_and_checks_it(
    api: tuple[TestClient, dict[str, str]],
    clock: FixedClock,
    sender: Sender,
    settings: Settings,
    relay: DrandRelay,
) -> None:
    client, headers = api
    contest_id = publish(client, headers, clock)
    enter_and_confirm(client, sender, settings, "ann@example.org")
    clock.instant = ROUND_TIME + timedelta(minutes=1)

    relay.signatures[ROUND] = OTHER_SIGNATURE  # a relay that lies is not believed
    lied = draw(client, headers, contest_id)
    assert lied.status_code == 409 and lied.json()["error"]["code"] == "bad_signature"
    relay.fail_next(503)
    relay.signatures.clear()
    unreachable = draw(client, headers, contest_id)
    assert unreachable.status_code == 409
    assert unreachable.json()["error"]["code"] == "unreachable"
    assert f"/public/{ROUND}" in unreachable.json()["error"]["message"]

    relay.signatures[ROUND] = SIGNATURE
    drawn = draw(client, headers, contest_id)
    assert drawn.status_code == 201, drawn.text
    assert drawn.json()["public_value"] == RANDOMNESS
    assert relay.requests("GET")[-1].path == f"/{QUICKNET.hash}/public/{ROUND}"


def test_a_lottery_must_be_named_to_publish_and_its_result_is_required_at_the_draw(
    api: tuple[TestClient, dict[str, str]],
    clock: FixedClock,
    sender: Sender,
    settings: Settings,
    tmp_path: Path,
) -> None:
    client, headers = api
    body = contest_body(clock) | {"randomness": "lottery"}
    body |= {"opens_at": "2023-09-01T00:00", "closes_at": "2023-09-14T18:00"}
    body |= {"draw_at": "2023-09-16T12:00"}
    created = client.post("/api/v1/contests", json=body, headers=headers)
    contest_id = created.json()["id"]
    unnamed = client.post(f"/api/v1/contests/{contest_id}/publish", headers=headers)
    assert unnamed.status_code == 422, unnamed.text
    assert "ALL-DRAW-COMMIT-1" in unnamed.text and "randomness_detail" in unnamed.text

    lottery = "EuroMillions (FDJ) of 15 September 2023"
    changed = client.patch(
        f"/api/v1/contests/{contest_id}", json={"randomness_detail": lottery}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    published = client.post(f"/api/v1/contests/{contest_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert lottery in client.get("/c/summer/rules?lang=en").text
    enter_and_confirm(client, sender, settings, "ann@example.org")

    clock.instant = datetime(2023, 9, 16, 12, 30, tzinfo=UTC)
    missing = draw(client, headers, contest_id)
    assert missing.status_code == 409 and missing.json()["error"]["code"] == "missing"
    drawn = draw(client, headers, contest_id, "7 19 23 38 45 ★ 3 11")
    assert drawn.status_code == 201, drawn.text
    record = drawn.json()
    assert record["public_value"] == "7 19 23 38 45 ★ 3 11"
    assert record["randomness"]["source"] == "lottery"
    assert record["randomness"]["name"] == lottery
    assert verify(record, tmp_path).returncode == 0


def test_the_announcement_cannot_change_once_published(
    api: tuple[TestClient, dict[str, str]], clock: FixedClock
) -> None:
    client, headers = api
    contest_id = publish(client, headers, clock)
    changed = client.patch(
        f"/api/v1/contests/{contest_id}",
        json={"randomness": "bailiff", "randomness_detail": "Me Martin", "reason": "typo"},
        headers=headers,
    )
    assert changed.status_code == 422, "said, never ignored in silence"
    assert set(changed.json()["error"]["fields"]) == {"randomness", "randomness_detail"}
    rules = client.get("/c/summer/rules?lang=en").text
    assert f"round {ROUND} of the drand beacon" in rules and "Me Martin" not in rules

    postponed = client.patch(
        f"/api/v1/contests/{contest_id}",
        json={"draw_at": "2023-09-22T11:00", "reason": "the shop is closed that week"},
        headers=headers,
    )
    assert postponed.status_code == 200, postponed.text
    later = QUICKNET.round_at(datetime(2023, 9, 22, 11, 0, tzinfo=UTC))
    assert f"round {later} of the drand beacon" in client.get("/c/summer/rules?lang=en").text


@given(st.integers(min_value=QUICKNET.genesis, max_value=QUICKNET.genesis + 10**10))
@example(QUICKNET.genesis)
@example(int(ROUND_TIME.timestamp()))
def test_the_announced_round_is_the_first_emitted_at_or_after_the_moment(seconds: int) -> None:
    moment = datetime.fromtimestamp(seconds, UTC)
    number = QUICKNET.round_at(moment)
    assert QUICKNET.round_time(number) >= moment
    assert number == 1 or QUICKNET.round_time(number - 1) < moment


def test_a_signature_is_checked_against_its_round_offline() -> None:
    assert drand_randomness(QUICKNET, ROUND, SIGNATURE) == RANDOMNESS
    assert drand_randomness(QUICKNET, ROUND + 1, SIGNATURE) is None
    assert drand_randomness(QUICKNET, ROUND, OTHER_SIGNATURE) is None
    for malformed in ("", "zz" * 48, SIGNATURE[:-2], SIGNATURE + "00"):
        assert drand_randomness(QUICKNET, ROUND, malformed) is None


def test_the_workspace_draw_names_the_round_and_takes_its_pasted_signature(
    api: tuple[TestClient, dict[str, str]],
    clock: FixedClock,
    sender: Sender,
    settings: Settings,
) -> None:
    client, headers = api
    contest_id = publish(client, headers, clock)
    enter_and_confirm(client, sender, settings, "ann@example.org")
    clock.instant = ROUND_TIME + timedelta(hours=1)
    sign_in(client, EMAIL, PASSWORD)
    dashboard = client.get(f"/admin/contests/{contest_id}?lang=en").text
    assert f"Signature of drand round {ROUND} (optional)" in dashboard
    assert f"https://api.drand.sh/{QUICKNET.hash}/public/{ROUND}" in dashboard
    csrf = re.search(r'name="csrf" value="([^"]+)"', dashboard).group(1)  # type: ignore[union-attr]

    path = f"/admin/contests/{contest_id}/draw"
    forged = client.post(path, data={"csrf": csrf, "public_value": OTHER_SIGNATURE})
    assert forged.status_code == 409 and f"tour drand {ROUND}" in forged.text
    drawn = client.post(path, data={"csrf": csrf, "public_value": SIGNATURE})
    assert drawn.status_code == 200, drawn.text
    assert client.get("/c/summer/draw.json").json()["public_value"] == RANDOMNESS
