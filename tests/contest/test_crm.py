"""Leads pushed to a CRM through the outbox: Brevo's contacts API and a signed webhook.

The fake Brevo follows https://developers.brevo.com/reference/createcontact (POST /v3/contacts
with an ``api-key`` header: 201 with the new id, 204 when ``updateEnabled`` updated it, 401
``unauthorized``) and https://developers.brevo.com/reference/deletecontact (204, 404).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import outbox, tables
from contest.demo import demo_password
from contest.mail import Sender
from contest.prizes.shops import verify_webhook_signature
from contest.settings import Settings
from tests.helpers import form_token, link_in, read_eml, shown, sign_in
from tests.viral.referral_steps import enter_and_confirm


class FakeCrm(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[tuple[str, str, dict[str, str], bytes]] = []
        self.contacts: dict[str, dict[str, object]] = {}
        self.fail_next: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeCrm

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: dict[str, object] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.append(("POST", self.path, dict(self.headers), body))
        if self.server.fail_next is not None:
            status, self.server.fail_next = self.server.fail_next, None
            self._answer(status, {"code": "error", "message": "failing on purpose"})
            return
        if self.path == "/v3/contacts":
            if self.headers.get("api-key") != "brevo-key":
                self._answer(401, {"code": "unauthorized", "message": "Key not found"})
                return
            contact = json.loads(body)
            existed = contact["email"] in self.server.contacts
            self.server.contacts[contact["email"]] = contact
            self._answer(204 if existed else 201, None if existed else {"id": 1})
            return
        self._answer(200, {"ok": True})

    def do_DELETE(self) -> None:  # DELETE /v3/contacts/{email}: 204, or 404 when unknown
        self.server.received.append(("DELETE", self.path, dict(self.headers), b""))
        email = unquote(self.path.removeprefix("/v3/contacts/"))
        if self.server.fail_next is not None:  # an error that quotes the contact, as APIs do
            status, self.server.fail_next = self.server.fail_next, None
            self._answer(status, {"code": "invalid_parameter", "message": f"{email}: refused"})
            return
        if self.server.contacts.pop(email, None) is None:
            self._answer(404, {"code": "document_not_found", "message": "Contact does not exist"})
        else:
            self._answer(204)

    def do_GET(self) -> None:  # GET /v3/account, GET /v3/contacts/lists/{id}
        self.server.received.append(("GET", self.path, dict(self.headers), b""))
        if self.headers.get("api-key") != "brevo-key":
            self._answer(401, {"code": "unauthorized", "message": "Key not found"})
        elif self.path == "/v3/account":
            self._answer(200, {"email": "owner@shop.example", "companyName": "La Boutique"})
        elif self.path == "/v3/contacts/lists/3":
            self._answer(200, {"id": 3, "name": "Jeu concours", "totalSubscribers": 0})
        else:
            self._answer(404, {"code": "document_not_found", "message": "List ID does not exist"})


@pytest.fixture
def crm_server() -> Iterator[FakeCrm]:
    server = FakeCrm()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def connect(engine: Engine, kind: str, settings: dict[str, str]) -> None:
    with engine.begin() as connection:
        organizer_id = connection.execute(
            sa.text("SELECT id FROM organizer WHERE email = 'demo@example.org'")
        ).scalar_one()
        connection.execute(
            sa.insert(tables.crmconnection).values(
                organizer_id=organizer_id,
                kind=kind,
                settings=settings,
                updated_at=sa.func.current_timestamp(),
            )
        )


def crm_rows(engine: Engine) -> list[tuple[str, str, str, object]]:
    outbox = tables.outboxmessage
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                outbox.c.template, outbox.c.status, outbox.c.last_error, outbox.c.payload
            ).where(outbox.c.kind == "crm")
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_confirmed_opt_in_reaches_brevo_once_and_leaves_no_address_behind(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, crm_server: FakeCrm
) -> None:
    connect(
        engine,
        "brevo",
        {"api_key": "brevo-key", "base_url": f"{crm_server.url}/v3", "list_id": "7"},
    )
    enter_and_confirm_with_marketing(client, sender, settings, "lead@example.org")
    sender.run_once()
    assert crm_server.contacts["lead@example.org"]["listIds"] == [7]
    assert crm_server.contacts["lead@example.org"]["updateEnabled"] is True
    [(template, status, _error, payload)] = crm_rows(engine)
    assert template == "lead.created" and status == "sent"
    assert "lead@example.org" not in json.dumps(payload), "the log keeps the event, not the person"


def test_brevo_refusals_are_logged_and_outages_retried(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, crm_server: FakeCrm
) -> None:
    connect(engine, "brevo", {"api_key": "wrong-key", "base_url": f"{crm_server.url}/v3"})
    enter_and_confirm_with_marketing(client, sender, settings, "lead@example.org")
    sender.run_once()
    [(_t, status, error, _p)] = crm_rows(engine)
    assert status == "failed" and "401" in error
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM outboxmessage WHERE kind = 'crm'"))
        connection.execute(
            sa.text("UPDATE crmconnection SET settings = :s"),
            {"s": json.dumps({"api_key": "brevo-key", "base_url": f"{crm_server.url}/v3"})},
        )
    crm_server.fail_next = 503
    enter_and_confirm_with_marketing(client, sender, settings, "other@example.org")
    sender.run_once()
    [(_t, status, _e, _p)] = crm_rows(engine)
    assert status == "pending", "a 503 is retried later"


def test_webhook_events_are_signed(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, crm_server: FakeCrm
) -> None:
    connect(engine, "webhook", {"url": f"{crm_server.url}/hook", "secret": "a-long-webhook-secret"})
    enter_and_confirm_with_marketing(client, sender, settings, "lead@example.org")
    sender.run_once()
    [(method, path, headers, body)] = crm_server.received
    assert (method, path) == ("POST", "/hook")
    assert verify_webhook_signature("a-long-webhook-secret", body, headers["X-Contest-Signature"])
    event = json.loads(body)
    assert event["type"] == "lead.created" and event["data"]["email"] == "lead@example.org"
    assert headers["Idempotency-Key"].startswith("crm:lead.created:")
    preferences = event["data"]["preferences_url"]
    assert preferences.startswith("http://testserver/unsubscribe/")
    page = client.get(preferences.removeprefix("http://testserver"))
    assert page.status_code == 200 and "Offres par e-mail" in page.text
    with engine.connect() as connection:
        kept = connection.execute(sa.select(tables.outboxmessage.c.payload)).scalars().all()
    assert all("preferences_url" not in json.dumps(p) for p in kept), "added when sent, not kept"


def test_no_event_without_marketing_consent(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, crm_server: FakeCrm
) -> None:
    connect(engine, "webhook", {"url": f"{crm_server.url}/hook", "secret": "a-long-webhook-secret"})
    enter_and_confirm(client, sender, settings, "quiet@example.org")
    sender.run_once()
    assert crm_server.received == []


def enter_and_confirm_with_marketing(
    client: TestClient, sender: Sender, settings: Settings, email: str
) -> str:
    """As referral_steps.enter_and_confirm, with the organizer's e-mail offers box ticked."""
    import re

    page = client.get("/c/demo")
    data = {
        "form_token": form_token(page.text),
        "email": email,
        "accept_rules": "on",
        "consent_marketing_email": "on",
    }
    client.post("/c/demo/entries", data=data)
    sender.run_once()
    mail = [m for m in read_eml(settings.mail_dir) if m["To"] == email][-1]
    link = link_in(mail, r"http://testserver/c/demo/confirm/\S+").removeprefix("http://testserver")
    own = client.post(link, follow_redirects=False).headers["location"]
    assert re.search(r'data-chances="1"', client.get(own).text)
    return own


def test_the_brevo_connection_is_set_up_and_tested_from_the_workspace(
    client: TestClient, settings: Settings, crm_server: FakeCrm
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    path = "/admin/connections/crm/new?kind=brevo"
    form = client.get(path).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    assert "Adresse de l'API" in form, "Brevo's address, not the shop's"
    assert "Adresse de la boutique" not in form
    fields = {"csrf": csrf, "base_url": crm_server.url + "/v3", "list_id": "4"}
    saved = client.post(path, data={**fields, "api_key": "brevo-key"}, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get("/admin/connections").text
    assert "brevo-key" not in page
    assert "<dt>Adresse de l'API</dt>" in page
    connection_id = re.search(r"/admin/connections/crm/(\d+)/test", page).group(1)  # type: ignore[union-attr]

    missing_list = client.post(f"/admin/connections/crm/{connection_id}/test", data={"csrf": csrf})
    assert "List ID does not exist" in shown(missing_list)

    edit = f"/admin/connections/crm/{connection_id}/edit"
    changed = client.post(edit, data={**fields, "list_id": "3", "api_key": ""})
    assert changed.status_code in (200, 303), shown(changed)  # the blank key keeps the stored one
    tested = client.post(f"/admin/connections/crm/{connection_id}/test", data={"csrf": csrf})
    assert "Brevo answered: account La Boutique, list 3 found" in shown(tested)
    assert all(request[2].get("api-key") == "brevo-key" for request in crm_server.received)


def erase(client: TestClient, own: str) -> None:
    page = client.get(own + "/erase")
    assert page.status_code == 200
    assert client.post(own + "/erase").status_code == 200


def test_an_erasure_deletes_the_brevo_contact_and_every_copy_of_the_address(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, crm_server: FakeCrm
) -> None:
    connect(engine, "brevo", {"api_key": "brevo-key", "base_url": f"{crm_server.url}/v3"})
    own = enter_and_confirm_with_marketing(client, sender, settings, "lead@example.org")
    sender.run_once()
    assert "lead@example.org" in crm_server.contacts
    assert [m for m in read_eml(settings.mail_dir) if m["To"] == "lead@example.org"]

    erase(client, own)
    sender.run_once()
    assert "lead@example.org" not in crm_server.contacts, "Brevo deleted the contact"
    assert ("DELETE", "/v3/contacts/lead%40example.org") in [r[:2] for r in crm_server.received]
    assert [m for m in read_eml(settings.mail_dir) if m["To"] == "lead@example.org"] == []
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(tables.outboxmessage.c.recipient, tables.outboxmessage.c.payload).where(
                tables.outboxmessage.c.kind == "crm"
            )
        ).all()
    assert all("lead@example.org" not in f"{r.recipient} {json.dumps(r.payload)}" for r in rows)


def test_an_erasure_reaches_the_webhook_as_a_pseudonym_only_its_receiver_can_match(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, crm_server: FakeCrm
) -> None:
    secret = "a-long-webhook-secret"
    connect(engine, "webhook", {"url": f"{crm_server.url}/hook", "secret": secret})
    own = enter_and_confirm_with_marketing(client, sender, settings, "lead@example.org")
    sender.run_once()
    erase(client, own)
    sender.run_once()
    erased = [json.loads(body) for *_, body in crm_server.received if b"lead.erased" in body]
    assert len(erased) == 1 and "example.org" not in json.dumps(erased[0]).lower()
    expected = hmac.new(secret.encode(), b"lead@example.org", hashlib.sha256).hexdigest()
    assert erased[0]["data"] == {"email_hmac_sha256": expected}


@pytest.mark.parametrize("give_up", ["refused", "retried past the last attempt"])
def test_an_erasure_the_crm_never_takes_forgets_the_address_when_given_up(
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    crm_server: FakeCrm,
    give_up: str,
) -> None:
    connect(engine, "brevo", {"api_key": "brevo-key", "base_url": f"{crm_server.url}/v3"})
    own = enter_and_confirm_with_marketing(client, sender, settings, "lead@example.org")
    sender.run_once()
    erase(client, own)
    outbox_t = tables.outboxmessage
    erasure = sa.and_(outbox_t.c.kind == "crm", outbox_t.c.template == "lead.erased")
    if give_up == "refused":
        crm_server.fail_next = 400  # for good: not retried
    else:
        crm_server.fail_next = 503  # retried, but this is the last attempt
        with engine.begin() as connection:
            connection.execute(
                sa.update(outbox_t).where(erasure).values(attempts=outbox.MAX_ATTEMPTS - 1)
            )
    sender.run_once()
    assert ("DELETE", "/v3/contacts/lead%40example.org") in [r[:2] for r in crm_server.received]
    with engine.connect() as connection:
        [row] = connection.execute(sa.select(outbox_t).where(erasure)).mappings().all()
    assert row["status"] == "failed", "given up, and still shown to the organizer"
    assert row["recipient"].startswith("lead.erased:"), "a pseudonym: the event's key"
    assert str(400 if give_up == "refused" else 503) in row["last_error"]
    everything = json.dumps({name: str(value) for name, value in row.items()}).lower()
    assert "lead@example.org" not in everything and "lead%40example.org" not in everything
