"""Privacy: the export, an erasure that leaves no trace but keeps a published draw verifiable,
and the retention purge, on both databases."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import outbox, tables
from contest.clock import FixedClock
from contest.draw import protocol as core
from contest.draw.drawing import placements, run_draw, signing_key, stored_record
from contest.leads.access import export_person
from contest.leads.privacy import (
    ERASED,
    RetentionJob,
    erase_person,
    personal_data_scan,
    purge_expired,
)
from contest.mail import Sender
from contest.prizes import claims
from contest.settings import Settings
from tests.helpers import form_token, link_in, read_eml
from tests.viral.referral_steps import enter_and_confirm, share_path
from viral.invitations import address_hash

ZOE = "zoe.erase@example.com"
ZOE_NAME = "Zoelle"
ZOE_IP, ZOE_AGENT = "198.51.100.77", "ErasureProbe/9.1"


@pytest.fixture
def zoe_client(client: TestClient) -> Iterator[TestClient]:
    """A second browser with its own address and user agent (the app's lifespan is running)."""
    with TestClient(
        client.app,
        base_url="http://testserver",
        client=(ZOE_IP, 41000),
        headers={"user-agent": ZOE_AGENT},
    ) as browser:
        yield browser


def key_of(settings: Settings) -> bytes:
    return settings.secret_keys[0].reveal().encode()


def enter_with(
    browser: TestClient,
    sender: Sender,
    settings: Settings,
    email: str,
    page: str = "/c/demo",
    confirm: bool = True,
    **fields: str,
) -> str:
    """Enters through ``page`` (its ?ref= carried along) and, unless told not to, confirms;
    returns the own page's address ("" when not confirmed)."""
    html = browser.get(page).text
    hidden = dict(re.findall(r'<input type="hidden" name="(ref|src)" value="([^"]+)">', html))
    data = {"form_token": form_token(html), "email": email, "accept_rules": "on", **hidden}
    data.update(fields)
    answer = browser.post("/c/demo/entries", data=data, follow_redirects=False)
    assert answer.status_code == 303
    sender.run_once()
    if not confirm:
        return ""
    mail = [m for m in read_eml(settings.mail_dir) if m["To"] == email][-1]
    link = link_in(mail, r"http://testserver/c/demo/confirm/\S+")
    own = browser.post(link.removeprefix("http://testserver"), follow_redirects=False)
    assert own.status_code == 303
    return str(own.headers["location"])


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql), params).all())


def person_id(engine: Engine, email: str) -> int:
    [(pid,)] = rows(engine, "SELECT id FROM person WHERE email = :e", e=email)
    return int(pid)


def organizer_id(engine: Engine) -> int:
    return int(rows(engine, "SELECT organizer_id FROM contest WHERE slug = 'demo'")[0][0])


def consent(engine: Engine, pid: int, purpose: str, event: str, now: datetime) -> None:
    """Appends a consent event as the unsubscribe feature would (no personal data needed)."""
    with engine.begin() as connection:
        connection.execute(
            sa.insert(tables.consentrecord).values(
                organizer_id=organizer_id(engine),
                person_id=pid,
                purpose=purpose,
                event=event,
                wording="unsubscribe",
                wording_hash="0" * 64,
                language="fr",
                channel="email",
                created_at=now,
            )
        )


def scan(engine: Engine, *needles: str) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return personal_data_scan(connection, needles)


def crm_events(engine: Engine, oid: int, now: datetime) -> None:
    """Two CRM events carrying Zoe's address: one waiting, one delivered but not yet scrubbed."""
    box = tables.outboxmessage
    payload = {"organizer": oid, "data": {"email": ZOE.upper(), "first_name": ZOE_NAME}}
    with engine.begin() as connection:
        for n in (1, 2):
            outbox.enqueue(
                connection,
                key=f"crm:lead.created:{n}",
                template="lead.created",
                recipient="",
                language="",
                payload=payload,
                now=now,
                kind="crm",
            )
        connection.execute(
            sa.update(box)
            .where(box.c.idempotency_key == "crm:lead.created:2")
            .values(status="sent")
        )


def test_export_then_erasure_leaves_no_trace_and_the_draw_still_verifies(
    client: TestClient,
    zoe_client: TestClient,
    engine: Engine,
    settings: Settings,
    sender: Sender,
    clock: FixedClock,
) -> None:
    # Bob brings Zoe, who ticks both boxes; Zoe brings Carl.
    bob_share = share_path(
        client, enter_and_confirm(client, sender, settings, "bob.ref@example.com")
    )
    zoe_own = enter_with(
        zoe_client,
        sender,
        settings,
        ZOE,
        bob_share,
        first_name=ZOE_NAME,
        consent_marketing_email="on",
        consent_partners="on",
    )
    zoe = person_id(engine, ZOE)
    zoe_share = share_path(client, zoe_own)
    enter_and_confirm(client, sender, settings, "carl.friend@example.com", zoe_share)
    oid, now = organizer_id(engine), clock.now()

    with engine.begin() as connection:
        data = export_person(connection, oid, zoe, now=now)
    json.dumps(data)  # JSON-ready
    assert data["person"]["email"] == ZOE and data["person"]["first_name"] == ZOE_NAME
    [entry] = data["entries"]
    assert (entry["contest"], entry["status"], entry["chances"]) == ("demo", "confirmed", 2)
    assert entry["ip_network"] == "198.51.100.0" and entry["ticket"]
    assert {(c["purpose"], c["event"]) for c in data["consents"]} == {
        (p, e) for p in ("rules", "marketing_email", "partners") for e in ("granted", "confirmed")
    }
    assert any(c["user_agent"] == ZOE_AGENT for c in data["consents"])
    assert [r["status"] for r in data["referrals_made"]] == ["credited"]
    assert [r["status"] for r in data["referred_by"]] == ["credited"]
    assert "carl" not in json.dumps(data) and "bob" not in json.dumps(data)

    # The closed contest is drawn and its winners told; then the first winner asks for erasure.
    key, key_id = signing_key(settings.secret_keys[0].reveal())
    record = run_draw(engine, "demo-closed", now, signing_key=key, key_id=key_id).record
    assert claims.notify_after_draw(engine, "demo-closed", now) == 3
    closed = int(rows(engine, "SELECT id FROM contest WHERE slug = 'demo-closed'")[0][0])
    with engine.connect() as connection:
        first = placements(connection, closed)[0]
    [(winner, winner_email, chances)] = rows(
        engine,
        "SELECT p.id, p.email, e.chances FROM entry e JOIN person p ON p.id = e.person_id "
        "WHERE e.id = :id",
        id=first.entry_id,
    )
    needles = (ZOE, ZOE_NAME, "198.51.100.", ZOE_AGENT, winner_email)
    assert ("person", "email") in scan(engine, *needles)
    assert ("outboxmessage", "recipient") in scan(engine, winner_email)  # the pending "you won"
    consent(engine, zoe, "marketing_email", "withdrawn", now)  # Zoe had objected to marketing
    crm_events(engine, oid, now)

    with engine.begin() as connection:
        report = erase_person(connection, oid, zoe, now, "web", suppression_key=key_of(settings))
        by_mail = erase_person(connection, oid, winner, now, "mail", suppression_key=b"unused")

    assert scan(engine, *needles) == []
    assert report.email_key_hash == hashlib.sha256(ZOE.encode()).hexdigest()
    assert report.deleted["entry"] == 1 and report.deleted["referral"] == 2
    assert report.deleted["linkclick"] == 1 and report.deleted["outboxmessage"] == 1
    assert report.suppressed and not by_mail.suppressed
    hashed = address_hash(key_of(settings), ZOE)
    assert rows(engine, "SELECT 1 FROM invitesuppression WHERE address_hash = :h", h=hashed)
    # Bob keeps the chance Zoe brought him; Carl's entry simply has no referrer any more.
    assert _chances(engine, "bob.ref@example.com") == 2
    assert rows(
        engine,
        "SELECT e.referrer_entry_id FROM entry e JOIN person p ON p.id = e.person_id "
        "WHERE p.email = 'carl.friend@example.com'",
    ) == [(None,)]
    # The ledger keeps its records, their "how" blanked, and Zoe's remaining consent withdrawn.
    ledger = rows(
        engine,
        "SELECT purpose, event, channel, wording_hash FROM consentrecord "
        "WHERE person_id = :p ORDER BY id",
        p=zoe,
    )
    assert len(ledger) == 8 and all(r.wording_hash for r in ledger)
    assert {r.channel for r in ledger[:7]} == {"erased"}
    assert tuple(ledger[7][:3]) == ("partners", "withdrawn", "web")

    # The erased winner's ticket and weight stay: the stored record still verifies.
    with engine.connect() as connection:
        stored = stored_record(connection, closed)
    assert stored == record and core.verify_record(stored).problems == ()
    entry_t = tables.entry
    with engine.connect() as connection:
        kept = connection.execute(
            sa.select(entry_t.c.chances, entry_t.c.answers, entry_t.c.ip_network).where(
                entry_t.c.id == first.entry_id
            )
        ).one()
    assert tuple(kept) == (chances, {}, "")
    awards = rows(engine, "SELECT entry_id, status, reason FROM prizeaward ORDER BY id")
    assert (first.entry_id, "expired", ERASED) in awards and len(awards) == 4  # an alternate

    request_t = tables.datarequest
    with engine.connect() as connection:
        requests = connection.execute(sa.select(request_t).order_by(request_t.c.id)).all()
    assert [(r.kind, r.channel) for r in requests] == [
        ("access", "web"),
        ("erasure", "web"),
        ("erasure", "mail"),
    ]
    assert all(r.deadline - r.requested_at == timedelta(days=30) for r in requests)
    sender.run_once()  # the alternate's message goes; nothing left points at the erased

    # Erasing twice changes nothing; entering again makes a new person.
    with engine.begin() as connection:
        again = erase_person(connection, oid, zoe, now, "web", suppression_key=b"k")
    assert (again.deleted, again.email_key_hash) == ({}, "")
    enter_with(zoe_client, sender, settings, ZOE, first_name=ZOE_NAME)
    assert person_id(engine, ZOE) != zoe
    assert _chances(engine, ZOE) == 1


def _chances(engine: Engine, email: str) -> int:
    [(chances,)] = rows(
        engine,
        "SELECT e.chances FROM entry e JOIN person p ON p.id = e.person_id WHERE p.email = :e",
        e=email,
    )
    return int(chances)


def contest_dates(engine: Engine, slug: str) -> tuple[int, datetime]:
    """The contest's id and the end of its retention: a year after the close or, when later,
    after the claim window following the draw date (the demo keeps data 12 months)."""
    contest = tables.contest
    with engine.connect() as connection:
        row = connection.execute(sa.select(contest).where(contest.c.slug == slug)).one()
    end = max(row.closes_at, row.draw_at + timedelta(days=row.claim_days))
    return row.id, end.replace(year=end.year + 1)


def test_retention_purge_spares_current_marketing_consent_and_live_contests(
    client: TestClient, engine: Engine, settings: Settings, sender: Sender, clock: FixedClock
) -> None:
    key, minute = key_of(settings), timedelta(minutes=1)
    started = clock.now()
    enter_with(client, sender, settings, "mara@example.com", consent_marketing_email="on")
    enter_with(client, sender, settings, "nina@example.com", first_name="Nina")
    enter_with(client, sender, settings, "paul.pending@example.com", confirm=False)
    mara, nina = person_id(engine, "mara@example.com"), person_id(engine, "nina@example.com")
    demo, demo_end = contest_dates(engine, "demo")
    closed, closed_end = contest_dates(engine, "demo-closed")
    with engine.begin() as connection:  # Nina had also taken part in the closed contest
        connection.execute(
            sa.insert(tables.entry).values(
                public_id="nina-closed-ticket",
                contest_id=closed,
                person_id=nina,
                status="confirmed",
                rules_version="demo",
                answers={"first_name": "Nina"},
                created_at=started - timedelta(days=5),
            )
        )

    # Unconfirmed: kept while the link works, deleted once it has expired (DE-DOI-1).
    assert purge_expired(engine, started + timedelta(days=6), suppression_key=key) == []
    later = clock.now() + timedelta(days=7) + minute
    job = RetentionJob(engine, key)  # the worker's hook: at most once an hour
    [log] = job(later)
    assert (log.contest_id, log.persons, log.ran_at) == (demo, 1, later) and log.id
    assert job(later + timedelta(minutes=59)) == [] and job.last == later
    assert scan(engine, "paul.pending") == []
    assert purge_expired(engine, later, suppression_key=key) == []

    # The closed contest's retention ends first: Nina is kept for the contest still running.
    assert purge_expired(engine, closed_end - minute, suppression_key=key) == []
    [log] = purge_expired(engine, closed_end + minute, suppression_key=key)
    assert (log.contest_id, log.persons) == (closed, 20)
    assert scan(engine, "participant00", "Participant 1") == []
    assert rows(engine, "SELECT erased_at FROM person WHERE id = :p", p=nina) == [(None,)]

    # Then the open contest's: Nina goes, Mara stays for her confirmed marketing consent.
    assert purge_expired(engine, demo_end - minute, suppression_key=key) == []
    [log] = purge_expired(engine, demo_end + minute, suppression_key=key)
    assert (log.contest_id, log.persons) == (demo, 1)
    assert scan(engine, "nina@example.com", "nina-closed-ticket") == []
    assert rows(engine, "SELECT email FROM person WHERE id = :p", p=mara) == [("mara@example.com",)]
    assert purge_expired(engine, demo_end + 2 * minute, suppression_key=key) == []

    # Once Mara withdraws, nothing keeps her; her objection survives as a suppression hash.
    consent(engine, mara, "marketing_email", "withdrawn", clock.now())
    [log] = purge_expired(engine, demo_end + 3 * minute, suppression_key=key)
    assert (log.contest_id, log.persons) == (demo, 1)
    assert scan(engine, "mara@example.com") == []
    hashed = address_hash(key, "mara@example.com")
    assert rows(engine, "SELECT 1 FROM invitesuppression WHERE address_hash = :h", h=hashed)
    assert len(rows(engine, "SELECT id FROM purgelog")) == 4
    assert rows(engine, "SELECT count(*) FROM datarequest") == [(0,)]  # not requests


def test_the_participant_downloads_then_erases_their_data_from_their_page(
    client: TestClient, engine: Engine, settings: Settings, sender: Sender
) -> None:
    own = enter_and_confirm(client, sender, settings, "self.service@example.org")
    page = client.get(own).text
    assert "data.json" in page and "/erase" in page
    data = client.get(own + "/data.json")
    assert data.status_code == 200 and data.json()["person"]["email"] == "self.service@example.org"
    assert data.headers["cache-control"] == "no-store", "personal data is never cached"
    assert client.get(own + "/erase").status_code == 200
    erased = client.post(own + "/erase")
    assert erased.status_code == 200
    assert client.get(own).status_code == 404, "the personal link leads nowhere afterwards"
    with engine.connect() as connection:
        assert personal_data_scan(connection, ["self.service@example.org"]) == []
