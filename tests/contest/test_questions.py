"""Qualifying questions (issue 19): the organizer sets up to five on the entry form, by the API
or the workspace form; the entry form asks them and refuses a missing required answer or an
answer it does not offer; the answers are kept with the entry, filter the leads, score them,
go to the CSV export and the CRM, belong to the person's data (exported, erased), and a
question about health is warned about (EU-MINIMIZE-1)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.clock import FixedClock
from contest.i18n import gettext
from contest.mail import Sender
from contest.settings import Settings
from tests.contest.test_organization import EMAIL, PASSWORD
from tests.contest.test_organizer import VALID
from tests.contest.test_rules_changes import api, published  # noqa: F401
from tests.contest.test_self_service import SECRET, contest_body
from tests.helpers import enter, link_in, read_eml, shown, sign_in
from tests.shop_servers import WebhookReceiver

API = tuple[TestClient, dict[str, str]]
SKIN = {
    "text": "Quel est votre type de peau ?",
    "text_translation": "What is your skin type?",
    "choices": ["Sèche", "Grasse", "Mixte"],
    "choices_translation": ["Dry", "Oily", "Combination"],
    "required": True,
    "maps_to": "segment",
    "target": "peau",
}
INTERESTS = {
    "text": "Quels produits vous intéressent ?",
    "text_translation": "Which products interest you?",
    "choices": ["Soins", "Maquillage", "Parfums"],
    "choices_translation": ["Skincare", "Make-up", "Fragrances"],
    "multiple": True,
    "maps_to": "crm_field",
    "target": "INTERESTS",
}


def with_questions(clock: FixedClock, *questions: dict[str, Any]) -> dict[str, Any]:
    return contest_body(clock) | {"questions": list(questions)}


def entries(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(tables.entry.c.answers)).scalars())


def enter_and_confirm(
    client: TestClient, sender: Sender, settings: Settings, email: str, **fields: Any
) -> str:
    """Enters ``summer`` with the e-mail offers box ticked and confirms; the own page's path."""
    entered = enter(client, "summer", email=email, consent_marketing_email="on", **fields)
    assert entered.status_code == 303, shown(entered)  # type: ignore[attr-defined]
    sender.run_once()
    [mail] = [m for m in read_eml(settings.mail_dir) if m["To"] == email]
    link = link_in(mail, r"http://testserver/c/summer/confirm/\S+")
    confirmed = client.post(link.removeprefix("http://testserver"), follow_redirects=False)
    assert confirmed.status_code == 303
    return str(confirmed.headers["location"])


def test_questions_are_set_by_the_api_and_kept_once_the_contest_is_published(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    question_schema = schema["ContestSettings"]["properties"]["questions"]
    assert question_schema["maxItems"] == 5
    assert {"text", "choices", "required", "maps_to", "target"} <= set(
        question_schema["items"]["properties"]
    )
    assert "questions" in schema["Contest"]["properties"]

    created = client.post("/api/v1/contests", json=with_questions(clock, SKIN), headers=headers)
    assert created.status_code == 201, created.text
    path = f"/api/v1/contests/{created.json()['id']}"
    [stored] = created.json()["questions"]
    assert stored["choice_keys"] == ["seche", "grasse", "mixte"]
    assert stored["required"] is True and stored["multiple"] is False

    one_answer = dict(INTERESTS, choices=["Soins"], choices_translation=["Skincare"])
    refused = client.patch(path, json={"questions": [SKIN, one_answer]}, headers=headers)
    assert refused.status_code == 422 and "question-1-choices" in refused.text
    same_target = dict(INTERESTS, target="PEAU")
    refused = client.patch(path, json={"questions": [SKIN, same_target]}, headers=headers)
    assert refused.status_code == 422 and "question-1-target" in refused.text

    echoed = client.get(path, headers=headers).json()["questions"] + [INTERESTS]
    changed = client.patch(path, json={"questions": echoed}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert [q["target"] for q in changed.json()["questions"]] == ["peau", "INTERESTS"]
    kept = client.patch(path, json={"title": "Summer vouchers 2"}, headers=headers)
    assert len(kept.json()["questions"]) == 2, "a change of something else keeps them"
    emptied = client.patch(path, json={"questions": []}, headers=headers)
    assert emptied.json()["questions"] == []
    client.patch(path, json={"questions": [SKIN, INTERESTS]}, headers=headers)

    assert client.post(path + "/publish", headers=headers).status_code == 200
    before = client.get(path, headers=headers).json()["questions"]
    client.patch(path, json={"questions": [SKIN], "reason": "One question less"}, headers=headers)
    assert client.get(path, headers=headers).json()["questions"] == before


def test_questions_are_set_in_the_workspace_form(
    api: API,  # noqa: F811
) -> None:
    client, headers = api
    sign_in(client, EMAIL, PASSWORD)
    form = client.get("/admin/contests/new").text
    assert 'name="question-0-text"' in form and 'name="question-4-target"' in form
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    questions = {
        "question-0-text": SKIN["text"],
        "question-0-text_translation": SKIN["text_translation"],
        "question-0-choices": "Sèche\r\nGrasse\r\nMixte",
        "question-0-choices_translation": "Dry\r\nOily\r\nCombination",
        "question-0-required": "on",
        "question-0-maps_to": "segment",
        "question-0-target": "peau",
        "question-1-text": "Quels produits ?",
        "question-1-choices": "Soins\r\nParfums",
    }
    refused = client.post("/admin/contests/new", data={**VALID, **questions, "csrf": csrf})
    assert refused.status_code == 422
    assert 'id="e-question-1-target"' in refused.text, "the missing target is said beside it"
    typed = r'<textarea id="f-question-0-choices"[^>]*>Sèche\s+Grasse\s+Mixte</textarea>'
    assert re.search(typed, shown(refused)), "what was typed is shown again"

    questions["question-1-target"] = "PRODUITS"
    questions["question-1-maps_to"] = "crm_field"
    questions["question-1-multiple"] = "on"
    saved = client.post(
        "/admin/contests/new",
        data={**VALID, **questions, "csrf": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303, shown(saved)
    contest_id = saved.headers["location"].rstrip("/").split("/")[-1]
    stored = client.get(f"/api/v1/contests/{contest_id}", headers=headers).json()["questions"]
    assert [(q["target"], q["required"], q["multiple"]) for q in stored] == [
        ("peau", True, False),
        ("PRODUITS", False, True),
    ]
    assert stored[0]["choices_translation"] == ["Dry", "Oily", "Combination"]
    edit = shown(client.get(f"/admin/contests/{contest_id}/edit"))
    assert 'value="Quel est votre type de peau ?"' in edit and re.search(typed, edit)

    publish = client.post(f"/api/v1/contests/{contest_id}/publish", headers=headers)
    assert publish.status_code == 200, publish.text
    frozen = shown(client.get(f"/admin/contests/{contest_id}/edit"))
    assert '<input type="hidden" name="question-0-target" value="peau">' in frozen
    assert 'id="f-question-0-text"' not in frozen, "no field invites a change"
    changed = {**questions, "question-0-text": "Autre question ?"}
    saved = client.post(
        f"/admin/contests/{contest_id}/edit",
        data={**VALID, **changed, "csrf": csrf, "reason": "Une autre question"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, shown(saved)
    after = client.get(f"/api/v1/contests/{contest_id}", headers=headers).json()["questions"]
    assert after == stored, "a published contest keeps its questions"


def test_a_required_question_unanswered_or_an_unknown_answer_is_refused_and_nothing_written(
    api: API,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
) -> None:
    client, headers = api
    published(client, headers, with_questions(clock, SKIN, INTERESTS))
    page = client.get("/c/summer").text
    assert re.search(r"<legend>Quel est votre type de peau \? <span class=\"required\">", page)
    assert 'type="radio" value="seche"' in page and 'type="checkbox" value="parfums"' in page
    english = client.get("/c/summer?lang=en").text
    assert "What is your skin type?" in english and re.search(
        r'value="seche"[^>]*>\s*<label[^>]*>Dry</label>', english
    )
    client.cookies.clear()

    unanswered = enter(client, "summer", email="ann@example.org")
    assert unanswered.status_code == 422  # type: ignore[attr-defined]
    assert re.search(
        r'<p class="error" id="e-answer-peau">'
        + re.escape(gettext("fr", "Please answer this question.")),
        unanswered.text,  # type: ignore[attr-defined]
    )
    unknown = enter(client, "summer", email="ann@example.org", **{"answer-peau": "rouge"})
    assert unknown.status_code == 422  # type: ignore[attr-defined]
    assert gettext("fr", "Please choose among the answers offered.") in shown(unknown)
    two = enter(client, "summer", email="ann@example.org", **{"answer-peau": ["seche", "mixte"]})
    assert two.status_code == 422  # type: ignore[attr-defined]
    assert 'value="mixte" checked' in two.text, "the answers are ticked again"  # type: ignore[attr-defined]
    assert entries(engine) == []

    taken = enter(
        client,
        "summer",
        email="ann@example.org",
        **{"answer-peau": "seche", "answer-INTERESTS": ["soins", "parfums"]},
    )
    assert taken.status_code == 303  # type: ignore[attr-defined]
    assert entries(engine) == [
        {"first_name": "Ann", "questions": {"peau": ["seche"], "INTERESTS": ["soins", "parfums"]}}
    ]


def test_answers_filter_the_leads_go_to_the_export_and_belong_to_the_person(
    api: API,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
    sender: Sender,
    settings: Settings,
) -> None:
    client, headers = api
    path = published(client, headers, with_questions(clock, SKIN, INTERESTS))
    contest_id = path.rsplit("/", 1)[-1]
    own = enter_and_confirm(client, sender, settings, "ann@example.org", **{"answer-peau": "seche"})
    enter_and_confirm(
        client,
        sender,
        settings,
        "bob@example.org",
        **{"answer-peau": "grasse", "answer-INTERESTS": ["soins", "parfums"]},
    )
    by_api = client.get(
        "/api/v1/leads", params={"answer": f"{contest_id}:INTERESTS:parfums"}, headers=headers
    )
    assert [lead["email"] for lead in by_api.json()["items"]] == ["bob@example.org"]
    malformed = client.get("/api/v1/leads", params={"answer": "parfums"}, headers=headers)
    assert malformed.status_code == 400

    sign_in(client, EMAIL, PASSWORD)
    leads = client.get("/admin/leads").text
    assert f'<option value="{contest_id}:peau:seche">' in leads
    dry = client.get("/admin/leads", params={"answer": f"{contest_id}:peau:seche"}).text
    assert "ann@example.org" in dry and "bob@example.org" not in dry
    fragrance = client.get("/admin/leads", params={"answer": f"{contest_id}:INTERESTS:parfums"})
    assert "bob@example.org" in fragrance.text and "ann@example.org" not in fragrance.text
    ignored = client.get("/admin/leads", params={"answer": "999:peau:seche"}).text
    assert "ann@example.org" in ignored and "bob@example.org" in ignored

    exported = client.get("/admin/leads.csv", params={"contest": "summer"})
    assert exported.status_code == 200
    _note, header, *rows = list(csv.reader(io.StringIO(exported.text)))
    assert header[-2:] == ["preferences_url", "answers"]
    by_email = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert json.loads(by_email["bob@example.org"]["answers"]) == {
        "summer": {"peau": ["grasse"], "INTERESTS": ["soins", "parfums"]}
    }
    assert by_email["ann@example.org"]["segment"] == "warm_prospect", "an answer qualifies"
    basis = {"purpose": "prize_fulfilment", "lawful_basis": "remise des lots"}
    prizes = client.get("/admin/leads.csv", params={"contest": "summer", **basis})
    _note, _header, *rows = list(csv.reader(io.StringIO(prizes.text)))
    assert len(rows) == 2 and all(row[-1] == "" for row in rows), "prizes need no answers"

    client.cookies.clear()
    mine = client.get(own.rstrip("/") + "/data.json").json()
    assert mine["entries"][0]["answers"]["questions"] == {"peau": ["seche"]}
    erase = client.post(own.rstrip("/") + "/erase")
    assert erase.status_code == 200
    assert [a.get("questions") for a in entries(engine)] == [
        {"peau": ["grasse"], "INTERESTS": ["soins", "parfums"]}
    ], "Ann's answers are erased with her"


def test_the_crm_receives_the_answers_in_its_fields_and_as_segment_tags(
    api: API,  # noqa: F811
    clock: FixedClock,
    sender: Sender,
    settings: Settings,
) -> None:
    client, headers = api
    published(client, headers, with_questions(clock, SKIN, INTERESTS))
    with WebhookReceiver(SECRET) as crm:
        made = client.post(
            "/api/v1/crm-connections",
            json={"kind": "webhook", "settings": {"url": crm.endpoint, "secret": SECRET}},
            headers=headers,
        )
        assert made.status_code == 201, made.text
        answers = {"answer-peau": "mixte", "answer-INTERESTS": ["soins", "parfums"]}
        enter_and_confirm(client, sender, settings, "ann@example.org", **answers)
        sender.run_once()
    [event] = crm.events.values()
    assert event["type"] == "lead.created"
    data = event["data"]
    assert data["answers"] == {"peau": ["mixte"], "INTERESTS": ["soins", "parfums"]}
    assert data["crm_fields"] == {"INTERESTS": "Soins, Parfums"}
    assert data["tags"] == ["peau:mixte"]


@pytest.mark.rule("EU-MINIMIZE-1")
def test_a_question_about_health_is_warned_about_and_a_required_one_too(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    health = {
        "text": "Avez-vous un problème de santé de peau ?",
        "choices": ["Oui", "Non"],
        "target": "sante",
    }
    body = with_questions(clock, health, SKIN)
    created = client.post("/api/v1/contests", json=body, headers=headers)
    assert created.status_code == 201, created.text
    compliance = created.json()["compliance"]
    warned = {
        f["field"]: f
        for f in compliance["findings"]
        if f["rule_id"] == "EU-MINIMIZE-1" and f["severity"] == "warn"
    }
    assert set(warned) == {"questions[0]", "questions[1]"}
    assert "santé" in warned["questions[0]"]["message_fr"]
    assert "health" in warned["questions[0]"]["message_en"]
    assert "Quel est votre type de peau ?" in warned["questions[1]"]["message_fr"]
    assert compliance["ok"], "warnings do not stop publication"

    sign_in(client, EMAIL, PASSWORD)
    form = client.get("/admin/contests/new").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    panel = client.post(
        "/admin/contests/check",
        data={
            **VALID,
            "csrf": csrf,
            "question-0-text": health["text"],
            "question-0-choices": "Oui\nNon",
            "question-0-target": "sante",
        },
    )
    assert panel.status_code == 200
    assert 'data-rule="EU-MINIMIZE-1"' in panel.text and "santé" in shown(panel)
