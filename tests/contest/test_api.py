"""The JSON API: bearer tokens, the same rule checks as the workspace, and its OpenAPI contract."""

from __future__ import annotations

import re

import schemathesis
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
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
    assert created.headers["location"] == "http://testserver" + path, "where to read it"
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

# Acceptance of every schema-valid request is checked except where the answer rests on what a
# schema cannot say: the state of other data or a rule across several fields. Each operation
# left out is named with its reason; its other checks (never a 5xx, invalid data refused,
# answers as documented, auth enforced) still run.
BEYOND_THE_SCHEMA = {
    "createContest": "a taken slug, dates out of order, legal rules across fields",
    "updateContest": "fields frozen once published, legal rules across fields",
    "publishContest": "the legal rules judge the whole contest",
    "createCampaign": "the contest must be one of yours and open; subject and body go together",
    "updateCampaign": "as createCampaign",
    "exportLeads": "a purpose's lawful basis (consent or another) is a legal rule",
    "updateOrganization": "a time zone must exist; a one-line field refuses control characters",
    "createShopConnection": "each shop has its own settings, checked by its connector",
    "createCrmConnection": "each CRM has its own settings, checked by its connector",
    "updateShopConnection": "as createShopConnection",
    "updateCrmConnection": "as createCrmConnection",
    "inviteMember": "an address on a public domain: email-validator refuses .test, .local",
    "setSendingDomain": "as inviteMember",
}


# Operations that read what a contest gets later, not when it is created: schemathesis links
# them to the contest's creation and would expect them there at once. Their 404 until then is
# documented, and tested for itself (test_draws_run_once_and_read_through_the_api).
NOT_THERE_YET = {
    "readDraw": "a contest has no draw record until it is drawn: 404 not_drawn",
}


def schemathesis_failures(client: TestClient, bearer: dict[str, str]) -> list[str]:
    """Every check schemathesis has, in all its phases (examples, coverage, fuzzing with
    valid and invalid data, stateful sequences): the failures found, one line each."""
    config = SchemathesisConfig.from_dict(
        {
            "headers": bearer,
            "workers": 1,
            "continue-on-failure": True,
            "checks": {"enabled": True},
            "generation": {"mode": "all", "max-examples": 10, "deterministic": True},
            "operations": [
                {
                    "include-operation-id": sorted(BEYOND_THE_SCHEMA),
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                },
                {
                    "include-operation-id": sorted(NOT_THERE_YET),
                    "checks": {"ensure_resource_availability": {"enabled": False}},
                },
            ],
        }
    )
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app, config=config)
    assert len(list(schema.get_all_operations())) == 47
    found: set[str] = set()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.FatalError | events.NonFatalError):
            found.add(f"error: {event.info.format()}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        for case_id, results in event.recorder.checks.items():
            case = event.recorder.cases[case_id].value
            for result in results:
                if result.failure_info is not None:
                    failure = result.failure_info.failure
                    exchange = event.recorder.interactions.get(case_id)
                    answer = exchange.response if exchange else None
                    answered = f"{answer.status_code} {answer.content[:200]!r}" if answer else ""
                    found.add(
                        f"{result.name}: {case.method} {case.formatted_path} {failure.title}: "
                        f"{failure.message[:300]}; sent {case.body!r:.300}; answered {answered}"
                    )
    return sorted(found)


def test_api_matches_its_openapi_document(client: TestClient, bearer: dict[str, str]) -> None:
    """Generated requests for every operation, with every check: never a 5xx, answers and
    statuses as documented, invalid data refused, valid data taken, auth enforced,
    unsupported methods answered 405."""
    client.post("/api/v1/contests", json={**CONTEST, "requires_purchase": False}, headers=bearer)
    client.app.state.contest.dns = lambda name: []  # type: ignore[attr-defined]  # no DNS
    failures = schemathesis_failures(client, bearer)
    assert not failures, "\n".join(failures)


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


def test_the_limits_the_document_declares_are_enforced(
    client: TestClient, bearer: dict[str, str], engine: Engine
) -> None:
    import sqlalchemy as sa

    with engine.connect() as connection:
        closed = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug = 'demo-closed'")
        ).scalar_one()
    too_many = client.get(f"/api/v1/contests/{closed}/entries?limit=501", headers=bearer)
    assert too_many.status_code == 400 and "limit" in too_many.json()["error"]["fields"]
    not_digits = client.get("/api/v1/audit?limit=1e2", headers=bearer)
    assert not_digits.status_code == 400
    draw = f"/api/v1/contests/{closed}/draw"
    long_value = client.post(draw, json={"public_value": "7" * 201}, headers=bearer)
    assert long_value.status_code == 422, "refused, not cut to 200 characters"
    assert long_value.json()["error"]["fields"]["public_value"]["fr"]
    assert client.get(draw, headers=bearer).status_code == 404, "nothing was drawn"
    wrong_shape = client.post(draw, json={"public_value": 42}, headers=bearer)
    assert wrong_shape.status_code == 422
    too_often = client.put("/api/v1/contact-limit", json={"limit": 2, "days": 7}, headers=bearer)
    assert too_often.status_code == 422, "7 days per message: the document says so too"
    whole = client.put("/api/v1/contact-limit", json={"limit": 2.0, "days": 14}, headers=bearer)
    assert whole.status_code == 200 and whole.json() == {"limit": 2, "days": 14}


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
