"""Mail that reaches the inbox: the organizer's sending domain (its DKIM key, the DNS records
to publish and their check, through the workspace page, the API and the command line, against
a real DNS server on 127.0.0.1), and what the worker delivers (signed so that ``dkim.verify``
accepts the bytes received, From the verified address, 7-bit bodies with one MIME-Version,
SMTPUTF8 for an address that is not ASCII, the greeting of CONTEST_BASE_URL's host)."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import dkim
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import cli, sendingdomains, tables
from contest.clock import FixedClock
from contest.demo import DEMO_EMAIL, demo_password
from contest.mail import MAIL_POLICY, Delivery, Sender
from contest.secretbox import SecretBox
from contest.sendingdomains import DkimKey, DnsLookup, DnsUnavailable, RecordStatus
from contest.settings import Secret, Settings, SettingsError
from contest.templating import Templates
from contest.tokens import Signer
from contest.worker import build_sender
from tests.conftest import TEST_KEY
from tests.dns_server import Zone, dns_server
from tests.helpers import enter, free_port, link_in, read_eml, shown, sign_in

ADDRESS = "concours@laboutique.fr"
DOMAIN = "laboutique.fr"
SELECTOR = "contest202611"  # the tests' clock stands in November 2026
ROW = re.compile(
    r'<tr data-record="(\w+)" data-status="(\w+)">\s*<th[^>]*>.*?</th>\s*'
    r'<td><code class="wrap">([^<]+)</code></td>\s*<td><code class="wrap">([^<]+)</code></td>',
    re.S,
)


@pytest.fixture
def zone() -> Iterator[Zone]:
    with dns_server() as served:
        yield served


@pytest.fixture
def settings(settings: Settings, zone: Zone) -> Settings:
    """The app reads DNS from the local server."""
    return dataclasses.replace(settings, dns_servers=zone.servers)


def dnsfunc(zone: Zone) -> Any:
    """What ``dkim.verify`` asks DNS, answered by the local server (a real UDP query)."""
    lookup = DnsLookup(zone.servers)

    def answer(name: bytes, timeout: int = 5) -> bytes:
        return "".join(lookup(name.decode())).encode()

    return answer


def csrf(client: TestClient) -> str:
    page = client.get("/admin/organization").text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def records_on(client: TestClient) -> dict[str, tuple[str, str, str]]:
    """kind -> (status, name, value) of the records the page tells the organizer to publish."""
    page = client.get("/admin/organization")
    assert page.status_code == 200
    return {kind: (status, name, value) for kind, status, name, value in ROW.findall(page.text)}


def publish_all(zone: Zone, records: dict[str, tuple[str, str, str]]) -> None:
    for _status, name, value in records.values():
        zone.publish(name, value)


def verify_through_the_page(client: TestClient, settings: Settings, zone: Zone) -> None:
    sign_in(client, DEMO_EMAIL, demo_password(settings))
    token = csrf(client)
    client.post(
        "/admin/organization/sending-domain", data={"csrf": token, "sender_address": ADDRESS}
    )
    publish_all(zone, records_on(client))
    client.post("/admin/organization/sending-domain/check", data={"csrf": token})
    assert {status for status, _, _ in records_on(client).values()} == {"match"}
    client.cookies.clear()


def eml_files(settings: Settings) -> list[bytes]:
    return [path.read_bytes() for path in sorted(settings.mail_dir.glob("*.eml"))]


def body_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")


# --- The workspace page ------------------------------------------------------------------


def test_the_owner_publishes_the_records_shown_and_the_check_verifies_the_domain(
    client: TestClient, settings: Settings, zone: Zone, engine: Engine
) -> None:
    sign_in(client, DEMO_EMAIL, demo_password(settings))
    token = csrf(client)
    assert 'data-verified="false"' in client.get("/admin/organization").text
    no_csrf = client.post("/admin/organization/sending-domain", data={"sender_address": ADDRESS})
    assert no_csrf.status_code == 403
    refused = client.post(
        "/admin/organization/sending-domain",
        data={"csrf": token, "sender_address": "concours@localhost"},
    )
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    assert not ROW.findall(refused.text), "no domain, no records"
    said = shown(refused)
    assert "Une adresse e-mail sur votre domaine, par ex. concours@votre-boutique.fr." in said
    assert "The part after the @" not in said, "the validator's English stays out of French"

    saved = client.post(
        "/admin/organization/sending-domain",
        data={"csrf": token, "sender_address": ADDRESS},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    records = records_on(client)
    dkim_status, dkim_name, dkim_value = records["dkim"]
    assert (dkim_status, dkim_name) == ("unchecked", f"{SELECTOR}._domainkey.{DOMAIN}")
    assert re.fullmatch(r"v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{390,}={0,2}", dkim_value)
    assert records["spf"] == ("unchecked", DOMAIN, "v=spf1 mx ~all")
    assert records["dmarc"] == (
        "unchecked",
        f"_dmarc.{DOMAIN}",
        "v=DMARC1; p=none; rua=mailto:contact@example.org",  # its public contact
    )

    client.post("/admin/organization/sending-domain/check", data={"csrf": token})
    assert {k: v[0] for k, v in records_on(client).items()} == dict.fromkeys(
        ("dkim", "spf", "dmarc"), "missing"
    )

    # Another key at the selector, an SPF that leaves the relay out, a stray TXT at _dmarc.
    zone.publish(dkim_name, dkim_value[:-12] + "AAAAAAAAAAAA")
    zone.publish(DOMAIN, "v=spf1 include:_spf.elsewhere.example -all", "site-verification=1")
    zone.publish(f"_dmarc.{DOMAIN}", "hello")
    client.post("/admin/organization/sending-domain/check", data={"csrf": token})
    assert {k: v[0] for k, v in records_on(client).items()} == dict.fromkeys(
        ("dkim", "spf", "dmarc"), "different"
    )
    assert 'data-verified="false"' in client.get("/admin/organization").text

    for name in (dkim_name, DOMAIN, f"_dmarc.{DOMAIN}"):
        zone.remove(name)
    publish_all(zone, records)
    zone.publish(DOMAIN, "site-verification=1")  # other TXT records beside SPF are fine
    checked = client.post(
        "/admin/organization/sending-domain/check", data={"csrf": token}, follow_redirects=False
    )
    assert checked.status_code == 303
    assert {k: v[0] for k, v in records_on(client).items()} == dict.fromkeys(
        ("dkim", "spf", "dmarc"), "match"
    )
    page = client.get("/admin/organization").text
    assert 'data-verified="true"' in page and ADDRESS in page
    assert f"{SELECTOR}._domainkey.{DOMAIN}" in zone.questions

    with engine.connect() as connection:
        row = connection.execute(sa.select(tables.sendingdomain)).one()
        actions = connection.execute(
            sa.select(tables.auditevent.c.action).where(
                tables.auditevent.c.action.like("sending_domain.%")
            )
        ).scalars()
        assert list(actions) == ["sending_domain.saved"] + ["sending_domain.checked"] * 3
    assert row.verified_at is not None and row.domain == DOMAIN
    assert "PRIVATE KEY" not in row.sealed_key, "the private key is sealed at rest"
    opened = SecretBox(settings.secret_keys).open(row.sealed_key)["private_key"]
    assert opened.startswith("-----BEGIN RSA PRIVATE KEY-----")

    # Another address on the same domain keeps the key and the verification.
    client.post(
        "/admin/organization/sending-domain",
        data={"csrf": token, "sender_address": "jeu@laboutique.fr"},
    )
    assert records_on(client)["dkim"] == ("match", dkim_name, dkim_value)
    # A new domain gets a new key, to publish and check again.
    client.post(
        "/admin/organization/sending-domain",
        data={"csrf": token, "sender_address": "jeu@autre-boutique.fr"},
    )
    moved = records_on(client)
    assert moved["dkim"][0] == "unchecked" and moved["dkim"][2] != dkim_value
    assert 'data-verified="false"' in client.get("/admin/organization").text


def test_the_worker_sends_from_the_verified_address_signed_for_its_domain(
    client: TestClient, settings: Settings, zone: Zone, sender: Sender
) -> None:
    enter(client, email="before@example.org")
    assert sender.run_once() == 1
    verify_through_the_page(client, settings, zone)
    enter(client, email="after@example.org")
    assert sender.run_once() == 1
    before, after = eml_files(settings)

    assert b"DKIM-Signature" not in before, "no key for the platform's domain"
    first = message_from_bytes(before, policy=default_policy)
    assert first["From"].addresses[0].addr_spec == "no-reply@testserver"

    message = message_from_bytes(after, policy=default_policy)
    assert message["From"].addresses[0].addr_spec == ADDRESS
    assert message["From"].addresses[0].display_name == "La Boutique Démo SAS"
    signature = message["DKIM-Signature"]
    assert f"d={DOMAIN}" in signature and f"s={SELECTOR}" in signature
    signed = re.search(r"h=([^;]+);", signature).group(1).replace(" ", "")  # type: ignore[union-attr]
    assert signed.split(":")[:4] == ["from", "to", "subject", "date"]
    assert "message-id" in signed and signed.endswith(":from"), "From signed twice"
    assert dkim.verify(after, dnsfunc=dnsfunc(zone))
    assert not dkim.verify(after.replace(b"Subject: ", b"Subject: Re: "), dnsfunc=dnsfunc(zone))
    assert after.count(b"MIME-Version:") == 1
    assert after.isascii() and max(len(line) for line in body_lines(after)) <= 78


def test_an_unverified_organizer_sends_from_the_platform_address_with_its_reply_to(
    client: TestClient, settings: Settings, zone: Zone, sender: Sender, engine: Engine
) -> None:
    with engine.begin() as connection:
        connection.execute(sa.update(tables.organizer).values(reply_to="bonjour@laboutique.fr"))
    sign_in(client, DEMO_EMAIL, demo_password(settings))
    client.post(
        "/admin/organization/sending-domain",
        data={"csrf": csrf(client), "sender_address": ADDRESS},
    )  # named but never checked: not verified
    client.cookies.clear()
    enter(client, email="ann@example.org")
    assert sender.run_once() == 1
    [raw] = eml_files(settings)
    message = message_from_bytes(raw, policy=default_policy)
    assert str(message["From"]) == "La Boutique Démo SAS <no-reply@testserver>"
    assert str(message["Reply-To"]) == "bonjour@laboutique.fr"
    assert "DKIM-Signature" not in message, "no key for the platform's domain"


# --- The API -------------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler keeping the raw bytes, the envelope and the greeting."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str, list[str], list[str], str]] = []

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        self.received.append(
            (
                envelope.original_content or envelope.content,
                envelope.mail_from,
                list(envelope.rcpt_tos),
                list(envelope.mail_options),
                session.host_name,
            )
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    yield inbox, port
    controller.stop()


def smtp_sender(
    settings: Settings, engine: Engine, signer: Signer, clock: FixedClock, port: int
) -> Sender:
    """The worker as ``contest worker`` builds it, sending to the local SMTP server."""
    smtp_settings = dataclasses.replace(settings, smtp_url=Secret(f"smtp://127.0.0.1:{port}"))
    templates = Templates({"htmx_available": False, "base_url": settings.base_url})
    return build_sender(smtp_settings, engine, templates, signer, clock)


def test_the_api_sets_and_checks_the_domain_and_smtp_delivers_it_signed(
    client: TestClient,
    bearer: dict[str, str],
    settings: Settings,
    zone: Zone,
    engine: Engine,
    signer: Signer,
    clock: FixedClock,
    smtp: tuple[Inbox, int],
) -> None:
    assert client.get("/api/v1/sending-domain", headers=bearer).status_code == 404
    assert client.post("/api/v1/sending-domain/check", headers=bearer).status_code == 404
    bad = client.post("/api/v1/sending-domain", json={"address": "x@127.0.0.1"}, headers=bearer)
    assert bad.status_code == 422 and "address" in bad.json()["error"]["fields"]
    created = client.post("/api/v1/sending-domain", json={"address": ADDRESS}, headers=bearer)
    assert created.status_code == 200, created.text
    body = created.json()
    assert (body["domain"], body["selector"], body["verified"]) == (DOMAIN, SELECTOR, False)
    assert [r["kind"] for r in body["records"]] == ["dkim", "spf", "dmarc"]
    assert {r["status"] for r in body["records"]} == {"unchecked"}
    for record in body["records"]:
        zone.publish(record["name"], record["value"])
    checked = client.post("/api/v1/sending-domain/check", headers=bearer).json()
    assert checked["verified"] is True and checked["verified_at"]
    assert {r["status"] for r in checked["records"]} == {"match"}
    assert client.get("/api/v1/sending-domain", headers=bearer).json() == checked

    inbox, port = smtp
    enter(client, email="ann@example.org")
    assert smtp_sender(settings, engine, signer, clock, port).run_once() == 1
    [(raw, mail_from, rcpt_tos, options, greeting)] = inbox.received
    assert (mail_from, rcpt_tos) == (ADDRESS, ["ann@example.org"])
    assert greeting == "testserver", "the greeting names CONTEST_BASE_URL's host"
    assert dkim.verify(raw, dnsfunc=dnsfunc(zone))
    assert raw.count(b"MIME-Version:") == 1, "one MIME-Version, in the top-level header"
    assert raw.isascii() and not {"BODY=8BITMIME", "SMTPUTF8"} & set(options), "7-bit"
    assert max(len(line) for line in body_lines(raw)) <= 78
    message = message_from_bytes(raw, policy=default_policy)
    assert re.fullmatch(r"<outbox-\d+\.[0-9a-f]{32}@testserver>", str(message["Message-ID"]))
    [text, html] = message.iter_parts()
    assert "MIME-Version" not in text and "MIME-Version" not in html
    assert text["Content-Transfer-Encoding"] == "quoted-printable"  # French: not ASCII
    assert "Gagnez 500 € de bons d'achat" in text.get_content(), "decodes as it was written"


def test_an_address_that_is_not_ascii_goes_with_smtputf8_or_is_refused_clearly(
    client: TestClient,
    settings: Settings,
    engine: Engine,
    signer: Signer,
    clock: FixedClock,
    zone: Zone,
    smtp: tuple[Inbox, int],
) -> None:
    verify_through_the_page(client, settings, zone)
    inbox, port = smtp
    enter(client, email="zoë@example.org")
    assert smtp_sender(settings, engine, signer, clock, port).run_once() == 1
    [(raw, mail_from, rcpt_tos, options, _greeting)] = inbox.received
    assert rcpt_tos == ["zoë@example.org"] and "SMTPUTF8" in options
    assert "zoë@example.org".encode() in raw.split(b"\r\n\r\n")[0], "the To header in UTF-8"
    assert dkim.verify(raw, dnsfunc=dnsfunc(zone))

    without = Inbox()
    plain_port = free_port()
    plain = Controller(without, hostname="127.0.0.1", port=plain_port, enable_SMTPUTF8=False)
    plain.start()
    try:
        enter(client, email="élodie@example.org")
        assert smtp_sender(settings, engine, signer, clock, plain_port).run_once() == 0, (
            without.received
        )
    finally:
        plain.stop()
    assert without.received == []
    with engine.connect() as connection:
        status, error = connection.execute(
            sa.select(tables.outboxmessage.c.status, tables.outboxmessage.c.last_error).where(
                tables.outboxmessage.c.recipient == "élodie@example.org"
            )
        ).one()
    assert status == "failed", "refused for good: this server will not take the address"
    assert "SMTPUTF8" in error and "élodie@example.org" in error


# --- The platform's own domain (command line) and the check's edge cases ------------------


def test_the_platform_domain_gets_its_key_from_the_command_line_and_signs_its_mail(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    client: TestClient,
    zone: Zone,
    engine: Engine,
    signer: Signer,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    platform = "Concours <no-reply@plateforme.fr>"
    for name, value in {
        "CONTEST_DATABASE_URL": settings.database_url.reveal(),
        "CONTEST_DATA_DIR": str(settings.data_dir),
        "CONTEST_SECRET_KEY": TEST_KEY,
        "CONTEST_MAIL_FROM": platform,
        "CONTEST_DNS_SERVERS": f"127.0.0.1:{zone.port}",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    def contest(*args: str) -> int:
        parsed = cli.build_parser().parse_args(["sending-domain", *args])
        code: int = parsed.func(parsed)
        return code

    assert contest() == 0
    printed = capsys.readouterr().out
    lines = [line.split("  ") for line in printed.splitlines() if "  TXT  " in line]
    assert [kind for kind, *_ in lines] == ["DKIM", "SPF", "DMARC"]
    assert contest("--check") == 1, "not published yet"
    for _kind, name, _txt, value in lines:
        zone.publish(name, value.split("  [")[0])
    assert contest("--check") == 0
    assert capsys.readouterr().out.count("[match]") == 3

    platform_settings = dataclasses.replace(settings, mail_from=platform)
    templates = Templates({"htmx_available": False, "base_url": settings.base_url})
    sender = build_sender(platform_settings, engine, templates, signer, clock)
    enter(client, email="ann@example.org")
    assert sender.run_once() == 1
    [raw] = eml_files(settings)
    message = message_from_bytes(raw, policy=default_policy)
    assert str(message["From"]) == "La Boutique Démo SAS <no-reply@plateforme.fr>"
    assert "d=plateforme.fr" in message["DKIM-Signature"]
    assert dkim.verify(raw, dnsfunc=dnsfunc(zone))


def test_a_dns_that_does_not_answer_changes_nothing_and_a_missing_key_withdraws_verification(
    settings: Settings, engine: Engine, demo: None, clock: FixedClock
) -> None:
    box = SecretBox(settings.secret_keys)
    with engine.begin() as connection:
        organizer_id = connection.execute(
            sa.select(tables.organizer.c.id).where(tables.organizer.c.email == DEMO_EMAIL)
        ).scalar_one()
        domain = sendingdomains.set_sending_address(
            connection, box, organizer_id, ADDRESS, clock.now()
        )
    published = {record.name: [record.value] for record in domain.records(None)}

    def answers(name: str) -> list[str]:
        return published.get(name, [])

    def silent(name: str) -> list[str]:
        raise DnsUnavailable("timeout")

    now = clock.now()
    check = sendingdomains.check_sending_domain
    assert check(engine, organizer_id, answers, None, now).verified
    unknown = check(engine, organizer_id, silent, None, now)
    assert unknown.verified, "no answer is not a missing record"
    assert {r.status for r in unknown.records(None)} == {RecordStatus.UNKNOWN}
    gone = check(engine, organizer_id, lambda name: [], None, now)
    assert not gone.verified
    with engine.connect() as connection:
        assert sendingdomains.verified_address(connection, organizer_id) is None
        assert sendingdomains.signing_key(connection, box, DOMAIN) is None


def test_dns_servers_and_the_default_sender_come_from_the_environment() -> None:
    base = {"CONTEST_SECRET_KEY": "k" * 40, "CONTEST_BASE_URL": "https://concours.laboutique.fr"}
    settings = Settings.from_env(
        {**base, "CONTEST_DNS_SERVERS": "192.0.2.53, 127.0.0.1:5353, [2001:db8::53]:54"}
    )
    assert settings.dns_servers == (("192.0.2.53", 53), ("127.0.0.1", 5353), ("2001:db8::53", 54))
    assert settings.mail_from == "Concours <no-reply@concours.laboutique.fr>"
    assert settings.address_domain == "concours.laboutique.fr"
    by_address = Settings.from_env({**base, "CONTEST_BASE_URL": "http://127.0.0.1:8000"})
    assert by_address.address_domain == "[127.0.0.1]" and "localhost" not in by_address.mail_from
    for wrong in ("dns.example", "127.0.0.1:0", "127.0.0.1:x"):
        with pytest.raises(SettingsError):
            Settings.from_env({**base, "CONTEST_DNS_SERVERS": wrong})


def test_the_one_click_unsubscription_headers_are_signed(tmp_path: Path) -> None:
    """RFC 8058 §4: List-Unsubscribe and List-Unsubscribe-Post must be covered by DKIM."""
    settings = Settings.from_env(
        {"CONTEST_SECRET_KEY": TEST_KEY, "CONTEST_DATA_DIR": str(tmp_path)}
    )
    private, public = sendingdomains.new_key()
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = ADDRESS
    message["To"] = "ann@example.org"
    message["Subject"] = "Derniers jours"
    message["List-Unsubscribe"] = "<https://concours.laboutique.fr/unsubscribe/x>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content("Bonjour")
    delivery = Delivery(settings, keys=lambda domain: DkimKey(domain, SELECTOR, private))
    raw = delivery.wire_bytes(message)
    signature = message_from_bytes(raw, policy=default_policy)["DKIM-Signature"]
    assert "list-unsubscribe : list-unsubscribe-post" in " ".join(signature.split())
    record = sendingdomains.dkim_record(public).encode()
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: record)
    tampered = raw.replace(b"One-Click", b"One-Click-Please")
    assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: record)


def test_a_campaign_reaches_its_segment_signed_over_smtp(
    client: TestClient,
    bearer: dict[str, str],
    sender: Sender,
    settings: Settings,
    zone: Zone,
    engine: Engine,
    signer: Signer,
    clock: FixedClock,
    smtp: tuple[Inbox, int],
) -> None:
    client.post("/api/v1/sending-domain", json={"address": ADDRESS}, headers=bearer)
    for record in client.get("/api/v1/sending-domain", headers=bearer).json()["records"]:
        zone.publish(record["name"], record["value"])
    assert client.post("/api/v1/sending-domain/check", headers=bearer).json()["verified"]
    for address, consent in (("yes@example.org", "on"), ("no@example.org", "")):
        enter(client, email=address, **({"consent_marketing_email": consent} if consent else {}))
    sender.run_once()
    for mail in read_eml(settings.mail_dir):
        client.post(
            link_in(mail, r"http://testserver/c/demo/confirm/\S+")[len("http://testserver") :]
        )
    campaign = client.post(
        "/api/v1/campaigns",
        json={
            "name": "Signed",
            "contest": "demo",
            "subject_fr": "Un nouveau jeu",
            "body_fr": "Bonjour,\n\nNotre nouveau jeu est ouvert.",
            "active_days": 1,
        },
        headers=bearer,
    ).json()
    assert campaign["audience"]["eligible"] == 1
    assert campaign["audience"]["left_out"]["no_consent"] == 1
    client.post(f"/api/v1/campaigns/{campaign['id']}/start", headers=bearer)

    inbox, port = smtp
    worker = smtp_sender(settings, engine, signer, clock, port)
    assert worker.maintenance is not None
    worker.maintenance(clock.now())  # the worker's round queues the campaign's batch
    assert worker.run_once() == 1
    [(raw, mail_from, rcpt_tos, _options, _greeting)] = inbox.received
    assert (mail_from, rcpt_tos) == (ADDRESS, ["yes@example.org"])
    assert dkim.verify(raw, dnsfunc=dnsfunc(zone)), "signed with the organizer's key"
    message = message_from_bytes(raw, policy=default_policy)
    assert str(message["Subject"]) == "Un nouveau jeu"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    signed = "".join(str(message["DKIM-Signature"]).split()).lower().split("h=")[1]
    assert "list-unsubscribe" in signed.split(";")[0], "the one-click headers are signed"
