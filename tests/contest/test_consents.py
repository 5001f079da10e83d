"""The consent ledger (sealed, verifiable, the source of the current state) and unsubscribing."""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import cli, tables
from contest.clock import FixedClock
from contest.leads import consents
from contest.leads.consents import MARKETING_PURPOSES, consent_state, seal, verify_chain, withdraw
from contest.leads.subscriptions import unsubscribe_headers, unsubscribe_token
from contest.mail import Sender
from contest.settings import Settings
from contest.storage import write_options
from contest.tokens import Purpose, Signer
from contest.web import unsubscribe
from tests.helpers import enter, link_in, read_eml

consent_t, person_t, organizer_t = tables.consentrecord, tables.person, tables.organizer


def later(clock: FixedClock) -> datetime:
    """A sealing cut-off after everything the test wrote."""
    return clock.now() + timedelta(minutes=1)


def enter_as(client: TestClient, email: str, *purposes: str) -> None:
    ticked = {f"consent_{purpose}": "on" for purpose in purposes}
    assert enter(client, email=email, **ticked).status_code == 303  # type: ignore[attr-defined]


def confirm_by_mail(client: TestClient, sender: Sender, settings: Settings, email: str) -> None:
    sender.run_once()
    mail = [m for m in read_eml(settings.mail_dir) if m["To"] == email][-1]
    link = link_in(mail, r"http://testserver/c/demo/confirm/\S+").removeprefix("http://testserver")
    assert client.post(link, follow_redirects=False).status_code == 303


def person(engine: Engine, email: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(person_t.c.id, person_t.c.organizer_id).where(person_t.c.email == email)
        ).one()


def state(engine: Engine, person_id: int, purpose: str) -> consents.ConsentState:
    with engine.connect() as connection:
        return consent_state(connection, person_id, purpose)


def withdrawals(engine: Engine, person_id: int) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(consent_t).where(
                consent_t.c.person_id == person_id, consent_t.c.event == "withdrawn"
            )
        ).all()


def demo_organizer(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(organizer_t.c.id).where(organizer_t.c.email == "demo@example.org")
            ).scalar_one()
        )


def mount(client: TestClient) -> None:
    """The lead wires these routes into the app; until then the test puts them first."""
    client.app.router.routes[0:0] = unsubscribe.routes  # type: ignore[attr-defined]


# --- The state follows the ledger ----------------------------------------------------------


def test_marketing_consent_is_granted_then_confirmed_then_withdrawn(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    enter_as(client, "ann@example.net", "marketing_email")
    enter_as(client, "bob@example.net")
    ann, bob = person(engine, "ann@example.net"), person(engine, "bob@example.net")

    pending = state(engine, ann.id, "marketing_email")
    assert (pending.granted, pending.confirmed, pending.given) == (True, False, False)
    assert state(engine, bob.id, "rules").given
    assert not state(engine, bob.id, "marketing_email").granted

    confirm_by_mail(client, sender, settings, "ann@example.net")
    confirmed = state(engine, ann.id, "marketing_email")
    assert (confirmed.granted, confirmed.confirmed, confirmed.given) == (True, True, True)
    assert confirmed.record_id is not None and confirmed.record_id > (pending.record_id or 0)
    assert confirmed.wording_hash == pending.wording_hash

    with engine.connect().execution_options(**write_options()) as connection:
        with connection.begin():
            now = clock.now()
            assert withdraw(connection, ann.id, MARKETING_PURPOSES, "web", now, "Stop") == 1
            assert withdraw(connection, ann.id, MARKETING_PURPOSES, "web", now, "Stop") == 0
    withdrawn = state(engine, ann.id, "marketing_email")
    assert (withdrawn.granted, withdrawn.confirmed, withdrawn.wording) == (False, False, "Stop")

    current = consents.current_consents(None, ann.organizer_id, ["rules", "marketing_email"])
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(current.c.person_id, current.c.purpose, current.c.state).where(
                current.c.person_id.in_([ann.id, bob.id])
            )
        ).all()
    assert sorted(tuple(r) for r in rows) == sorted(
        [
            (ann.id, "rules", "confirmed"),
            (ann.id, "marketing_email", "withdrawn"),
            (bob.id, "rules", "granted"),
        ]
    )


# --- The sealed chain ---------------------------------------------------------------------


def test_sealed_chain_verifies_and_tampering_names_the_first_broken_link(
    engine: Engine, demo: None, clock: FixedClock
) -> None:
    organizer_id = demo_organizer(engine)
    sealed = seal(engine, later(clock), batch=7)
    assert sealed >= 20
    assert seal(engine, later(clock)) == 0
    with engine.connect() as connection:
        report = verify_chain(connection, organizer_id)
        assert (report.ok, report.checked, report.unsealed) == (True, sealed, 0)
        rows = {
            r.seq: r
            for r in connection.execute(
                sa.select(consent_t).where(consent_t.c.organizer_id == organizer_id)
            )
        }

    def broken_after(*statements: Any) -> consents.BrokenLink | None:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(statement)
        with engine.connect() as connection:
            return verify_chain(connection, organizer_id).first_broken

    def where(seq: int) -> Any:
        return (consent_t.c.organizer_id == organizer_id) & (consent_t.c.seq == seq)

    changed = broken_after(sa.update(consent_t).where(where(3)).values(wording_hash="0" * 64))
    assert changed is not None and changed[:2] == (3, rows[3].id)
    assert "changed" in changed.reason
    restore = sa.update(consent_t).where(where(3)).values(wording_hash=rows[3].wording_hash)
    assert broken_after(restore) is None

    reworded = broken_after(sa.update(consent_t).where(where(4)).values(wording="Other text"))
    assert reworded == (4, rows[4].id, "the wording no longer matches its wording_hash")
    assert (
        broken_after(sa.update(consent_t).where(where(4)).values(wording=rows[4].wording)) is None
    )

    swapped = broken_after(
        sa.update(consent_t).where(where(6)).values(seq=-1),
        sa.update(consent_t).where(where(7)).values(seq=6),
        sa.update(consent_t).where(where(-1)).values(seq=7),
    )
    assert swapped is not None and swapped[:2] == (6, rows[7].id)
    assert "reordered" in swapped.reason
    broken_after(
        sa.update(consent_t).where(where(6)).values(seq=-1),
        sa.update(consent_t).where(where(7)).values(seq=6),
        sa.update(consent_t).where(where(-1)).values(seq=7),
    )

    last = max(rows)
    at_the_end = broken_after(sa.delete(consent_t).where(where(last)))
    assert at_the_end is not None and at_the_end.seq == last and at_the_end.record_id is None
    assert "deleted" in at_the_end.reason

    deleted = broken_after(sa.delete(consent_t).where(where(5)))
    assert deleted is not None and deleted[:2] == (5, rows[6].id)
    assert "missing" in deleted.reason


def test_concurrent_sealers_never_fork_a_chain(
    engine: Engine, demo: None, clock: FixedClock
) -> None:
    organizer_id = demo_organizer(engine)
    with engine.begin() as connection:
        other = connection.execute(
            sa.insert(organizer_t).values(email="other@example.org", password_hash="x")
        ).inserted_primary_key[0]  # type: ignore[index]
        people = {
            oid: connection.execute(
                sa.insert(person_t).values(
                    organizer_id=oid, email=f"p{oid}@x.org", email_key=f"p{oid}@x.org"
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            for oid in (organizer_id, other)
        }

    def add(count: int) -> None:
        now = clock.now()
        with engine.begin() as connection:
            connection.execute(
                sa.insert(consent_t),
                [
                    {
                        "organizer_id": oid,
                        "person_id": pid,
                        "purpose": "marketing_email",
                        "event": "granted",
                        "wording": f"Yes {n}",
                        "wording_hash": consents.text_hash(f"Yes {n}"),
                        "language": "en",
                        "created_at": now,
                    }
                    for n in range(count)
                    for oid, pid in people.items()
                ],
            )

    add(150)
    start = threading.Barrier(5)
    errors: list[BaseException] = []

    def sealer() -> None:
        try:
            start.wait()
            for _ in range(3):
                seal(engine, later(clock), batch=13)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def writer() -> None:
        start.wait()
        for _ in range(5):
            add(10)
            time.sleep(0.005)

    threads = [threading.Thread(target=sealer) for _ in range(4)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    seal(engine, later(clock))
    with engine.connect() as connection:
        for oid in (organizer_id, other):
            seqs = connection.execute(
                sa.select(consent_t.c.seq).where(consent_t.c.organizer_id == oid)
            ).scalars()
            listed = sorted(seqs)
            assert listed == list(range(1, len(listed) + 1))
            report = verify_chain(connection, oid)
            assert (report.ok, report.checked, report.unsealed) == (True, len(listed), 0)


def test_confirming_after_the_grant_was_sealed_appends_an_unsealed_record(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    enter_as(client, "late@example.net", "marketing_email")
    seal(engine, later(clock))
    confirm_by_mail(client, sender, settings, "late@example.net")
    found = person(engine, "late@example.net")
    assert state(engine, found.id, "marketing_email").confirmed
    seal(engine, later(clock))
    with engine.connect() as connection:
        assert verify_chain(connection, found.organizer_id).ok


# --- Unsubscribing ------------------------------------------------------------------------


def subscribed(client: TestClient, sender: Sender, settings: Settings, email: str) -> Any:
    enter_as(client, email, "marketing_email", "partners")
    confirm_by_mail(client, sender, settings, email)
    return person(client.app.state.contest.engine, email)  # type: ignore[attr-defined]


def test_unsubscribe_page_withdraws_every_marketing_consent_at_once(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, signer: Signer
) -> None:
    mount(client)
    ann = subscribed(client, sender, settings, "ann@example.net")
    token = unsubscribe_token(signer, ann.organizer_id, ann.id)

    page = client.get(f"/unsubscribe/{token}?lang=en")
    assert page.status_code == 200
    assert "Offers by e-mail" in page.text and "Offers from partners" in page.text
    assert f'action="/unsubscribe/{token}"' in page.text
    assert "ann@example.net" not in page.text  # masked

    done = client.post(f"/unsubscribe/{token}?lang=en")
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    rows = withdrawals(engine, ann.id)
    assert sorted(r.purpose for r in rows) == ["marketing_email", "partners"]
    assert {r.channel for r in rows} == {"unsubscribe"}
    assert not any(state(engine, ann.id, p).granted for p in MARKETING_PURPOSES)
    assert state(engine, ann.id, "rules").given  # the entry itself stands

    assert client.post(f"/unsubscribe/{token}?lang=en").status_code == 200
    assert len(withdrawals(engine, ann.id)) == 2
    assert "sends no marketing message" in client.get(f"/unsubscribe/{token}?lang=en").text


def test_one_click_post_withdraws_without_any_csrf_token(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, signer: Signer
) -> None:
    mount(client)
    bob = subscribed(client, sender, settings, "bob@example.net")
    token = unsubscribe_token(signer, bob.organizer_id, bob.id)
    headers = unsubscribe_headers(settings.base_url, token)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<http://testserver(/unsubscribe/[^>]+)>", headers["List-Unsubscribe"])
    assert url is not None

    answer = client.post(url.group(1), data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert len(withdrawals(engine, bob.id)) == 2
    assert not state(engine, bob.id, "marketing_email").granted
    multipart = client.post(url.group(1), files={"List-Unsubscribe": (None, "One-Click")})
    assert multipart.status_code == 200
    assert len(withdrawals(engine, bob.id)) == 2


def test_tampered_or_expired_unsubscribe_link_is_refused_with_a_page(
    client: TestClient, signer: Signer, clock: FixedClock
) -> None:
    mount(client)
    token = unsubscribe_token(signer, 1, 1)
    assert client.post(f"/unsubscribe/{token[:-3]}abc?lang=en").status_code == 400
    wrong_purpose = signer.sign(Purpose.ME, [1, 1])
    assert client.get(f"/unsubscribe/{wrong_purpose}").status_code == 400
    six_years = timedelta(days=6 * 365)
    clock.advance(-six_years)  # a link sent six years ago
    old = unsubscribe_token(signer, 1, 1)
    clock.advance(six_years)
    expired = client.get(f"/unsubscribe/{old}?lang=en")
    assert expired.status_code == 410 and "too old" in expired.text


# --- Proof --------------------------------------------------------------------------------


def test_proof_lists_every_record_with_its_place_in_the_chain(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    ann = subscribed(client, sender, settings, "ann@example.net")
    seal(engine, later(clock))
    with engine.begin() as connection:
        withdraw(connection, ann.id, ["partners"], "web", clock.now(), "No partners")
        document = consents.proof(connection, ann.organizer_id, ann.id)
        with pytest.raises(consents.PersonNotFound):
            consents.proof(connection, ann.organizer_id + 1000, ann.id)
    assert json.loads(json.dumps(document)) == document
    assert document["person"]["email"] == "ann@example.net"
    records = document["records"]
    assert [(r["purpose"], r["event"]) for r in records] == [
        ("rules", "granted"),
        ("marketing_email", "granted"),
        ("partners", "granted"),
        ("rules", "confirmed"),
        ("marketing_email", "confirmed"),
        ("partners", "confirmed"),
        ("partners", "withdrawn"),
    ]
    assert all(r["seq"] and r["record_hash"] and r["hash_valid"] for r in records[:-1])
    assert records[-1]["seq"] is None and records[-1]["hash_valid"] is None
    assert records[0]["slug"] == "demo" and records[0]["wording"]
    assert records[0]["created_at"].endswith("Z")
    assert document["state"]["marketing_email"]["given"] is True
    assert document["state"]["partners"]["given"] is False
    assert document["chain"]["ok"] is True and document["chain"]["unsealed"] == 1


def test_verify_consents_command_fails_naming_the_first_broken_link(
    engine: Engine,
    demo: None,
    settings: Settings,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CONTEST_DATABASE_URL", settings.database_url.reveal())
    monkeypatch.setenv("CONTEST_DATA_DIR", str(settings.data_dir))
    seal(engine, later(clock))
    assert cli.cmd_verify_consents(argparse.Namespace(organizer=None)) == 0
    assert "OK demo@example.org" in capsys.readouterr().out

    with engine.begin() as connection:
        record_id = connection.execute(
            sa.update(consent_t)
            .where(consent_t.c.organizer_id == demo_organizer(engine), consent_t.c.seq == 2)
            .values(ip_truncated="203.0.113.0/24")
            .returning(consent_t.c.id)
        ).scalar_one()
    args = argparse.Namespace(organizer="demo@example.org")
    assert cli.cmd_verify_consents(args) == 1
    assert f"BROKEN demo@example.org: seq 2 (record id {record_id})" in capsys.readouterr().out
    assert cli.cmd_verify_consents(argparse.Namespace(organizer="nobody@x.org")) == 2
