"""The US rules as users meet them: the organizer publishing through the API is refused or
warned (age of majority, material terms, referrals, vouchers, client-only contests, taxes),
and entrants on the public form are turned away by age, state or territory, while the
compliant variant of each publishes or enters. The rules page carries the US block."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from contest.clock import FixedClock
from tests.contest.test_organization import EMAIL, PASSWORD
from tests.contest.test_rules_changes import api, published  # noqa: F401
from tests.contest.test_self_service import contest_body
from tests.helpers import enter, shown, sign_in

API = tuple[TestClient, dict[str, str]]
FIVE_YEARS = 5 * 365 + 1  # days; what US-GIFTCARD-1 asks of a voucher


def us_contest(clock: FixedClock, *jurisdictions: str, **fields: Any) -> dict[str, Any]:
    """A complete contest for US residents (and ``jurisdictions``), prizes in dollars, with
    nothing a US warning reads: a voucher for five years, under $600, open to everyone."""
    body = contest_body(clock)
    prize = dict(body["prizes"][0], currency="USD", voucher_validity_days=FIVE_YEARS)  # type: ignore[index]
    return body | {"jurisdictions": ["US", *jurisdictions], "prizes": [prize], **fields}


def draft(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    created = client.post("/api/v1/contests", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return f"/api/v1/contests/{created.json()['id']}"


def findings(client: TestClient, headers: dict[str, str], path: str, rule: str) -> list[Any]:
    """The contest's findings of ``rule``, as the API shows them to the organizer."""
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    return [f for f in answer.json()["compliance"]["findings"] if f["rule_id"] == rule]


def born(clock: FixedClock, age: int) -> str:
    """A date of birth that makes someone ``age`` today (their birthday already past)."""
    today = clock.now().date()
    return date(today.year - age, today.month, min(today.day, 28)).isoformat()


def status(answer: object) -> int:
    return answer.status_code  # type: ignore[attr-defined,no-any-return]


# --- US-AGE-1 ------------------------------------------------------------------------------


@pytest.mark.rule("US-AGE-1")
def test_a_us_contest_open_to_under_18s_does_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = draft(client, headers, us_contest(clock, min_age=16))
    refused = client.post(path + "/publish", headers=headers)
    assert refused.status_code == 422, refused.text
    [finding] = [f for f in refused.json()["error"]["rules"] if f["rule_id"] == "US-AGE-1"]
    assert finding["field"] == "min_age"
    assert "In the US the minimum age is 18 (age of majority)" in finding["message_en"]

    assert client.patch(path, json={"min_age": 18}, headers=headers).status_code == 200
    assert client.post(path + "/publish", headers=headers).status_code == 200

    french = draft(client, headers, contest_body(clock) | {"slug": "fr-16", "min_age": 16})
    assert findings(client, headers, french, "US-AGE-1") == [], "a French contest may take 16"


@pytest.mark.rule("US-AGE-1")
def test_an_entrant_under_the_age_of_majority_of_their_state_is_turned_away(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    published(client, headers, us_contest(clock, form_fields=["first_name", "birth_date"]))
    page = client.get("/c/summer?lang=en").text
    assert 'name="birth_date"' in page and 'name="region"' in page

    def entering(email: str, region: str, age: int) -> object:
        birth_date = born(clock, age)
        return enter(client, "summer", email=email, region=region, birth_date=birth_date, lang="en")

    mississippi = entering("ann@example.org", "MS", 20)
    assert status(mississippi) == 403
    assert "In MS, this contest is open to people aged 21 or over." in shown(mississippi)
    alabama = entering("bob@example.org", "AL", 18)
    assert status(alabama) == 403
    assert "In AL, this contest is open to people aged 19 or over." in shown(alabama)
    nebraska = entering("cy@example.org", "NE", 18)
    assert "In NE, this contest is open to people aged 19 or over." in shown(nebraska)
    delaware = entering("dee@example.org", "DE", 18)  # 19 there too (UNCERTAIN, applied)
    assert "In DE, this contest is open to people aged 19 or over." in shown(delaware)

    assert status(entering("ann@example.org", "TX", 20)) == 303
    assert status(entering("bob@example.org", "AL", 19)) == 303
    assert status(entering("cy@example.org", "NE", 19)) == 303
    assert status(entering("dee@example.org", "MS", 21)) == 303
    assert status(entering("eve@example.org", "DE", 19)) == 303


@pytest.mark.rule("US-AGE-1")
def test_a_child_under_13_is_turned_away_wherever_they_say_they_live(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    # Open in France too: the state is asked of US residents only, others leave it blank.
    body = us_contest(clock, "FR", form_fields=["first_name", "birth_date"])
    published(client, headers, body)
    page = client.get("/c/summer?lang=en").text
    assert (
        'name="region"' in page
        and 'name="region" autocomplete="address-level1" required' not in page
    )

    coppa = "This contest is not open to children under 13."
    assert coppa not in shown(client.get("/c/summer?lang=en"))
    for region in ("", "TX"):
        child = enter(client, "summer", email="kid@example.org", region=region,
                      birth_date=born(clock, 12), lang="en")  # fmt: skip
        assert status(child) == 403
        assert coppa in shown(child)
    adult = enter(client, "summer", email="ann@example.org", region="", birth_date=born(clock, 30),
                  lang="en")  # fmt: skip
    assert status(adult) == 303


# --- US-RULES-1 ----------------------------------------------------------------------------


@pytest.mark.rule("US-RULES-1")
def test_us_rules_missing_how_winners_are_chosen_and_told_do_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = draft(client, headers, us_contest(clock, draw_method="", winner_notification=""))
    refused = client.post(path + "/publish", headers=headers)
    assert refused.status_code == 422 and "US-RULES-1" in refused.json()["error"]["message"]
    us_rules = [f for f in refused.json()["error"]["rules"] if f["rule_id"] == "US-RULES-1"]
    assert {f["field"] for f in us_rules} == {"draw_method", "winner_notification"}
    assert all(
        f["message_en"].startswith("The US official rules are incomplete:") for f in us_rules
    )

    # Also run in France: FR-RULES-1 names the same gaps, US-RULES-1 stays silent.
    both = draft(client, headers, us_contest(clock, "FR", slug="both", draw_method="",
                                             winner_notification=""))  # fmt: skip
    refused = client.post(both + "/publish", headers=headers)
    assert refused.status_code == 422
    rule_ids = {f["rule_id"] for f in refused.json()["error"]["rules"]}
    assert "FR-RULES-1" in rule_ids and "US-RULES-1" not in rule_ids

    terms = {"draw_method": "A random draw.", "winner_notification": "by e-mail"}
    assert client.patch(path, json=terms, headers=headers).status_code == 200
    assert client.post(path + "/publish", headers=headers).status_code == 200
    assert "A random draw." in client.get("/c/summer/rules?lang=en").text


# --- Warnings: published anyway, shown to the organizer ------------------------------------


def warned(client: TestClient, headers: dict[str, str], path: str, rule: str) -> list[Any]:
    """``rule``'s findings on the contest, each a warning that does not stop publishing."""
    found = findings(client, headers, path, rule)
    assert all(f["severity"] == "warn" for f in found), found
    return found


@pytest.mark.rule("US-CANSPAM-REFER-1")
def test_rewarding_referrals_in_the_us_warns_that_the_organizer_becomes_the_sender(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = draft(client, headers, us_contest(clock, referral_bonus=1, referral_cap=5))
    [bonus] = warned(client, headers, path, "US-CANSPAM-REFER-1")
    assert bonus["field"] == "referral_bonus"
    sender = "the share text must carry its postal address and an unsubscribe link"
    assert sender in bonus["message_en"]
    assert client.post(path + "/publish", headers=headers).status_code == 200

    invites = draft(client, headers, us_contest(clock, slug="invites", platform_invitations=True))
    [invitations] = warned(client, headers, invites, "US-CANSPAM-REFER-1")
    assert invitations["field"] == "platform_invitations"

    plain = published(client, headers, us_contest(clock, slug="plain", referral_bonus=0))
    assert warned(client, headers, plain, "US-CANSPAM-REFER-1") == []
    french = draft(client, headers, contest_body(clock) | {"slug": "fr", "referral_bonus": 1,
                                                           "referral_cap": 5})  # fmt: skip
    assert warned(client, headers, french, "US-CANSPAM-REFER-1") == []


@pytest.mark.rule("US-GIFTCARD-1")
def test_a_voucher_valid_under_five_years_warns_for_us_winners(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    body = us_contest(clock)
    short = dict(body["prizes"][0], voucher_validity_days=FIVE_YEARS - 1)
    path = draft(client, headers, body | {"prizes": [short]})
    [voucher] = warned(client, headers, path, "US-GIFTCARD-1")
    assert voucher["field"] == "prizes[0].voucher_validity_days"
    assert f"Voucher prize 1 is valid {FIVE_YEARS - 1} days" in voucher["message_en"]

    assert client.patch(path, json={"prizes": body["prizes"]}, headers=headers).status_code == 200
    assert warned(client, headers, path, "US-GIFTCARD-1") == []
    assert client.post(path + "/publish", headers=headers).status_code == 200

    french = draft(client, headers, contest_body(clock) | {"slug": "fr"})  # valid 90 days
    assert warned(client, headers, french, "US-GIFTCARD-1") == []


@pytest.mark.rule("US-LOTTERY-1")
def test_a_client_only_contest_open_to_us_residents_warns_to_ask_counsel(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    cutoff = (clock.now() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    path = draft(client, headers, us_contest(clock, audience="clients", client_cutoff_at=cutoff))
    [clients] = warned(client, headers, path, "US-LOTTERY-1")
    assert clients["field"] == "audience"
    assert "free alternate method of entry (AMOE)" in clients["message_en"]
    assert client.post(path + "/publish", headers=headers).status_code == 200

    everyone = published(client, headers, us_contest(clock, slug="everyone"))
    assert warned(client, headers, everyone, "US-LOTTERY-1") == []


@pytest.mark.rule("US-TAX-1")
def test_a_prize_of_600_dollars_or_more_warns_about_the_winner_s_tax_form(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    body = us_contest(clock)
    second = dict(body["prizes"][0], description="A bike", kind="goods", unit_value="600")
    path = draft(client, headers, body | {"prizes": [*body["prizes"], second]})
    [tax] = warned(client, headers, path, "US-TAX-1")
    assert tax["field"] == "prizes[1].unit_value"
    assert "Prize 2 is worth $600 or more: a US winner will provide a W-9" in tax["message_en"]
    assert sign_in(client, EMAIL, PASSWORD).status_code == 303  # type: ignore[attr-defined]
    workspace = client.get("/admin/contests/" + path.rsplit("/", 1)[1]).text
    assert '<li class="finding warn" data-rule="US-TAX-1">' in workspace
    client.cookies.clear()

    cheaper = [body["prizes"][0], second | {"unit_value": "599.99"}]
    assert client.patch(path, json={"prizes": cheaper}, headers=headers).status_code == 200
    assert warned(client, headers, path, "US-TAX-1") == []
    assert client.post(path + "/publish", headers=headers).status_code == 200


# --- US-GEO-1 and the rules page -----------------------------------------------------------


@pytest.mark.rule("US-GEO-1")
def test_residents_of_excluded_states_and_of_territories_are_turned_away(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    published(client, headers, us_contest(clock, us_states_excluded=["FL", "RI"]))
    page = client.get("/c/summer?lang=en").text
    assert '<option value="DC"' in page and '<option value="PR"' not in page

    for state in ("FL", "RI"):
        void = enter(client, "summer", email="ann@example.org", region=state, lang="en")
        assert status(void) == 403
        assert f"This contest is void for residents of {state}." in shown(void)
    puerto_rico = enter(client, "summer", email="ann@example.org", region="PR", lang="en")
    assert status(puerto_rico) == 422
    assert "Please choose your state from the list." in shown(puerto_rico)
    no_state = enter(client, "summer", email="ann@example.org", region="", lang="en")
    assert status(no_state) == 422
    assert "Please choose your state of residence." in shown(no_state)

    assert status(enter(client, "summer", email="ann@example.org", region="CA")) == 303
    assert status(enter(client, "summer", email="bob@example.org", region="DC")) == 303


@pytest.mark.rule("US-GEO-1")
def test_a_contest_open_in_france_too_still_keeps_out_residents_of_excluded_states(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    published(client, headers, us_contest(clock, "FR", us_states_excluded=["NY"]))
    assert "(if you live in the United States)" in client.get("/c/summer?lang=en").text

    new_yorker = enter(client, "summer", email="ann@example.org", region="NY", lang="en")
    assert status(new_yorker) == 403
    assert "This contest is void for residents of NY." in shown(new_yorker)
    assert status(enter(client, "summer", email="ann@example.org", region="NJ")) == 303
    assert status(enter(client, "summer", email="bob@example.org", region="")) == 303  # France


@pytest.mark.rule("US-LOTTERY-1", "US-GEO-1")
def test_a_us_contest_s_rules_say_no_purchase_necessary_and_name_the_void_states(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    published(client, headers, us_contest(clock, us_states_excluded=["RI", "FL"]))
    rules = shown(client.get("/c/summer/rules?lang=en"))
    assert (
        "NO PURCHASE NECESSARY. A PURCHASE OR PAYMENT OF ANY KIND WILL NOT INCREASE YOUR "
        "CHANCES OF WINNING. VOID WHERE PROHIBITED."
    ) in rules
    assert "Void in FL, RI and where prohibited." in rules

    published(client, headers, contest_body(clock) | {"slug": "fr"})
    french = shown(client.get("/c/fr/rules?lang=en"))
    assert "NO PURCHASE NECESSARY" not in french and "Void in" not in french
