"""A new organizer's organization: set by the command line, the workspace page or the API, and
printed where the law asks (the rules, the e-mails)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from contest import cli
from contest.mail import Sender
from contest.models import AuditEvent, Organizer
from contest.settings import Settings
from tests.contest.test_organizer import PNG, VALID
from tests.helpers import enter, read_eml, shown, sign_in

EMAIL = "owner@shop.example"
PASSWORD = "a long enough password"


def create_organizer(monkeypatch: pytest.MonkeyPatch, settings: Settings, *options: str) -> int:
    """``contest create-organizer EMAIL --password-stdin OPTIONS…`` against the test database."""
    monkeypatch.setenv("CONTEST_DATABASE_URL", settings.database_url.reveal())
    monkeypatch.setenv("CONTEST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = cli.build_parser().parse_args(["create-organizer", EMAIL, "--password-stdin", *options])
    code: int = args.func(args)
    return code


def csrf(client: TestClient, path: str = "/admin/organization") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)  # type: ignore[union-attr]


def test_create_organizer_takes_the_organization_as_options(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, engine: Engine, demo: None
) -> None:
    code = create_organizer(
        monkeypatch,
        settings,
        "--legal-name=La Boutique",
        "--legal-form=SAS",
        "--postal-address=1 rue de la Paix, 75002 Paris",
        "--contact-email=contact@shop.example",
        "--privacy-contact=dpo@shop.example",
        "--default-language=en",
    )
    assert code == 0
    with Session(engine) as session:
        row = session.exec(select(Organizer).where(Organizer.email == EMAIL)).one()
    assert (row.legal_name, row.legal_form, row.privacy_contact) == (
        "La Boutique",
        "SAS",
        "dpo@shop.example",
    )
    assert row.default_language == "en" and row.default_timezone == "Europe/Paris"


def test_create_organizer_refuses_a_malformed_option_and_creates_nothing(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    engine: Engine,
    demo: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert create_organizer(monkeypatch, settings, "--privacy-contact=nobody") == 2
    assert "--privacy-contact: An e-mail address" in capsys.readouterr().err
    with Session(engine) as session:
        assert session.exec(select(Organizer).where(Organizer.email == EMAIL)).first() is None


@pytest.mark.rule("FR-RULES-1")
def test_a_new_organizer_publishes_once_the_organization_is_filled_in(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    client: TestClient,
    engine: Engine,
    sender: Sender,
) -> None:
    assert create_organizer(monkeypatch, settings) == 0
    assert sign_in(client, EMAIL, PASSWORD).status_code == 303  # type: ignore[attr-defined]
    token = csrf(client)
    created = client.post(
        "/admin/contests/new", data={**VALID, "csrf": token}, follow_redirects=False
    )
    contest_path = created.headers["location"]
    refused = client.post(contest_path + "/publish", data={"csrf": token})
    assert refused.status_code == 409 and "FR-RULES-1" in refused.text
    assert 'href="/admin/organization"' in refused.text, "the panel leads to the missing field"

    page = client.get("/admin/organization")
    assert "ne peut pas être publié tant que ces champs" in shown(page)
    bad = client.post("/admin/organization", data={"csrf": token, "reply_to": "nope"})
    assert bad.status_code == 422 and "Une adresse e-mail" in shown(bad)
    not_an_image = client.post(
        "/admin/organization",
        data={"csrf": token},
        files={"logo": ("logo.png", b"<svg onload=alert(1)>", "image/png")},
    )
    assert not_an_image.status_code == 422
    saved = client.post(
        "/admin/organization",
        data={
            "csrf": token,
            "legal_name": "La Boutique",
            "legal_form": "SAS",
            "postal_address": "1 rue de la Paix, 75002 Paris",
            "company_number": "RCS Paris 123 456 789",
            "contact_email": "contact@shop.example",
            "privacy_contact": "dpo@shop.example",
            "sender_name": "La Boutique",
            "reply_to": "hello@shop.example",
            "default_timezone": "Europe/Paris",
            "default_language": "fr",
        },
        files={"logo": ("logo.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    published = client.post(contest_path + "/publish", data={"csrf": token}, follow_redirects=False)
    assert published.status_code == 303

    logo = re.search(r'<img class="logo" src="(/media/[^"]+)"', client.get("/c/summer").text)
    assert logo, "the contest without a logo of its own shows the organization's"
    assert client.get(logo.group(1)).headers["content-type"] == "image/png"
    rules = shown(client.get("/c/summer/rules"))
    assert "La Boutique SAS" in rules and "RCS Paris 123 456 789" in rules
    assert "dpo@shop.example" in rules
    assert enter(client, "summer", email="fan@example.org").status_code == 303
    sender.run_once()
    [mail] = [m for m in read_eml(settings.mail_dir) if m["To"] == "fan@example.org"]
    assert mail["From"].startswith("La Boutique <") and mail["Reply-To"] == "hello@shop.example"
    with Session(engine) as session:
        audited = session.exec(
            select(AuditEvent).where(AuditEvent.action == "organization.updated")
        ).one()
    assert "privacy_contact" in audited.detail["fields"]


def test_the_api_reads_and_changes_the_organization(
    client: TestClient, bearer: dict[str, str]
) -> None:
    shown_before = client.get("/api/v1/organization", headers=bearer).json()
    assert shown_before["legal_name"] and shown_before["missing_for_publishing"] == []
    changed = client.patch(
        "/api/v1/organization",
        json={"sender_name": "Boutique Démo", "default_language": "en"},
        headers=bearer,
    )
    assert changed.status_code == 200
    assert changed.json()["sender_name"] == "Boutique Démo"
    assert changed.json()["legal_name"] == shown_before["legal_name"], "the others are kept"
    unknown = client.patch("/api/v1/organization", json={"owner": "x"}, headers=bearer)
    assert unknown.status_code == 422 and "owner" in unknown.json()["error"]["fields"]
    malformed = client.patch(
        "/api/v1/organization", json={"privacy_contact": "nobody"}, headers=bearer
    )
    assert malformed.status_code == 422
    zone = client.patch(
        "/api/v1/organization", json={"default_timezone": "Mars/Base"}, headers=bearer
    )
    assert zone.status_code == 422
