"""What contests bring, through the API: leads (consenting only, paged, audited), the CSV
export, tracked links, referrals held for review, and the prizes' delivery."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import apitokens, tables
from contest.clock import FixedClock
from contest.mail import Sender
from contest.models import ReferralStatus
from contest.roles import Role
from contest.settings import Settings
from tests.contest.test_my_consents import enter_with_offers
from tests.helpers import enter


def ids(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        organizer = connection.execute(
            sa.text("SELECT id FROM organizer WHERE email = 'demo@example.org'")
        ).scalar_one()
        closed = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug = 'demo-closed'")
        ).scalar_one()
    return int(organizer), int(closed)


def test_leads_are_the_consenting_ones_paged_with_a_total_and_audited(
    client: TestClient,
    bearer: dict[str, str],
    sender: Sender,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
) -> None:
    for name in ("ada", "bea", "cyd"):
        enter_with_offers(client, sender, settings, f"{name}@example.net")
    enter(client, email="silent@example.net")

    first = client.get("/api/v1/leads", params={"limit": 2}, headers=bearer).json()
    emails = [lead["email"] for lead in first["items"]]
    assert first["next"] == 2 and len(emails) == 2
    rest = client.get("/api/v1/leads", params={"limit": 2, "offset": 2}, headers=bearer).json()
    emails += [lead["email"] for lead in rest["items"]]
    assert rest["total"] == first["total"] and rest["next"] is None
    assert {"ada@example.net", "bea@example.net", "cyd@example.net"} <= set(emails)
    assert "silent@example.net" not in emails, "no consent, not a lead"
    assert all(lead["consent"]["state"] == "confirmed" for lead in first["items"])

    hot = client.get("/api/v1/leads", params={"segment": "nonsense"}, headers=bearer)
    assert hot.status_code == 400
    ghost = client.get("/api/v1/leads", params={"contest": 2**31 - 1}, headers=bearer)
    assert ghost.status_code == 404
    with engine.connect() as connection:
        reads = connection.execute(
            sa.select(tables.auditevent.c.actor).where(tables.auditevent.c.action == "leads.read")
        ).all()
    assert len(reads) == 2 and all(actor.startswith("api:") for (actor,) in reads)

    organizer_id, _ = ids(engine)
    with engine.begin() as connection:
        viewer = apitokens.create_token(
            connection, organizer_id, "dashboards", clock.now(), Role.VIEWER
        )
    as_viewer = {"Authorization": f"Bearer {viewer.token}"}
    assert client.get("/api/v1/leads", headers=as_viewer).status_code == 403
    assert client.get("/api/v1/leads.csv", headers=as_viewer).status_code == 403
    exported = client.get("/api/v1/leads.csv", headers=bearer)
    assert exported.status_code == 200 and "ada@example.net" in exported.text
    assert "silent@example.net" not in exported.text


def test_a_tracked_link_made_through_the_api_is_listed_and_followed(
    client: TestClient, bearer: dict[str, str], engine: Engine
) -> None:
    _, closed = ids(engine)
    demo = client.get("/api/v1/contests", headers=bearer).json()["items"]
    [open_id] = [c["id"] for c in demo if c["slug"] == "demo"]
    refused = client.post(f"/api/v1/contests/{open_id}/links", json={}, headers=bearer)
    assert refused.status_code == 422

    made = client.post(
        f"/api/v1/contests/{open_id}/links",
        json={"label": "Newsletter de mai", "kind": "newsletter", "utm_campaign": "mai"},
        headers=bearer,
    )
    assert made.status_code == 201, made.text
    [link] = [item for item in made.json()["items"] if item["label"] == "Newsletter de mai"]
    followed = client.get(link["url"].removeprefix("http://testserver"), follow_redirects=False)
    assert followed.status_code == 303
    listed = client.get(f"/api/v1/contests/{open_id}/links", headers=bearer).json()["items"]
    [again] = [item for item in listed if item["code"] == link["code"]]
    assert again["clicks"] == 1
    other = client.get(f"/api/v1/contests/{2**31 - 1}/links", headers=bearer)
    assert other.status_code == 404


def test_a_held_referral_is_listed_and_cleared_once(
    client: TestClient, bearer: dict[str, str], engine: Engine
) -> None:
    _, closed = ids(engine)
    with engine.begin() as connection:
        first, second = connection.execute(
            sa.select(tables.entry.c.id)
            .where(tables.entry.c.contest_id == closed)
            .order_by(tables.entry.c.id)
            .limit(2)
        ).scalars()
        held = connection.execute(
            sa.insert(tables.referral).values(
                contest_id=closed,
                referrer_entry_id=first,
                referred_entry_id=second,
                status=ReferralStatus.REVIEW,
                reasons=["same_network"],
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    queue = client.get(f"/api/v1/contests/{closed}/referrals", headers=bearer).json()["items"]
    [row] = [item for item in queue if item["id"] == held]
    assert row["status"] == "review" and row["reasons"]

    path = f"/api/v1/contests/{closed}/referrals/{held}"
    assert client.post(path, json={"decision": "maybe"}, headers=bearer).status_code == 422
    cleared = client.post(path, json={"decision": "clear"}, headers=bearer)
    assert cleared.status_code == 200 and cleared.json()["status"] == "credited"
    assert client.post(path, json={"decision": "clear"}, headers=bearer).status_code == 404


def test_prizes_report_the_winners_claims_and_the_vouchers_delivery(
    client: TestClient, bearer: dict[str, str], engine: Engine
) -> None:
    _, closed = ids(engine)
    assert client.get(f"/api/v1/contests/{closed}/prizes", headers=bearer).json()["items"] == []
    drawn = client.post(f"/api/v1/contests/{closed}/draw", headers=bearer)
    assert drawn.status_code == 201, drawn.text

    awards = client.get(f"/api/v1/contests/{closed}/prizes", headers=bearer).json()["items"]
    assert awards and all(award["status"] == "notified" for award in awards)
    assert "has not claimed yet" in awards[0]["delivery"]
    assert [award["prize_rank"] for award in awards] == sorted(a["prize_rank"] for a in awards)
    vouchers = client.get(f"/api/v1/contests/{closed}/vouchers.csv", headers=bearer)
    assert vouchers.status_code == 200 and vouchers.headers["content-type"].startswith("text/csv")
