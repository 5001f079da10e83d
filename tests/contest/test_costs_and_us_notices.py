"""Settings that feed the rules and the text of the rules: the reimbursement of participation
costs (FR-COSTS-1), the other free ways to enter, Rhode Island's in-shop promotions
(US-REG-RI-1), California's notice of financial incentive (US-CA-CCPA-1) and the material
terms of a US contest's rules."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest.clock import FixedClock
from contest.mail import Sender
from contest.settings import Settings
from tests.contest.test_rules_changes import api  # noqa: F401
from tests.contest.test_self_service import contest_body, enter_and_confirm

API = tuple[TestClient, dict[str, str]]


def created(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    answer = client.post("/api/v1/contests", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return f"/api/v1/contests/{answer.json()['id']}"


def refusals(client: TestClient, headers: dict[str, str], path: str) -> list[dict[str, Any]]:
    answer = client.post(path + "/publish", headers=headers)
    if answer.status_code == 200:
        return []
    assert answer.status_code == 422, answer.text
    findings: list[dict[str, Any]] = answer.json()["error"]["rules"]
    return findings


def us_body(clock: FixedClock, value: str, **fields: Any) -> dict[str, Any]:
    prize = dict(contest_body(clock)["prizes"][0], unit_value=value, currency="USD")  # type: ignore[index]
    return contest_body(clock) | {"jurisdictions": ["US"], "prizes": [prize], **fields}


@pytest.mark.rule("FR-COSTS-1")
def test_a_reimbursement_offered_states_where_by_when_and_what_in_the_rules(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    body = contest_body(clock) | {
        "entry_channels": ["web", "post", "email"],
        "cost_reimbursement": True,
        "reimbursement_address": "La Boutique, 1 rue de la Paix, 75002 Paris",
    }
    path = created(client, headers, body)
    refused = refusals(client, headers, path)
    assert {(f["rule_id"], f["field"]) for f in refused} == {
        ("FR-COSTS-1", "reimbursement_days"),
        ("FR-COSTS-1", "reimbursement_basis"),
    }
    assert "state by when to ask for it" in str(refused)

    terms = {"reimbursement_days": 30, "reimbursement_basis": "le timbre au tarif lent."}
    assert client.patch(path, json=terms, headers=headers).status_code == 200
    assert refusals(client, headers, path) == []
    rules = client.get("/c/summer/rules?lang=en").text
    assert "reimbursed on request to La Boutique, 1 rue de la Paix" in rules
    assert "within 30 days after the close" in rules
    assert "by post to 1 rue de la Paix, 75002 Paris" in rules
    assert "by e-mail to contact@shop.example" in rules
    assert "NO PURCHASE NECESSARY" not in rules, "a French contest has no US terms"
    french = client.get("/c/summer/rules?lang=fr").text
    assert "remboursés sur demande" in french


@pytest.mark.rule("US-REG-RI-1")
def test_an_in_shop_promotion_over_500_dollars_files_in_rhode_island_or_leaves_it_out(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    online = created(client, headers, us_body(clock, "600", slug="online"))
    assert "US-REG-RI-1" not in str(refusals(client, headers, online))

    path = created(client, headers, us_body(clock, "600", entry_channels=["web", "in_store"]))
    assert [f["rule_id"] for f in refusals(client, headers, path)] == ["US-REG-RI-1"]
    left_out = client.patch(path, json={"us_states_excluded": ["RI"]}, headers=headers)
    assert left_out.status_code == 200
    assert refusals(client, headers, path) == []
    assert "Void in RI and where prohibited." in client.get("/c/summer/rules?lang=en").text


@pytest.mark.rule("US-REG-RI-1")
def test_a_filed_rhode_island_statement_lets_the_in_shop_promotion_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = created(client, headers, us_body(clock, "600", entry_channels=["web", "in_store"]))
    assert client.patch(path, json={"ri_registration_filed": True}, headers=headers).is_success
    assert refusals(client, headers, path) == []


@pytest.mark.rule("US-CA-CCPA-1")
def test_a_ccpa_covered_business_prints_its_notice_or_leaves_california_out(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = created(client, headers, us_body(clock, "50", ccpa_covered=True))
    refused = refusals(client, headers, path)
    assert [(f["rule_id"], f["field"]) for f in refused] == [
        ("US-CA-CCPA-1", "ccpa_incentive_notice")
    ]
    notice = (
        "You give your e-mail address; you get an entry worth about $0.10 to us. "
        "Withdraw at any time from your page."
    )
    assert client.patch(path, json={"ccpa_incentive_notice": notice}, headers=headers).is_success
    assert refusals(client, headers, path) == []
    rules = client.get("/c/summer/rules?lang=en").text
    assert "Notice of Financial Incentive (California): You give your e-mail address" in rules

    other = created(
        client, headers, us_body(clock, "50", slug="no-ca", ccpa_covered=True,
                                 us_states_excluded=["CA"])
    )  # fmt: skip
    assert refusals(client, headers, other) == []


@pytest.mark.rule("US-RULES-1", "US-LOTTERY-1", "US-TAX-1")
def test_a_us_contest_s_rules_carry_the_material_terms(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = created(client, headers, us_body(clock, "700", us_states_excluded=["NY", "FL"]))
    assert refusals(client, headers, path) == []
    rules = client.get("/c/summer/rules?lang=en").text
    assert "NO PURCHASE NECESSARY. A PURCHASE OR PAYMENT OF ANY KIND WILL NOT INCREASE" in rules
    assert "legal residents of the 50 United States and the District of Columbia" in rules
    assert "Void in FL, NY and where prohibited." in rules
    assert "The odds of winning depend on the number of eligible entries received." in rules
    assert "Approximate retail value of all prizes: $700.00." in rules
    assert "Winners pay any taxes on their prize" in rules


@pytest.mark.rule("US-GEO-1", "US-AGE-1")
def test_the_draw_judges_each_entrant_s_stored_state_again(
    api: API,  # noqa: F811
    clock: FixedClock,
    engine: Engine,
    sender: Sender,
    settings: Settings,
) -> None:
    """The state an entrant gave is kept with the entry and read again at the draw: an entry
    whose stored state is excluded, or whose age is under that state's majority, is left out
    (here the stored answers are edited, as a state excluded by a court order would be)."""
    client, headers = api
    body = us_body(
        clock,
        "50",
        randomness="lottery",
        randomness_detail="Powerball of the draw day",
        form_fields=["first_name", "birth_date"],
    )
    path = created(client, headers, body)
    assert refusals(client, headers, path) == []
    twenty = clock.now().date().replace(year=clock.now().year - 20).isoformat()
    for email in ("tx@example.org", "ms@example.org", "pr@example.org"):
        enter_and_confirm(client, sender, settings, email, birth_date=twenty)
    for email, state in (("ms@example.org", "MS"), ("pr@example.org", "PR")):
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "UPDATE entry SET answers = :answers WHERE person_id = "
                    "(SELECT id FROM person WHERE email = :email)"
                ),
                {"answers": json.dumps({"first_name": "Ann", "birth_date": twenty,
                                        "region": state}), "email": email},
            )  # fmt: skip
    clock.advance(timedelta(days=9))
    drawn = client.post(path + "/draw", json={"public_value": "1 2 3 4 5"}, headers=headers)
    assert drawn.status_code == 201, drawn.text
    record = drawn.json()
    assert record["pool"]["count"] == 1
    assert record["exclusions"] == {"US-AGE-1": 1, "US-GEO-1": 1}
