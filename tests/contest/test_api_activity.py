"""What contests bring, through the API: leads (consenting only, paged, audited), the CSV
export, tracked links, referrals held for review, and the prizes' delivery."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from contest import apitokens, tables
from contest.clock import FixedClock
from contest.demo import demo_password
from contest.leads import export
from contest.mail import Sender
from contest.models import Contest, Organizer, ReferralStatus
from contest.roles import Role
from contest.settings import Settings
from contest.web.api.activity import SEGMENTS
from tests.contest.test_my_consents import enter_with_offers
from tests.helpers import enter, link_in, read_eml, shown, sign_in
from tests.shop_servers import WebhookReceiver


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


# --- What a user of the API notices ------------------------------------------------------------


def enter_confirmed(
    client: TestClient, sender: Sender, settings: Settings, email: str, **fields: str
) -> None:
    """Enters the demo contest ticking the offers box (with the hidden fields given), and
    confirms through the link of the e-mail."""
    entered = enter(client, email=email, consent_marketing_email="on", **fields)
    assert entered.status_code == 303  # type: ignore[attr-defined]
    sender.run_once()
    [mail] = [m for m in read_eml(settings.mail_dir) if m["To"] == email]
    link = link_in(mail, r"http://testserver/c/demo/confirm/\S+").removeprefix("http://testserver")
    assert client.post(link, follow_redirects=False).status_code == 303


def emails(client: TestClient, bearer: dict[str, str], **params: str | int) -> list[str]:
    answer = client.get("/api/v1/leads", params={"limit": 500, **params}, headers=bearer)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == len(body["items"]), "one page holds them all here"
    return [lead["email"] for lead in body["items"]]


def test_lead_filters_give_the_right_people_and_the_segments_add_up_to_the_total(
    client: TestClient, bearer: dict[str, str], sender: Sender, settings: Settings, engine: Engine
) -> None:
    demo = client.get("/api/v1/contests", headers=bearer).json()["items"]
    [open_id] = [c["id"] for c in demo if c["slug"] == "demo"]
    _, closed = ids(engine)
    made = client.post(
        f"/api/v1/contests/{open_id}/links",
        json={"label": "Lettre de juin", "kind": "newsletter"},
        headers=bearer,
    )
    [link] = [item for item in made.json()["items"] if item["label"] == "Lettre de juin"]
    followed = client.get(f"/s/{link['code']}", follow_redirects=False)
    src = parse_qs(urlsplit(followed.headers["location"]).query)["src"][0]
    enter_confirmed(client, sender, settings, "news@example.net", src=src)
    for name in ("ada", "bea"):
        enter_confirmed(client, sender, settings, f"{name}@example.net")
    ours = {"news@example.net", "ada@example.net", "bea@example.net"}

    source = f"partner:{link['code']}"
    assert emails(client, bearer, source=source) == ["news@example.net"]
    [news] = client.get("/api/v1/leads", params={"source": source}, headers=bearer).json()["items"]
    assert news["first_source"] == source and news["consent"]["purpose"] == "marketing_email"
    assert ours <= set(emails(client, bearer, contest=open_id))
    assert not ours & set(emails(client, bearer, contest=closed)), "they entered the open one"
    assert not ours & set(emails(client, bearer, consent="partners")), "no partner consent given"

    everyone = emails(client, bearer)
    by_segment = {segment: emails(client, bearer, segment=segment) for segment in SEGMENTS}
    assert sorted(everyone) == sorted(sum(by_segment.values(), [])), "one segment each"
    assert ours <= set(by_segment[export.COLD]), "one contest, nobody brought: cold"

    listed = client.get(f"/api/v1/contests/{open_id}/links", headers=bearer).json()["items"]
    [again] = [item for item in listed if item["code"] == link["code"]]
    assert (again["clicks"], again["entries"], again["confirmed"]) == (1, 1, 1)


def test_another_organizers_contest_is_a_404_like_one_that_does_not_exist(
    client: TestClient, bearer: dict[str, str], engine: Engine, clock: FixedClock
) -> None:
    with Session(engine) as session:
        other = Organizer(email="rival@example.com", password_hash="x")
        session.add(other)
        session.flush()
        assert other.id is not None
        rival = Contest(organizer_id=other.id, slug="rival", title="Rival contest")
        session.add(rival)
        session.commit()
        rival_id = rival.id
    for contest_id in (rival_id, 2**31 - 1):
        base = f"/api/v1/contests/{contest_id}"
        answers = [
            client.get(f"{base}/links", headers=bearer),
            client.post(f"{base}/links", json={"label": "x"}, headers=bearer),
            client.get(f"{base}/referrals", headers=bearer),
            client.post(f"{base}/referrals/1", json={"decision": "clear"}, headers=bearer),
            client.get(f"{base}/prizes", headers=bearer),
            client.get(f"{base}/vouchers.csv", headers=bearer),
            client.get("/api/v1/leads", params={"contest": contest_id}, headers=bearer),
        ]
        assert [a.status_code for a in answers] == [404] * len(answers)
        assert all(a.json()["error"]["code"] == "not_found" for a in answers)
    with engine.connect() as connection:
        links = connection.execute(sa.select(sa.func.count()).select_from(tables.sourcelink))
        assert links.scalar_one() == 0, "nothing made on the rival's contest"


def hold(engine: Engine, contest_id: int, referrer: int, referred: int) -> int:
    """A referral the anti-fraud signals held for review, as the confirmation would leave it."""
    with engine.begin() as connection:
        held = connection.execute(
            sa.insert(tables.referral).values(
                contest_id=contest_id,
                referrer_entry_id=referrer,
                referred_entry_id=referred,
                status=ReferralStatus.REVIEW,
                reasons=["same_network"],
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    return int(held)


def test_a_referral_cleared_through_the_api_counts_and_a_rejected_one_does_not(
    client: TestClient, bearer: dict[str, str], engine: Engine, settings: Settings
) -> None:
    _, closed = ids(engine)
    with engine.connect() as connection:
        entries = connection.execute(
            sa.select(tables.entry.c.id, tables.entry.c.public_id)
            .where(tables.entry.c.contest_id == closed, tables.entry.c.status == "confirmed")
            .order_by(tables.entry.c.id)
            .limit(4)
        ).all()
    (ann, ann_ticket), (bob, _), (cyd, cyd_ticket), (dan, _) = entries
    cleared, rejected = hold(engine, closed, ann, bob), hold(engine, closed, cyd, dan)
    bonus = client.get(f"/api/v1/contests/{closed}", headers=bearer).json()["referral_bonus"]

    def chances() -> dict[str, int]:
        page = client.get(
            f"/api/v1/contests/{closed}/entries", params={"limit": 500}, headers=bearer
        ).json()
        return {line["id"]: line["chances"] for line in page["items"]}

    before = chances()
    base = f"/api/v1/contests/{closed}/referrals"
    yes = client.post(f"{base}/{cleared}", json={"decision": "clear"}, headers=bearer)
    no = client.post(f"{base}/{rejected}", json={"decision": "reject"}, headers=bearer)
    assert (yes.json()["status"], no.json()["status"]) == ("credited", "rejected")
    after = chances()
    assert after[ann_ticket] == before[ann_ticket] + bonus, "the cleared referral counts"
    assert after[cyd_ticket] == before[cyd_ticket], "the rejected one earns nothing"
    queue = client.get(base, headers=bearer).json()["items"]
    assert [(r["id"], r["status"]) for r in queue if r["id"] in (cleared, rejected)] == [
        (rejected, "rejected")
    ], "a cleared referral leaves the queue; a rejected one stays, marked"

    sign_in(client, "demo@example.org", demo_password(settings))
    log = shown(client.get("/admin/audit"))
    assert "Parrainage validé (crédité)" in log and "Parrainage refusé" in log


def claim(client: TestClient, link: str) -> str:
    claimed = client.post(link)
    found = re.search(r'data-voucher="([^"]+)"', claimed.text)
    assert found, claimed.text
    return found.group(1)


def test_prizes_say_which_voucher_the_shop_took_refused_with_its_reason_or_waits_for_import(
    client: TestClient, bearer: dict[str, str], sender: Sender, settings: Settings, engine: Engine
) -> None:
    _, closed = ids(engine)
    assert client.post(f"/api/v1/contests/{closed}/draw", headers=bearer).status_code == 201
    sender.run_once()
    links = [
        link_in(mail, r"http://testserver/c/demo-closed/claim/\S+").removeprefix(
            "http://testserver"
        )
        for mail in read_eml(settings.mail_dir)
        if "gagné" in mail["Subject"]
    ]
    assert len(links) == 3
    with WebhookReceiver() as shop:
        made = client.post(
            "/api/v1/shop-connections",
            json={"kind": "webhook", "settings": {"url": shop.endpoint, "secret": shop.secret}},
            headers=bearer,
        )
        assert made.status_code == 201, made.text
        shop.fail_next(422, "POST", b"coupon amount not allowed")
        refused = claim(client, links[0])
        sender.run_once()  # the voucher e-mail, and the shop refuses the voucher for good
        delivered = claim(client, links[1])
        sender.run_once()
    removed = client.delete(f"/api/v1/shop-connections/{made.json()['id']}", headers=bearer)
    assert removed.status_code == 204
    to_import = claim(client, links[2])
    sender.run_once()

    awards = client.get(f"/api/v1/contests/{closed}/prizes", headers=bearer).json()["items"]
    by_status = {award["status"]: award for award in awards}
    assert sorted(by_status) == ["delivered", "failed", "to_import"]
    failed = by_status["failed"]
    assert "422" in failed["shop_error"] and "coupon amount not allowed" in failed["shop_error"]
    assert "vouchers.csv" in failed["delivery"] and failed["voucher_issued"]
    assert by_status["delivered"]["delivered_at"] and by_status["delivered"]["shop_error"] is None
    assert "imported in the shop" in by_status["to_import"]["delivery"]

    exported = client.get(f"/api/v1/contests/{closed}/vouchers.csv", headers=bearer).text
    assert refused in exported and to_import in exported, "what the shop does not hold"
    assert delivered not in exported
