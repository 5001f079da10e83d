"""The contest question and its tie-breaker ("question subsidiaire"): only the right answers
take part; ranked by the tie-breaker, the closest answers win, ex aequo ordered by the draw's
seed, and ``contest verify-draw`` recomputes the ranking from the published record."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from contest.clock import FixedClock
from contest.mail import Sender
from contest.settings import Settings
from tests.contest.test_organizer import VALID, csrf, organizer  # noqa: F401
from tests.contest.test_rules_changes import api  # noqa: F401
from tests.contest.test_self_service import contest_body, enter_and_confirm
from tests.helpers import check_record, enter, shown

API = tuple[TestClient, dict[str, str]]
QUESTION = {
    "question": "De quelle couleur est notre logo ?",
    "question_translation": "What colour is our logo?",
    "question_choices": ["Bleu", "Rouge", "Vert"],
    "question_answer": "Bleu",
}
TIEBREAKER = {
    "tiebreaker": "Combien de participations seront confirmées à la clôture ?",
    "tiebreaker_translation": "How many entries will be confirmed at the close?",
}


def question_body(clock: FixedClock, **fields: Any) -> dict[str, Any]:
    prize = dict(contest_body(clock)["prizes"][0], quantity=2)  # type: ignore[index]
    return contest_body(clock) | {
        "randomness": "lottery",
        "randomness_detail": "EuroMillions of the draw day",
        "prizes": [prize],
        **QUESTION,
        **fields,
    }


def publish(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    created = client.post("/api/v1/contests", json=body, headers=headers)
    assert created.status_code == 201, created.text
    path = f"/api/v1/contests/{created.json()['id']}"
    published = client.post(path + "/publish", headers=headers)
    assert published.status_code == 200, published.text
    return path


def test_the_form_asks_the_question_and_only_right_answers_are_drawn(
    api: API,  # noqa: F811
    clock: FixedClock,
    sender: Sender,
    settings: Settings,
) -> None:
    client, headers = api
    path = publish(client, headers, question_body(clock))
    page = client.get("/c/summer?lang=en").text
    assert "What colour is our logo?" in page and 'name="question"' in page
    unanswered = enter(client, "summer", email="ann@example.org")
    assert unanswered.status_code == 422  # type: ignore[attr-defined]
    assert "Please answer the question." in shown(unanswered)  # type: ignore[arg-type]
    made_up = enter(client, "summer", email="ann@example.org", question="Jaune")
    assert made_up.status_code == 422  # type: ignore[attr-defined]

    for n, answer in enumerate(("Bleu", "Rouge", "Bleu", "Vert")):
        enter_and_confirm(client, sender, settings, f"p{n}@example.org", question=answer)
    clock.advance(timedelta(days=8, hours=1))
    drawn = client.post(path + "/draw", json={"public_value": "1 2 3 4 5"}, headers=headers)
    assert drawn.status_code == 201, drawn.text
    record = drawn.json()
    assert record["pool"]["count"] == 2 and record["exclusions"] == {"wrong_answer": 2}
    rules = client.get("/c/summer/rules?lang=en").text
    assert "What colour is our logo?" in rules and "Only entries with the right answer" in rules


def test_the_closest_answers_to_the_tie_breaker_win_and_the_ranking_verifies(
    api: API,  # noqa: F811
    clock: FixedClock,
    sender: Sender,
    settings: Settings,
    tmp_path: Path,
) -> None:
    client, headers = api
    path = publish(client, headers, question_body(clock, game="ranking", **TIEBREAKER))
    page = client.get("/c/summer?lang=en").text
    assert "How many entries will be confirmed at the close?" in page
    no_estimate = enter(client, "summer", email="ann@example.org", question="Bleu")
    assert no_estimate.status_code == 422  # type: ignore[attr-defined]

    # Five confirmed entries: the truth is 5. Right answers: 4 (distance 1), 5 (0), 9 (4),
    # 6 (1, ex aequo with 4). The wrong answer's 5 does not count.
    answers = [("Bleu", "4"), ("Bleu", "5"), ("Rouge", "5"), ("Bleu", "9"), ("Bleu", "6")]
    for n, (answer, estimate) in enumerate(answers):
        enter_and_confirm(
            client, sender, settings, f"p{n}@example.org", question=answer, tiebreaker=estimate
        )
    clock.advance(timedelta(days=8, hours=1))
    drawn = client.post(path + "/draw", json={"public_value": "7 8 9"}, headers=headers)
    assert drawn.status_code == 201, drawn.text
    record = drawn.json()
    ranking = record["ranking"]
    assert ranking["truth"] == 5 and len(ranking["estimates"]) == 4
    keys = [float(p["key"]) for p in record["winners"] + record["alternates"]]
    assert keys == [0.0, 1.0, 1.0, 4.0], "the closest first, ex aequo side by side"
    assert check_record("verify-draw", record, tmp_path).returncode == 0

    tampered = json.loads(json.dumps(record))
    first, second = tampered["winners"][0]["ticket"], tampered["winners"][1]["ticket"]
    tampered["ranking"]["estimates"][first], tampered["ranking"]["estimates"][second] = (
        tampered["ranking"]["estimates"][second],
        tampered["ranking"]["estimates"][first],
    )
    assert check_record("verify-draw", tampered, tmp_path).returncode == 1
    rules = client.get("/c/summer/rules?lang=en").text
    assert "closest to the number of entries confirmed before the close" in rules


def test_a_ranking_without_a_tie_breaker_or_an_answer_outside_the_choices_is_refused(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    no_tiebreaker = client.post(
        "/api/v1/contests", json=question_body(clock, game="ranking"), headers=headers
    )
    assert no_tiebreaker.status_code == 422 and "tiebreaker" in no_tiebreaker.text
    outside = client.post(
        "/api/v1/contests", json=question_body(clock, question_answer="Jaune"), headers=headers
    )
    assert outside.status_code == 422 and "question_answer" in outside.text


def test_the_workspace_sets_an_instant_win_or_a_ranked_question_and_the_page_shows_it(
    organizer: TestClient,  # noqa: F811
) -> None:
    token = csrf(organizer)
    ranked = {
        **VALID,
        "csrf": token,
        "game": "ranking",
        "question": "De quelle couleur est notre logo ?",
        "question_choices": "Bleu\nRouge",
        "question_answer": "Vert",
        "randomness": "lottery",
        "randomness_detail": "EuroMillions du jour du tirage",
    }
    refused = organizer.post("/admin/contests/new", data=ranked)
    assert refused.status_code == 422
    assert "La bonne réponse doit être l'une des réponses proposées." in shown(refused)
    assert "question subsidiaire" in shown(refused)
    fixed = ranked | {"question_answer": "Bleu", "tiebreaker": "Combien de participations ?"}
    created = organizer.post("/admin/contests/new", data=fixed, follow_redirects=False)
    assert created.status_code == 303, shown(created)
    published = organizer.post(
        created.headers["location"] + "/publish", data={"csrf": token}, follow_redirects=False
    )
    assert published.status_code == 303
    page = organizer.get("/c/summer").text
    assert 'name="question" type="radio" value="Bleu"' in page and 'name="tiebreaker"' in page

    lottery = {"randomness": "lottery", "randomness_detail": "EuroMillions du jour du tirage"}
    instant = {**VALID, "csrf": token, "slug": "instant", "game": "instant_win", **lottery}
    made = organizer.post("/admin/contests/new", data=instant, follow_redirects=False)
    assert made.status_code == 303, shown(made)
    organizer.post(made.headers["location"] + "/publish", data={"csrf": token})
    assert "Instants gagnants" in shown(organizer.get("/c/instant"))  # type: ignore[arg-type]
    assert "empreinte (SHA-256) des instants" in shown(organizer.get("/c/instant/rules"))  # type: ignore[arg-type]
