"""The bot guard: a self-hosted proof of work, off for normal traffic, required on a contest
that is flooded, always asked by the invitation form; without JavaScript the form still works
under a stricter limit per network; the dashboard counts what it stopped."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import altcha
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import botguard, proofofwork, tables
from contest.app import create_app
from contest.botguard import Decision, Traffic, decide
from contest.clock import FixedClock
from contest.demo import demo_password
from contest.mail import Sender
from contest.maintenance import Maintenance
from contest.ratelimit import Limit
from contest.settings import Settings
from tests.conftest import NOW
from tests.helpers import form_token, shown, sign_in
from tests.viral.referral_steps import enter_and_confirm

NETWORK = ("203.0.113.7", 50000)  # every request of these tests comes from one network


@pytest.fixture
def guarded(
    settings: Settings, engine: Engine, demo: None, clock: FixedClock
) -> Iterator[TestClient]:
    """The app seen from one network, whose ordinary limit is lifted (a large office, or a
    botnet behind one proxy): only the challenge stands in the way."""
    lifted = dataclasses.replace(
        settings, entry_limit_per_network=Limit(100_000, timedelta(minutes=10))
    )
    app = create_app(lifted, engine=engine, send_mail=False, clock=clock)
    with TestClient(app, base_url="http://testserver", client=NETWORK) as client:
        yield client


def demo_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(tables.contest.c.id).where(tables.contest.c.slug == "demo")
            ).scalar_one()
        )


def entries(engine: Engine) -> int:
    entry = tables.entry
    with engine.connect() as connection:
        query = sa.select(sa.func.count()).where(entry.c.contest_id == demo_id(engine))
        return int(connection.execute(query).scalar_one())


def stopped(engine: Engine) -> int:
    with engine.connect() as connection:
        return botguard.report(connection, demo_id(engine)).stopped_entries


def turn_on(engine: Engine, clock: FixedClock) -> None:
    """Stores the challenge as on, judged just now (as a flood would leave it)."""
    state, contest_id, now = tables.challengestate, demo_id(engine), clock.now()
    with engine.begin() as connection:
        botguard.count_stopped(connection, contest_id, now)  # makes the row (one stopped)
        connection.execute(
            sa.update(state)
            .where(state.c.contest_id == contest_id)
            .values(
                required=True,
                reason="rate",
                switched_at=now,
                checked_at=now,
                stopped_entries=0,
            )
        )


def solved(client: TestClient, form: str = "entry") -> str:
    """What the widget puts in the form: the challenge fetched from the server, solved."""
    answer = client.get("/c/demo/challenge" + ("?for=invite" if form == "invite" else ""))
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    challenge = altcha.Challenge.from_dict(answer.json())
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


def post_entry(client: TestClient, token: str, email: str, **extra: str) -> int:
    data = {"form_token": token, "email": email, "first_name": "Bot", "accept_rules": "on"}
    return client.post("/c/demo/entries", data=data | extra, follow_redirects=False).status_code


# --- The flood ---------------------------------------------------------------------------------


def test_500_scripted_entries_from_one_network_turn_the_challenge_on_then_off(
    guarded: TestClient, engine: Engine, clock: FixedClock, settings: Settings
) -> None:
    page = guarded.get("/c/demo")
    assert "<altcha-widget" not in page.text, "off for normal traffic"
    token = form_token(page.text)
    answers = []
    for n in range(500):  # one a second, without JavaScript, as a script sends them
        clock.advance(timedelta(seconds=1))
        answers.append(post_entry(guarded, token, f"bot{n}@example.org"))

    first_refused = answers.index(429)
    assert first_refused >= botguard.RATE_ON, "taken as before until the rate rose"
    assert set(answers[:first_refused]) == {303}
    assert set(answers[first_refused:]) == {429}, "then stopped, and kept stopped"
    # Between the rate crossing its threshold and the refusals: the stricter limit's few.
    assert first_refused <= botguard.RATE_ON + 20 + botguard.UNPROVEN_PER_NETWORK.limit
    assert entries(engine) == first_refused
    assert stopped(engine) == 500 - first_refused

    refused = guarded.post(
        "/c/demo/entries",
        data={"form_token": token, "email": "one-more@example.org", "accept_rules": "on"},
        follow_redirects=False,
    )
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "JavaScript" in shown(refused)
    page = guarded.get("/c/demo")
    assert '<altcha-widget name="altcha" challenge="/c/demo/challenge"' in page.text
    assert 'src="/static/js/altcha.min.js' in page.text

    # A person with JavaScript still enters: the widget's solution goes through.
    assert post_entry(guarded, token, "person@example.org", altcha=solved(guarded)) == 303

    clock.advance(timedelta(minutes=20))  # quiet, but none of the flood's entries confirmed
    assert "<altcha-widget" in guarded.get("/c/demo").text
    clock.advance(timedelta(minutes=45))  # the flood has left the hour the guard looks at
    page = guarded.get("/c/demo")
    assert "<altcha-widget" not in page.text, "off again once traffic is normal"
    assert post_entry(guarded, form_token(page.text), "after@example.org") == 303


def test_the_dashboard_says_whether_the_challenge_is_on_and_what_it_stopped(
    guarded: TestClient, engine: Engine, clock: FixedClock, settings: Settings
) -> None:
    sign_in(guarded, "demo@example.org", demo_password(settings))
    dashboard = guarded.get(f"/admin/contests/{demo_id(engine)}")
    assert 'data-challenge="off"' in dashboard.text and 'data-stopped="0"' in dashboard.text

    turn_on(engine, clock)
    token = form_token(guarded.get("/c/demo").text)
    for n in range(botguard.UNPROVEN_PER_NETWORK.limit + 3):
        post_entry(guarded, token, f"nojs{n}@example.org")
    post_entry(guarded, token, "forged@example.org", altcha="bm90IGEgcHJvb2Y=")
    dashboard = guarded.get(f"/admin/contests/{demo_id(engine)}")
    assert 'data-challenge="on"' in dashboard.text
    assert 'data-stopped="4"' in dashboard.text


# --- Solutions ---------------------------------------------------------------------------------


def test_a_valid_solution_is_taken_once_and_a_replay_or_a_forgery_is_refused(
    guarded: TestClient, engine: Engine, clock: FixedClock
) -> None:
    turn_on(engine, clock)
    token = form_token(guarded.get("/c/demo").text)
    payload = solved(guarded)
    assert post_entry(guarded, token, "ann@example.org", altcha=payload) == 303
    assert entries(engine) == 1

    replayed = guarded.post(
        "/c/demo/entries",
        data={"form_token": token, "email": "bob@example.org", "accept_rules": "on"}
        | {"altcha": payload},
        follow_redirects=False,
    )
    assert replayed.status_code == 400
    assert "bob@example.org" in replayed.text, "the form comes back as typed"
    assert entries(engine) == 1, "nothing written"

    decoded = json.loads(base64.b64decode(payload))
    decoded["solution"]["counter"] += 1
    decoded["solution"]["derivedKey"] = "00" * 32
    wrong = base64.b64encode(json.dumps(decoded).encode()).decode()
    assert post_entry(guarded, token, "carl@example.org", altcha=wrong) == 400
    decoded = json.loads(base64.b64decode(solved(guarded)))
    decoded["challenge"]["parameters"]["cost"] = 1  # cheaper work: the signature breaks
    forged = base64.b64encode(json.dumps(decoded).encode()).decode()
    assert post_entry(guarded, token, "dan@example.org", altcha=forged) == 400
    assert post_entry(guarded, token, "eve@example.org", altcha="garbage") == 400
    assert entries(engine) == 1
    assert stopped(engine) == 4


def test_a_solution_expires_and_serves_only_the_form_it_was_issued_for(
    guarded: TestClient, engine: Engine, clock: FixedClock
) -> None:
    turn_on(engine, clock)
    token = form_token(guarded.get("/c/demo").text)
    old = solved(guarded)
    clock.advance(proofofwork.LIFETIME)
    turn_on(engine, clock)
    assert post_entry(guarded, token, "late@example.org", altcha=old) == 400
    assert post_entry(guarded, token, "other@example.org", altcha=solved(guarded, "invite")) == 400
    assert post_entry(guarded, token, "right@example.org", altcha=solved(guarded)) == 303


def test_a_solution_signed_under_the_previous_key_still_counts_after_a_rotation(
    settings: Settings, clock: FixedClock
) -> None:
    old_key, new_key = settings.secret_keys[0], type(settings.secret_keys[0])("n" * 40)
    challenge = altcha.Challenge.from_dict(proofofwork.issue(old_key, "entry:1", clock.now()))
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    payload = altcha.Payload(challenge, solution).to_base64()
    proof = proofofwork.verify([new_key, old_key], payload, "entry:1", clock.now())
    assert proof.expires_at == clock.now() + proofofwork.LIFETIME
    with pytest.raises(proofofwork.ChallengeFailed, match="forged"):
        proofofwork.verify([new_key], payload, "entry:1", clock.now())


def test_the_challenge_is_off_and_costs_nothing_for_normal_traffic(
    guarded: TestClient, engine: Engine
) -> None:
    page = guarded.get("/c/demo")
    assert "<altcha-widget" not in page.text and "altcha.min.js" not in page.text
    # Off, a solution (even a bogus one, from a page shown while it was on) is not looked at.
    assert post_entry(guarded, form_token(page.text), "ann@example.org", altcha="stale") == 303


# --- Without JavaScript --------------------------------------------------------------------------


def test_without_javascript_the_form_works_under_a_stricter_limit_per_network(
    guarded: TestClient, engine: Engine, clock: FixedClock
) -> None:
    turn_on(engine, clock)
    token = form_token(guarded.get("/c/demo").text)
    allowed = botguard.UNPROVEN_PER_NETWORK.limit
    answers = [post_entry(guarded, token, f"nojs{n}@example.org") for n in range(allowed + 1)]
    assert answers == [303] * allowed + [429]
    assert entries(engine) == allowed, "the refused one wrote nothing"
    # An empty field (the widget was there but never ran) is a form without JavaScript too.
    assert post_entry(guarded, token, "empty@example.org", altcha="") == 429
    assert stopped(engine) == 2


def test_the_entry_form_works_without_the_widget_file(
    settings: Settings, engine: Engine, demo: None, clock: FixedClock
) -> None:
    """No npm where it was installed: no widget on the page, and forms are taken as without
    JavaScript."""
    app = create_app(settings, engine=engine, send_mail=False, clock=clock)
    with TestClient(app, base_url="http://testserver", client=NETWORK) as client:
        client.app.state.contest.templates = type(client.app.state.contest.templates)(  # type: ignore[attr-defined]
            {"htmx_available": False, "base_url": settings.base_url}
        )
        turn_on(engine, clock)
        page = client.get("/c/demo")
        assert page.status_code == 200 and "<altcha-widget" not in page.text
        assert post_entry(client, form_token(page.text), "ann@example.org") == 303


# --- Invitations -------------------------------------------------------------------------------


def test_invitations_always_ask_for_the_proof_of_work(
    guarded: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.contest)
            .where(tables.contest.c.slug == "demo")
            .values(jurisdictions=["US"], platform_invitations=True, min_age=18)
        )
    guarded.app.state.contest.contests.forget("demo")  # type: ignore[attr-defined]
    own = enter_and_confirm(guarded, sender, settings, "ann@example.org")
    page = guarded.get(own)
    assert '<altcha-widget name="altcha" challenge="/c/demo/challenge?for=invite"' in page.text
    assert "<altcha-widget" not in guarded.get("/c/demo").text, "entries: off meanwhile"

    def invite(friend: str, **extra: str) -> int:
        data = {"friend": friend, "knows": "on"} | extra
        return guarded.post(own + "/invite", data=data).status_code

    assert invite("f1@example.org", altcha=solved(guarded, "invite")) == 200
    assert invite("f2@example.org", altcha=solved(guarded)) == 400, "an entry form's solution"
    assert invite("f3@example.org", altcha="bm9wZQ==") == 400
    allowed = botguard.UNPROVEN_INVITATIONS_PER_NETWORK.limit
    answers = [invite(f"nojs{n}@example.org") for n in range(allowed + 1)]
    assert answers == [200] * allowed + [429]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM invitation")).scalar_one() == 4
        report = botguard.report(connection, demo_id(engine))
    assert report.stopped_invitations == 3 and report.stopped_entries == 0


# --- Storage -------------------------------------------------------------------------------------


def test_spent_challenges_are_forgotten_once_expired(
    guarded: TestClient, engine: Engine, clock: FixedClock, settings: Settings
) -> None:
    turn_on(engine, clock)
    token = form_token(guarded.get("/c/demo").text)
    assert post_entry(guarded, token, "ann@example.org", altcha=solved(guarded)) == 303

    def spent() -> int:
        with engine.connect() as connection:
            query = sa.select(sa.func.count()).select_from(tables.spentchallenge)
            return int(connection.execute(query).scalar_one())

    maintenance = Maintenance(engine, b"k" * 32)
    maintenance(clock.now())
    assert spent() == 1, "kept while a replay could still pass the expiry"
    maintenance(clock.now() + proofofwork.LIFETIME)
    assert spent() == 0


def test_the_challenge_endpoint_names_its_form_and_expiry(
    guarded: TestClient, clock: FixedClock, engine: Engine
) -> None:
    body = guarded.get("/c/demo/challenge").json()
    data = body["parameters"]["data"]
    assert data["for"] == f"entry:{demo_id(engine)}"
    assert data["expires"] == int((clock.now() + proofofwork.LIFETIME).timestamp())
    assert "expiresAt" not in body["parameters"], "judged by the app's clock, not the machine's"
    assert re.fullmatch(r"[0-9a-f]{64}", body["signature"])
    assert guarded.get("/c/nope/challenge").status_code == 404


# --- The decision --------------------------------------------------------------------------------

QUIET = Traffic(recent=5, earlier=40, unconfirmed=10, sampled=5, disposable=0)
traffics = st.builds(
    Traffic,
    recent=st.integers(0, 2_000),
    earlier=st.integers(0, 5_000),
    unconfirmed=st.integers(0, 5_000),
    sampled=st.integers(0, botguard.SAMPLE),
    disposable=st.integers(0, botguard.SAMPLE),
).filter(lambda t: t.unconfirmed <= t.earlier and t.disposable <= t.sampled)


def test_quiet_traffic_leaves_it_off_and_each_signal_turns_it_on(clock: FixedClock) -> None:
    now = clock.now()
    off = Decision(False)
    assert decide(QUIET, off, None, now) == off
    flood = dataclasses.replace(QUIET, recent=botguard.RATE_ON)
    assert decide(flood, off, None, now) == Decision(True, botguard.RATE)
    usual_busy = dataclasses.replace(QUIET, recent=botguard.RATE_ON, earlier=100_000)
    assert decide(usual_busy, off, None, now) == off, "a contest's usual pace is no flood"
    disposable = dataclasses.replace(QUIET, recent=30, sampled=30, disposable=10)
    assert decide(disposable, off, None, now) == Decision(True, botguard.DISPOSABLE)
    few = dataclasses.replace(QUIET, recent=10, sampled=10, disposable=10)
    assert decide(few, off, None, now) == off, "too few to judge a share"
    unconfirmed = dataclasses.replace(QUIET, earlier=100, unconfirmed=95)
    assert decide(unconfirmed, off, None, now) == Decision(True, botguard.UNCONFIRMED)


def test_once_on_it_stays_on_for_a_while_and_through_the_margin(clock: FixedClock) -> None:
    now = clock.now()
    on = Decision(True, botguard.RATE)
    calm = Traffic(0, 0, 0)
    assert decide(calm, on, now - timedelta(minutes=1), now) == on, "not before MIN_ON"
    assert decide(calm, on, now - botguard.MIN_ON, now) == Decision(False)
    ebbing = Traffic(recent=botguard.RATE_OFF, earlier=0, unconfirmed=0)
    assert decide(ebbing, on, now - timedelta(hours=1), now).required, "inside the margin"


@given(traffic=traffics)
def test_hysteresis_whatever_turns_it_on_keeps_it_on(traffic: Traffic) -> None:
    now = NOW
    long_ago = now - timedelta(hours=2)
    if decide(traffic, Decision(False), None, now).required:
        assert decide(traffic, Decision(True, "rate"), long_ago, now).required


@given(traffic=traffics, minutes=st.integers(0, 14))
def test_it_never_turns_off_within_its_minimum_time_on(traffic: Traffic, minutes: int) -> None:
    now = NOW
    switched = now - timedelta(minutes=minutes)
    assert decide(traffic, Decision(True, "rate"), switched, now).required
