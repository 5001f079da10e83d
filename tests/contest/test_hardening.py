"""Issue 20's findings, each through the door a user reaches: the entries API and consent (M1),
sign-in throttling (M2), spreadsheet cells (L3), the language switch (L5), an unclaimed prize
passed on while it is claimed (L6), 405 answers, and the body cap of image uploads."""

from __future__ import annotations

import argparse
import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, event
from starlette.testclient import TestClient

from contest import cli, tables
from contest.clock import SYSTEM_CLOCK, FixedClock
from contest.demo import demo_password
from contest.leads.subscriptions import unsubscribe_token
from contest.mail import Sender
from contest.media import MAX_BYTES
from contest.prizes.claims import CLAIMED_STATUSES
from contest.settings import Settings
from contest.storage import create_db_engine
from contest.tokens import Signer
from tests.conftest import TEST_KEY
from tests.contest.test_api import CONTEST
from tests.contest.test_claims import draw_demo_closed
from tests.contest.test_consents import confirm_by_mail, enter_as
from tests.contest.test_organizer import PNG, VALID, csrf
from tests.helpers import link_in, read_eml, shown, sign_in

# --- M1: entries through the API follow the consent rules of the lead export ---------------


def person_id(engine: Engine, email: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(tables.person.c.id, tables.person.c.organizer_id).where(
                tables.person.c.email == email
            )
        ).one()


def audit_lines(engine: Engine, action: str) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(tables.auditevent)
            .where(tables.auditevent.c.action == action)
            .order_by(tables.auditevent.c.id)
        ).all()


def test_entries_api_gives_addresses_only_of_confirmed_consenting_people_and_audits_each_read(
    client: TestClient,
    bearer: dict[str, str],
    sender: Sender,
    settings: Settings,
    engine: Engine,
    signer: Signer,
) -> None:
    enter_as(client, "pending@example.net", "marketing_email")  # ticked, never confirmed
    enter_as(client, "silent@example.net")  # confirmed, ticked nothing
    confirm_by_mail(client, sender, settings, "silent@example.net")
    enter_as(client, "fan@example.net", "marketing_email")  # confirmed and ticked
    confirm_by_mail(client, sender, settings, "fan@example.net")
    enter_as(client, "gone@example.net", "marketing_email")  # then unsubscribed
    confirm_by_mail(client, sender, settings, "gone@example.net")
    gone = person_id(engine, "gone@example.net")
    token = unsubscribe_token(signer, gone.organizer_id, gone.id)
    assert client.post(f"/unsubscribe/{token}?lang=en").status_code == 200
    enter_as(client, "bounced@example.net", "marketing_email")  # then bounced for good
    confirm_by_mail(client, sender, settings, "bounced@example.net")
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.person)
            .where(tables.person.c.email == "bounced@example.net")
            .values(undeliverable=True)
        )

    contests = client.get("/api/v1/contests", headers=bearer).json()["items"]
    [demo] = [c["id"] for c in contests if c["slug"] == "demo"]
    before = len(audit_lines(engine, "entries.read"))
    pending = client.get(
        f"/api/v1/contests/{demo}/entries?status=pending&limit=500", headers=bearer
    ).json()["items"]
    assert pending, "the demo has pending entries"
    assert all(item["email"] is None and item["first_name"] is None for item in pending)
    assert all(item["id"] and item["status"] == "pending" for item in pending), "tickets kept"

    everyone = client.get(f"/api/v1/contests/{demo}/entries?limit=500", headers=bearer).json()
    shown_addresses = {item["email"] for item in everyone["items"]} - {None}
    assert shown_addresses == {"fan@example.net"}
    assert "pending@example.net" not in str(everyone) and "silent@example.net" not in str(everyone)

    reads = audit_lines(engine, "entries.read")[before:]
    assert len(reads) == 2, "every read is audited"
    assert reads[0].detail["status"] == "pending" and reads[0].detail["emails"] == 0
    assert reads[1].detail["entries"] == len(everyone["items"]) and reads[1].detail["emails"] == 1
    assert reads[1].actor.startswith("api:") and reads[1].contest_id == demo

    document = client.get("/api/v1/openapi.json").json()
    described = document["paths"]["/contests/{contest_id}/entries"]["get"]["description"]
    assert "consent" in described and "audit" in described
    email = document["components"]["schemas"]["Entry"]["properties"]["email"]
    assert email["type"] == ["string", "null"]


# --- M2: sign-in throttled per account and network, with a growing wait --------------------


def from_network(client: TestClient, address: str) -> TestClient:
    """Another browser on the same app (whose lifespan ``client`` runs), from ``address``."""
    return TestClient(client.app, base_url="http://testserver", client=(address, 40000))


def login(browser: TestClient, email: str, password: str) -> int:
    return int(sign_in(browser, email, password).status_code)  # type: ignore[attr-defined]


def test_wrong_passwords_from_one_network_never_lock_the_owner_out_of_another(
    client: TestClient, settings: Settings
) -> None:
    attacker = from_network(client, "203.0.113.7")
    owner = from_network(client, "198.51.100.20")
    spellings = ["demo@example.org", " DEMO@example.org ", "Demo@Example.Org", "demo@EXAMPLE.org"]
    for n in range(10):
        assert login(attacker, spellings[n % 4], "guess") in {401, 429}
    assert login(attacker, "demo@example.org", demo_password(settings)) == 429
    assert login(owner, "demo@example.org", demo_password(settings)) == 303


def test_the_wait_grows_with_each_failure_and_a_sign_in_clears_it(
    client: TestClient, settings: Settings, clock: FixedClock
) -> None:
    browser = from_network(client, "203.0.113.7")
    for _ in range(5):
        assert login(browser, " Demo@example.org", "guess") == 401
    refused = sign_in(browser, "demo@example.org", demo_password(settings))
    assert refused.status_code == 429 and "1 minutes" in shown(refused)  # type: ignore[attr-defined]
    clock.advance(timedelta(seconds=60))
    assert login(browser, "demo@example.org", "guess") == 401, "one more try after the wait"
    refused = sign_in(browser, "demo@example.org", demo_password(settings))
    assert refused.status_code == 429 and "2 minutes" in shown(refused)  # type: ignore[attr-defined]
    clock.advance(timedelta(seconds=119))
    assert login(browser, "demo@example.org", demo_password(settings)) == 429
    clock.advance(timedelta(seconds=1))
    assert login(browser, "demo@example.org", demo_password(settings)) == 303
    browser.cookies.clear()
    for _ in range(5):
        assert login(browser, "demo@example.org", "guess") == 401, "the sign-in cleared them"


def test_a_password_reset_lifts_the_wait_on_every_network(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    networks = [from_network(client, f"203.0.{n}.7") for n in (113, 114)]
    for browser in networks:
        for _ in range(6):
            login(browser, "demo@example.org", "guess")
        assert login(browser, "demo@example.org", demo_password(settings)) == 429
    networks[0].post("/admin/password-reset", data={"email": "demo@example.org"})
    assert sender.run_once() == 1
    [mail] = read_eml(settings.mail_dir)
    link = link_in(mail, r"http://testserver/admin/password-reset/\S+")
    new = "a brand new password"
    answer = networks[0].post(
        link.removeprefix("http://testserver"),
        data={"password": new, "password2": new},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert [login(browser, "demo@example.org", new) for browser in networks] == [303, 303]


def test_sign_in_and_reset_buckets_hold_no_address(
    client: TestClient, engine: Engine, sender: Sender
) -> None:
    browser = from_network(client, "203.0.113.7")
    for spelling in ("demo@example.org", "  DEMO@EXAMPLE.ORG", "nobody@example.com"):
        login(browser, spelling, "guess")
    browser.post("/admin/password-reset", data={"email": "Demo@Example.org"})
    with engine.connect() as connection:
        buckets = connection.execute(sa.select(tables.ratelimit.c.bucket)).scalars().all()
    assert not [b for b in buckets if "@" in b or "example" in b.lower()], buckets
    per_account = [b for b in buckets if re.fullmatch(r"login:[0-9a-f]{32}:203\.0\.113\.0", b)]
    assert len(per_account) == 2, "one per address, whatever its casing or spacing"
    assert [b for b in buckets if re.fullmatch(r"reset:[0-9a-f]{32}", b)]


# --- L3: one escaping for every CSV ---------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example","x")',
    "\uff1dHYPERLINK(1)",  # full-width =
    "\ufe62cmd",  # small +
    " \u200b\uff20SUM(A1)",  # spaces, a zero-width space, then a full-width @
    "\u2212 1+1",  # the minus sign
    "\tTab",
]


def rows_of(text: str) -> list[list[str]]:
    lines = [line for line in text.lstrip("\ufeff").splitlines() if not line.startswith("#")]
    return list(csv.reader(io.StringIO("\n".join(lines))))


@pytest.fixture
def organizer(client: TestClient, settings: Settings) -> TestClient:
    assert sign_in(client, "demo@example.org", demo_password(settings)).status_code == 303  # type: ignore[attr-defined]
    return client


def test_client_export_escapes_formulas_and_reads_back_unchanged(organizer: TestClient) -> None:
    segments = "\uff1dHYPERLINK(1)|\ufe62cmd|\u2212 1+1"
    content = (
        "email,client_since,orders_count,segments\n"
        f"-ann@example.org,2024-01-15,3,{segments}\n"
        f'=bob@example.org,2024-01-15,1,"{FORMULAS[0].replace(chr(34), chr(34) * 2)}"\n'
    )
    token = csrf(organizer, "/admin/clients")
    files = {"file": ("clients.csv", content.encode(), "text/csv")}
    assert organizer.post("/admin/clients", data={"csrf": token}, files=files).status_code == 200
    exported = organizer.get("/admin/clients.csv").text
    rows = {row[0]: row for row in rows_of(exported)[1:]}
    assert set(rows) >= {"'-ann@example.org", "'=bob@example.org"}
    assert rows["'-ann@example.org"][3] == "'" + segments
    assert rows["'=bob@example.org"][3] == "'" + FORMULAS[0]

    again = organizer.post(
        "/admin/clients",
        data={"csrf": token},
        files={"file": ("clients.csv", exported.encode(), "text/csv")},
    )
    assert again.status_code == 200
    assert organizer.get("/admin/clients.csv").text == exported, "read back unchanged"


def test_lead_export_escapes_full_width_and_lookalike_formula_starters(
    organizer: TestClient, sender: Sender, settings: Settings
) -> None:
    for n, name in enumerate(FORMULAS[1:5]):
        email = f"lead{n}@example.net"
        enter_as(organizer, email, "marketing_email")
        with_name = organizer.app.state.contest.engine  # type: ignore[attr-defined]
        with with_name.begin() as connection:
            connection.execute(
                sa.update(tables.person)
                .where(tables.person.c.email == email)
                .values(first_name=name)
            )
        confirm_by_mail(organizer, sender, settings, email)
    exported = organizer.get("/admin/leads.csv?contest=demo&purpose=marketing_email")
    assert exported.status_code == 200
    header, *rows = rows_of(exported.text)
    names = {row[header.index("email")]: row[header.index("first_name")] for row in rows}
    assert [names[f"lead{n}@example.net"] for n in range(4)] == [
        "'" + name for name in FORMULAS[1:5]
    ]


def test_entries_and_audit_exports_escape_formulas(
    bearer: dict[str, str], organizer: TestClient, engine: Engine
) -> None:
    contests = organizer.get("/api/v1/contests", headers=bearer).json()["items"]
    [closed] = [c["id"] for c in contests if c["slug"] == "demo-closed"]
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.entry)
            .where(tables.entry.c.contest_id == closed)
            .values(source="\uff1dcmd|' /C calc'!A0")
        )
    entries = rows_of(organizer.get(f"/admin/contests/{closed}/entries.csv").text)
    assert len(entries) == 21
    sources = {row[entries[0].index("source")] for row in entries[1:]}
    assert sources == {"'\uff1dcmd|' /C calc'!A0"}
    api = organizer.post(
        "/api/v1/contests",
        json={**CONTEST, "slug": "formula", "title": "\uff0bcmd"},
        headers=bearer,
    )
    assert api.status_code == 201
    audit = rows_of(organizer.get("/admin/audit.csv").text)
    assert all(not cell.startswith(("=", "+", "-", "@", "\uff0b")) for row in audit for cell in row)


# --- L5: the language switch goes back only to this very origin -----------------------------


@pytest.mark.parametrize(
    ("referer", "back"),
    [
        ("http://testserver/admin/clients?page=2", "/admin/clients?page=2"),
        ("http://TESTSERVER:80/admin/leads", "/admin/leads"),
        ("http://testserver.evil.example/admin/", "/admin/"),
        ("http://testserver:8080/admin/", "/admin/"),
        ("https://testserver/admin/", "/admin/"),
        ("http://evil.example@testserver/admin/", "/admin/"),
        ("http://testserver@evil.example/admin/", "/admin/"),
        ("http://testserver//evil.example/phish", "/admin/"),
        ("http://testserver/\\evil.example/phish", "/admin/"),
        ("http://xn--testservr-n0h/admin/", "/admin/"),  # testservеr, with a Cyrillic е
        ("//testserver/admin/", "/admin/"),
    ],
)
def test_language_switch_follows_only_a_referer_of_exactly_this_origin(
    client: TestClient, referer: str, back: str
) -> None:
    answer = client.get("/admin/lang/en", headers={"Referer": referer}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == back


# --- L6: a prize claimed while the worker passes it on keeps its claim ----------------------


@pytest.fixture
def worker_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Engine]]:
    """The environment of ``contest worker``, pointed at the test's database; yields the
    engines the command makes, disposed afterwards."""
    monkeypatch.setenv("CONTEST_DATABASE_URL", settings.database_url.reveal())
    monkeypatch.setenv("CONTEST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CONTEST_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("CONTEST_BASE_URL", settings.base_url)
    monkeypatch.setenv("CONTEST_DRAND_URLS", "none")
    made: list[Engine] = []

    def recording(url: str, **options: Any) -> Engine:
        engine = create_db_engine(url, **options)
        made.append(engine)
        return engine

    monkeypatch.setattr(cli, "create_db_engine", recording)
    yield made
    for engine in made:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_prize_claimed_while_the_worker_passes_it_on_keeps_its_claim(
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    worker_env: list[Engine],
) -> None:
    """PostgreSQL does not lock what the worker reads: the winners claim between its reading
    of the unclaimed prizes and its update, and their claims stand."""
    draw_demo_closed(engine, settings, clock)
    assert sender.run_once() == 3
    links = [
        link_in(mail, r"http://testserver/c/demo-closed/claim/\S+").removeprefix(
            "http://testserver"
        )
        for mail in read_eml(settings.mail_dir)
    ]
    deadline = clock.now() + timedelta(seconds=1)  # open to the app, past for the worker
    assert SYSTEM_CLOCK.now() > deadline, "the worker runs on the machine's clock"
    with engine.begin() as connection:
        connection.execute(sa.update(tables.prizeaward).values(deadline=deadline))

    claimed: list[int] = []

    def claim_first(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        passing_on = statement.startswith("UPDATE prizeaward") and "expired" in str(parameters)
        if passing_on and not claimed:
            claimed.append(0)  # once: the claims' own statements come through here too
            claimed[:] = [client.post(link).status_code for link in links]

    event.listen(Engine, "before_cursor_execute", claim_first)
    try:
        assert cli.cmd_worker(argparse.Namespace(once=True, interval=60)) == 0
    finally:
        event.remove(Engine, "before_cursor_execute", claim_first)
    assert claimed == [200, 200, 200], "the claims came in the middle of the worker's pass"
    with engine.connect() as connection:
        awards = connection.execute(sa.select(tables.prizeaward)).all()
    assert len(awards) == 3, "no alternate was offered a prize already claimed"
    assert all(award.status in CLAIMED_STATUSES for award in awards)


# --- HTTP: 405 names the allowed methods ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/admin/login", {"GET", "HEAD", "POST"}),
        ("PUT", "/admin/contests/1/draw", {"POST"}),
        ("POST", "/admin/audit", {"GET", "HEAD"}),
        ("DELETE", "/api/v1/contests", {"GET", "HEAD", "POST"}),
        ("PUT", "/api/v1/contests/1", {"GET", "HEAD", "PATCH"}),
        ("DELETE", "/api/v1/openapi.json", {"GET", "HEAD"}),
        ("POST", "/healthz", {"GET", "HEAD"}),
        ("POST", "/static/css/site.css", {"GET", "HEAD"}),
    ],
)
def test_every_405_names_the_allowed_methods(
    client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    answer = client.request(method, path)
    assert answer.status_code == 405
    assert {m.strip() for m in answer.headers["allow"].split(",")} == allowed


# --- L7: a 2 MB image fits in the body of the forms that upload images ----------------------


def image_of(size: int) -> bytes:
    return PNG + b"\0" * (size - len(PNG))


def test_a_2_mb_image_and_logo_upload_while_other_bodies_keep_the_1_mb_cap(
    organizer: TestClient,
) -> None:
    token = csrf(organizer)
    image = image_of(MAX_BYTES)
    created = organizer.post(
        "/admin/contests/new",
        data={**VALID, "csrf": token},
        files={
            "image": ("photo.png", image, "image/png"),
            "logo": ("logo.png", image_of(MAX_BYTES - 1), "image/png"),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, shown(created)
    edit = created.headers["location"] + "/edit"
    heavier = organizer.post(
        edit,
        data={**VALID, "csrf": token},
        files={"image": ("photo.png", image_of(MAX_BYTES + 1), "image/png")},
    )
    assert heavier.status_code == 422 and "2 Mo au plus" in shown(heavier)
    organization = organizer.post(
        "/admin/organization",
        data={"csrf": token},
        files={"logo": ("logo.png", image, "image/png")},
    )
    assert organization.status_code != 413
    clients = organizer.post(
        "/admin/clients",
        data={"csrf": token},
        files={"file": ("clients.csv", b"a" * (MAX_BYTES // 2 + 1024), "text/csv")},
    )
    assert clients.status_code == 413
    entry = organizer.post(
        "/c/demo/entries",
        content=b"email=" + b"a" * MAX_BYTES,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert entry.status_code == 413
