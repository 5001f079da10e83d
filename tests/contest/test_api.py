"""The JSON API: bearer tokens, the same rule checks as the workspace, and its OpenAPI contract."""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from contest import apitokens
from contest.demo import demo_password
from contest.models import Organizer
from contest.passwords import hash_password
from contest.settings import Settings
from tests.helpers import enter, sign_in, token_via_workspace

CONTEST = {
    "title": "API contest",
    "slug": "api-contest",
    "language": "fr",
    "jurisdictions": ["FR"],
    "timezone": "Europe/Paris",
    "opens_at": "2026-01-01T09:00:00+01:00",
    "closes_at": "2099-12-31T18:00:00+01:00",
    "draw_at": "2100-01-02T10:00:00+01:00",
    "audience": "everyone",
    "min_age": 18,
    "form_fields": ["first_name"],
    "requires_purchase": True,
    "prizes": [
        {
            "description": "Bon d'achat de 50 €",
            "quantity": 2,
            "unit_value": "50.00",
            "currency": "EUR",
            "kind": "voucher",
            "voucher_min_order": "0",
            "voucher_validity_days": 365,
        }
    ],
    "draw_method": "Tirage au sort vérifiable.",
    "winner_notification": "par e-mail",
    "claim_days": 30,
    "privacy_notice": "La Boutique Démo traite vos données pour le jeu.",
    "retention_months": 12,
}


def test_calls_without_a_valid_token_are_refused(client: TestClient) -> None:
    assert client.get("/api/v1/contests").status_code == 401
    answer = client.get("/api/v1/contests", headers={"Authorization": "Bearer ctk_nope"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_purchase_refused_with_the_rule_id_then_fixed_published_and_entered(
    client: TestClient, bearer: dict[str, str]
) -> None:
    created = client.post("/api/v1/contests", json=CONTEST, headers=bearer)
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "draft" and body["compliance"]["ok"] is False
    assert "FR-NOPURCHASE-1" in {f["rule_id"] for f in body["compliance"]["findings"]}

    path = f"/api/v1/contests/{body['id']}"
    refused = client.post(path + "/publish", headers=bearer)
    assert refused.status_code == 422
    rules = refused.json()["error"]["rules"]
    assert "FR-NOPURCHASE-1" in {r["rule_id"] for r in rules}
    assert all(r["message_fr"] and r["message_en"] and r["source"] for r in rules)

    fixed = client.patch(path, json={"requires_purchase": False}, headers=bearer)
    assert fixed.status_code == 200 and fixed.json()["compliance"]["ok"] is True
    assert fixed.json()["prizes"][0]["quantity"] == 2, "unsent fields keep their values"
    published = client.post(path + "/publish", headers=bearer)
    assert published.status_code == 200 and published.json()["status"] == "open"

    assert enter(client, "api-contest", email="api-fan@example.org").status_code == 303
    page = client.get(path + "/entries", headers=bearer).json()
    assert [item["email"] for item in page["items"]] == [None], "unconfirmed, no consent"
    assert page["items"][0]["id"] and page["next"] is None


def test_invalid_fields_answer_422_with_both_languages(
    client: TestClient, bearer: dict[str, str]
) -> None:
    answer = client.post(
        "/api/v1/contests", json={**CONTEST, "slug": "Bad Slug", "min_age": "x"}, headers=bearer
    )
    assert answer.status_code == 422
    fields = answer.json()["error"]["fields"]
    assert set(fields) >= {"slug", "min_age"} and fields["slug"]["fr"] and fields["slug"]["en"]
    assert (
        client.post(
            "/api/v1/contests", content=b"{", headers={**bearer, "content-type": "application/json"}
        ).status_code
        == 400
    )


def test_one_organizer_never_sees_anothers_contest(
    client: TestClient, bearer: dict[str, str], engine: Engine
) -> None:
    contest_id = client.post("/api/v1/contests", json=CONTEST, headers=bearer).json()["id"]
    with Session(engine) as session:
        rival = Organizer(email="rival@example.com", password_hash=hash_password("rival password!"))
        session.add(rival)
        session.commit()
        assert rival.id is not None
        with engine.begin() as connection:
            token = apitokens.create_token(connection, rival.id, "rival", rival.created_at).token
    theirs = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/contests/{contest_id}", headers=theirs).status_code == 404
    assert client.get(f"/api/v1/contests/{contest_id}/entries", headers=theirs).status_code == 404
    assert client.post(f"/api/v1/contests/{contest_id}/publish", headers=theirs).status_code == 404
    assert client.get("/api/v1/contests", headers=theirs).json()["items"] == []


def test_clients_bulk_upsert_reports_refused_rows(
    client: TestClient, bearer: dict[str, str]
) -> None:
    answer = client.post(
        "/api/v1/clients",
        json={
            "clients": [
                {"email": "vip@example.org", "client_since": "2024-02-01", "orders_count": 9},
                {"email": "not-an-address", "client_since": "2024-02-01"},
            ]
        },
        headers=bearer,
    )
    assert answer.status_code == 200
    report = answer.json()
    assert report["created"] == 1
    assert [e["index"] for e in report["errors"]] == [1]


def test_revoked_token_stops_working(client: TestClient, settings: Settings) -> None:
    token = token_via_workspace(client, "demo@example.org", demo_password(settings))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/contests", headers=headers).status_code == 200
    sign_in(client, "demo@example.org", demo_password(settings))
    page = client.get("/admin/api-tokens").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    token_id = re.search(r"/admin/api-tokens/(\d+)/revoke", page).group(1)  # type: ignore[union-attr]
    client.post(f"/admin/api-tokens/{token_id}/revoke", data={"csrf": csrf})
    assert client.get("/api/v1/contests", headers=headers).status_code == 401


# --- The OpenAPI contract, checked by schemathesis -----------------------------------------


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def test_api_matches_its_openapi_document(client: TestClient, bearer: dict[str, str]) -> None:
    """Generated requests for every operation: never a 5xx, answers match the document."""
    client.post("/api/v1/contests", json={**CONTEST, "requires_purchase": False}, headers=bearer)
    client.app.state.contest.dns = lambda name: []  # type: ignore[attr-defined]  # no DNS
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 47
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            # Acceptance of every schema-valid body is not checked: some refusals (a taken
            # slug, a date out of range, an unknown time zone) cannot be said in the schema.
            case.call_and_validate(headers=bearer, checks=CHECKS)

        check()


def test_draws_run_once_and_read_through_the_api(
    client: TestClient, bearer: dict[str, str], engine: Engine
) -> None:
    import sqlalchemy as sa

    with engine.connect() as connection:
        closed = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug = 'demo-closed'")
        ).scalar_one()
        open_id = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug = 'demo'")
        ).scalar_one()
    assert client.get(f"/api/v1/contests/{closed}/draw", headers=bearer).status_code == 404
    refused = client.post(f"/api/v1/contests/{open_id}/draw", headers=bearer)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_closed"
    first = client.post(
        f"/api/v1/contests/{closed}/draw", json={"public_value": "42"}, headers=bearer
    )
    assert first.status_code == 201 and first.json()["public_value"] == "42"
    again = client.post(f"/api/v1/contests/{closed}/draw", headers=bearer)
    assert again.status_code == 200 and again.json() == first.json()
    assert client.get(f"/api/v1/contests/{closed}/draw", headers=bearer).json() == first.json()


def test_what_get_returns_patch_accepts_back_unchanged(
    client: TestClient, bearer: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/contests", json={**CONTEST, "accent_color": "#5a2ea6"}, headers=bearer
    )
    assert created.status_code == 201
    path = f"/api/v1/contests/{created.json()['id']}"
    shown = client.get(path, headers=bearer).json()
    assert shown["accent_color"] == "#5a2ea6", "every form field is in the API too"
    assert shown["prizes"][0]["rank"] == 1
    writable = {k: v for k, v in shown.items() if k not in {"id", "url", "status", "compliance"}}
    again = client.patch(path, json=writable, headers=bearer)
    assert again.status_code == 200, again.text
    assert {k: again.json()[k] for k in writable} == writable


def test_a_prize_rank_that_is_not_its_place_is_refused(
    client: TestClient, bearer: dict[str, str]
) -> None:
    prize = {**CONTEST["prizes"][0], "rank": 2}  # type: ignore[index]
    answer = client.post("/api/v1/contests", json={**CONTEST, "prizes": [prize]}, headers=bearer)
    assert answer.status_code == 422
    assert "prizes.0.rank" in answer.json()["error"]["fields"]


def test_an_empty_prize_list_removes_every_prize(
    client: TestClient, bearer: dict[str, str]
) -> None:
    created = client.post("/api/v1/contests", json=CONTEST, headers=bearer).json()
    path = f"/api/v1/contests/{created['id']}"
    emptied = client.patch(path, json={"prizes": []}, headers=bearer)
    assert emptied.status_code == 200
    assert emptied.json()["prizes"] == []


def test_an_unknown_territory_is_refused_and_a_blank_minimum_age_is_the_usual_18(
    client: TestClient, bearer: dict[str, str]
) -> None:
    for territory in (["XX"], ["FR", "US-NY"]):
        answer = client.post(
            "/api/v1/contests", json={**CONTEST, "jurisdictions": territory}, headers=bearer
        )
        assert answer.status_code == 422, "never dropped in silence"
        assert "jurisdictions" in answer.json()["error"]["fields"]
    created = client.post("/api/v1/contests", json={**CONTEST, "min_age": None}, headers=bearer)
    assert created.status_code == 201 and created.json()["min_age"] == 18


def test_a_setting_left_out_of_a_new_contest_keeps_its_default(
    client: TestClient, bearer: dict[str, str]
) -> None:
    """Leaving a field out is not unticking it: reminders stay on, the page stays a way to
    enter, the first name stays asked, as in the workspace's new form."""
    created = client.post("/api/v1/contests", json=CONTEST, headers=bearer)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["confirm_reminder"] and body["friend_mail"] and body["results_mail"]
    assert body["entry_channels"] == ["web"] and body["form_fields"] == ["first_name"]
