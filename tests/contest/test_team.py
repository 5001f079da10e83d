"""Members and roles: an owner invites a colleague by e-mail, the colleague joins from the link
and works within their role; every sensitive action is in the audit log the owner reads."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import apitokens
from contest.demo import demo_password
from contest.mail import Sender
from contest.roles import Role
from contest.settings import Settings
from tests.conftest import NOW
from tests.helpers import link_in, read_eml, shown, sign_in

PASSWORD = "a colleague's long password"


def csrf_of(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)  # type: ignore[union-attr]


def invite(client: TestClient, email: str, role: str) -> object:
    return client.post(
        "/admin/members",
        data={"csrf": csrf_of(client, "/admin/members"), "email": email, "role": role},
        follow_redirects=False,
    )


def join_from_mail(client: TestClient, sender: Sender, settings: Settings, email: str) -> None:
    """Opens the invitation e-mailed to ``email`` and joins with PASSWORD."""
    sender.run_once()
    messages = [m for m in read_eml(settings.mail_dir) if m["To"] == email]
    assert messages, "the invitation was e-mailed"
    url = link_in(messages[-1], r"http://testserver/admin/join/[^\s\"<]+")
    client.cookies.clear()
    form = client.get(url)
    assert form.status_code == 200 and email in shown(form)
    joined = client.post(
        url, data={"password": PASSWORD, "password2": PASSWORD}, follow_redirects=False
    )
    assert joined.status_code == 303, joined.text


def test_an_invited_viewer_joins_and_may_only_read(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    assert invite(client, "viewer@agency.example", "viewer").status_code == 303
    members = shown(client.get("/admin/members"))
    assert "viewer@agency.example" in members and "Invité le" in members

    join_from_mail(client, sender, settings, "viewer@agency.example")
    home = client.get("/admin/")
    assert home.status_code == 200
    assert "/admin/members" not in home.text, "a viewer is not offered the owners' pages"
    assert client.get("/admin/leads").status_code == 403
    assert client.get("/admin/leads.csv").status_code == 403
    assert client.get("/admin/members").status_code == 403
    assert client.get("/admin/connections").status_code == 403
    with engine.connect() as connection:
        closed = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug = 'demo-closed'")
        ).scalar_one()
    token = csrf_of(client, f"/admin/contests/{closed}")
    refused = client.post(f"/admin/contests/{closed}/draw", data={"csrf": token})
    assert refused.status_code == 403 and "rôle" in shown(refused)
    with engine.connect() as connection:
        status = connection.execute(
            sa.text("SELECT status FROM contest WHERE id = :id"), {"id": closed}
        ).scalar_one()
    assert status == "closed", "the viewer's draw did not run"


def test_an_editor_runs_contests_but_not_connections_members_or_tokens(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    invite(client, "editor@shop.example", "editor")
    join_from_mail(client, sender, settings, "editor@shop.example")
    assert client.get("/admin/leads").status_code == 200
    assert client.get("/admin/contests/new").status_code == 200
    for path in ("/admin/connections", "/admin/members", "/admin/api-tokens", "/admin/audit"):
        assert client.get(path).status_code == 403, path
    # Signing in again later works with the chosen password.
    client.cookies.clear()
    assert sign_in(client, "editor@shop.example", PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_the_owner_changes_a_role_and_removes_a_member_who_is_signed_out_at_once(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    owner = TestClient(client.app, base_url="http://testserver")
    sign_in(owner, "demo@example.org", demo_password(settings))
    invite(owner, "colleague@shop.example", "editor")
    join_from_mail(client, sender, settings, "colleague@shop.example")
    assert client.get("/admin/leads").status_code == 200
    with engine.connect() as connection:
        member_id = connection.execute(
            sa.text("SELECT id FROM member WHERE email = 'colleague@shop.example'")
        ).scalar_one()
    changed = owner.post(
        f"/admin/members/{member_id}/role",
        data={"csrf": csrf_of(owner, "/admin/members"), "role": "viewer"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert client.get("/admin/leads", follow_redirects=False).status_code == 303, (
        "the role change signed the colleague out"
    )
    sign_in(client, "colleague@shop.example", PASSWORD)
    assert client.get("/admin/leads").status_code == 403, "signed in again as a viewer"
    owner.post(
        f"/admin/members/{member_id}/remove", data={"csrf": csrf_of(owner, "/admin/members")}
    )
    assert client.get("/admin/", follow_redirects=False).status_code == 303
    assert sign_in(client, "colleague@shop.example", PASSWORD).status_code == 401  # type: ignore[attr-defined]


def test_an_invitation_works_once_and_an_address_has_one_account(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    taken = invite(client, "demo@example.org", "editor")
    assert taken.status_code == 409 and "déjà un compte" in shown(taken)
    bad = invite(client, "not an address", "editor")
    assert bad.status_code == 409 or bad.status_code == 422  # type: ignore[attr-defined]
    invite(client, "once@shop.example", "viewer")
    sender.run_once()
    message = [m for m in read_eml(settings.mail_dir) if m["To"] == "once@shop.example"][-1]
    assert "lecteur" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    url = link_in(message, r"http://testserver/admin/join/[^\s\"<]+")
    client.cookies.clear()
    client.post(url, data={"password": PASSWORD, "password2": PASSWORD})
    client.cookies.clear()
    again = client.get(url)
    assert again.status_code == 400 and "pas valide" in shown(again)


def test_the_audit_log_names_who_did_what_and_downloads_as_csv(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    invite(client, "auditor@shop.example", "viewer")
    client.get("/admin/leads.csv?purpose=marketing")
    log = shown(client.get("/admin/audit"))
    assert "Membre invité" in log and "demo@example.org" in log
    download = client.get("/admin/audit.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    invited = [row for row in rows if row["action"] == "member.invited"]
    assert invited and invited[0]["actor"] == "demo@example.org"
    assert "auditor@shop.example" in invited[0]["detail"]


def test_tokens_carry_a_role_that_the_api_enforces(
    client: TestClient, engine: Engine, bearer: dict[str, str]
) -> None:
    with engine.begin() as connection:
        organizer_id = connection.execute(
            sa.text("SELECT id FROM organizer WHERE email = 'demo@example.org'")
        ).scalar_one()
        closed = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug = 'demo-closed'")
        ).scalar_one()
        viewer = apitokens.create_token(connection, organizer_id, "dashboard", NOW, Role.VIEWER)
        editor = apitokens.create_token(connection, organizer_id, "agency", NOW, Role.EDITOR)
    as_viewer = {"Authorization": f"Bearer {viewer.token}"}
    as_editor = {"Authorization": f"Bearer {editor.token}"}
    assert client.get("/api/v1/contests", headers=as_viewer).status_code == 200
    refused = client.post(f"/api/v1/contests/{closed}/draw", headers=as_viewer)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert client.get(f"/api/v1/contests/{closed}/entries", headers=as_viewer).status_code == 403
    assert client.get("/api/v1/shop-connections", headers=as_editor).status_code == 403
    assert client.get("/api/v1/members", headers=as_editor).status_code == 403
    assert client.get("/api/v1/members", headers=bearer).status_code == 200
    drawn = client.post(f"/api/v1/contests/{closed}/draw", headers=as_editor)
    assert drawn.status_code == 201
    log = client.get("/api/v1/audit", headers=bearer).json()
    assert any(
        item["action"] == "contest.drawn" and item["actor"] == "api:agency" for item in log["items"]
    )


def test_members_are_managed_through_the_api(
    client: TestClient, bearer: dict[str, str], sender: Sender, settings: Settings
) -> None:
    invited = client.post(
        "/api/v1/members", json={"email": "api@agency.example", "role": "editor"}, headers=bearer
    )
    assert invited.status_code == 201 and invited.json()["joined_at"] is None
    member_id = invited.json()["id"]
    changed = client.patch(f"/api/v1/members/{member_id}", json={"role": "viewer"}, headers=bearer)
    assert changed.status_code == 200 and changed.json()["role"] == "viewer"
    listed = client.get("/api/v1/members", headers=bearer).json()["items"]
    assert listed[0]["role"] == "owner" and listed[0]["id"] is None
    assert client.delete(f"/api/v1/members/{member_id}", headers=bearer).status_code == 204
    assert client.delete(f"/api/v1/members/{member_id}", headers=bearer).status_code == 404
    taken = client.post(
        "/api/v1/members", json={"email": "demo@example.org", "role": "viewer"}, headers=bearer
    )
    assert taken.status_code == 409
    english = {"email": "en@agency.example", "role": "viewer", "language": "en"}
    assert client.post("/api/v1/members", json=english, headers=bearer).status_code == 201
    sender.run_once()
    (mail,) = [m for m in read_eml(settings.mail_dir) if m["To"] == "en@agency.example"]
    assert "viewer" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    unknown = {"email": "de@agency.example", "role": "viewer", "language": "de"}
    assert client.post("/api/v1/members", json=unknown, headers=bearer).status_code == 422


def test_a_withdrawn_invitation_never_opens_the_next_one(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    """SQLite gives a removed member's id to the next one invited: the first link, still
    within its seven days, must not open the second person's invitation."""
    owner = TestClient(client.app, base_url="http://testserver")
    sign_in(owner, "demo@example.org", demo_password(settings))
    invite(owner, "withdrawn@shop.example", "viewer")
    sender.run_once()
    first = [m for m in read_eml(settings.mail_dir) if m["To"] == "withdrawn@shop.example"][-1]
    old_link = link_in(first, r"http://testserver/admin/join/[^\s\"<]+")
    with engine.connect() as connection:
        first_id = connection.execute(
            sa.text("SELECT id FROM member WHERE email = 'withdrawn@shop.example'")
        ).scalar_one()
    owner.post(f"/admin/members/{first_id}/remove", data={"csrf": csrf_of(owner, "/admin/members")})
    invite(owner, "next@shop.example", "editor")
    opened = client.get(old_link)
    assert opened.status_code == 400 and "next@shop.example" not in opened.text
    taken = client.post(old_link, data={"password": PASSWORD, "password2": PASSWORD})
    assert taken.status_code == 400
    join_from_mail(client, sender, settings, "next@shop.example")  # theirs still works
