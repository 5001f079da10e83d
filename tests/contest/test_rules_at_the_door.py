"""The legal rules as an organizer and a participant meet them: through the API, the entry form
and the draw, each rule refuses (or warns about) the breaching contest, naming its rule id, and
lets the compliant one through. Where the app offers no way to breach a rule, the door refuses
the breaching input and the compliant behaviour is shown instead."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from contest.clock import FixedClock
from contest.mail import Sender
from contest.settings import Settings
from contest.tokens import Purpose, Signer
from tests.contest.test_costs_and_us_notices import API, created, refusals
from tests.contest.test_rules_changes import api, published  # noqa: F401
from tests.contest.test_self_service import contest_body, enter_and_confirm
from tests.helpers import enter, form_token, shown

BAILIFF = {"randomness": "bailiff", "randomness_detail": "Me Martin, Paris"}
PUBLIC_VALUE = {"public_value": "4127"}


def moment(clock: FixedClock, days: float) -> str:
    """A date ``days`` from the test's now, as the API takes it."""
    return (clock.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def refused_by(client: TestClient, headers: dict[str, str], path: str) -> set[tuple[str, str]]:
    """(rule id, field) of every refusal publishing the draft meets; empty once it publishes."""
    return {(f["rule_id"], f["field"]) for f in refusals(client, headers, path)}


def findings(
    client: TestClient, headers: dict[str, str], path: str, rule_id: str
) -> list[dict[str, Any]]:
    """The contest's findings of ``rule_id``, as the API shows them with the contest."""
    described = client.get(path, headers=headers)
    assert described.status_code == 200, described.text
    return [f for f in described.json()["compliance"]["findings"] if f["rule_id"] == rule_id]


def unknown_fields(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> set[str]:
    """The fields the API refuses, creating a contest from ``body``, as not its own."""
    answer = client.post("/api/v1/contests", json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    problems = answer.json()["error"]["fields"]
    return {name for name, text in problems.items() if text["en"] == "Unknown field."}


def send_form(client: TestClient, slug: str, token: str, email: str) -> Any:
    """Sends the entry form with a form token the person got earlier, in English."""
    data = {"form_token": token, "email": email, "accept_rules": "on", "lang": "en"}
    return client.post(f"/c/{slug}/entries", data=data, follow_redirects=False)


def draw(client: TestClient, headers: dict[str, str], path: str) -> Any:
    return client.post(path + "/draw", json=PUBLIC_VALUE, headers=headers)


# --- Dates ------------------------------------------------------------------------------------


@pytest.mark.rule("ALL-DATES-1")
def test_an_opening_after_the_closing_or_a_draw_before_it_does_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    backwards = {"opens_at": moment(clock, 3), "closes_at": moment(clock, 2)}
    path = created(client, headers, contest_body(clock) | backwards)
    [refusal] = refusals(client, headers, path)
    assert (refusal["rule_id"], refusal["field"]) == ("ALL-DATES-1", "closes_at")
    assert refusal["message_en"].startswith("The opening date (")
    assert "must come before the closing date" in refusal["message_en"]

    in_order = {"opens_at": moment(clock, -1), "closes_at": moment(clock, 7)}
    early_draw = in_order | {"draw_at": moment(clock, 6)}
    assert client.patch(path, json=early_draw, headers=headers).status_code == 200
    [refusal] = refusals(client, headers, path)
    assert (refusal["rule_id"], refusal["field"]) == ("ALL-DATES-1", "draw_at")
    assert "cannot take place before the closing" in refusal["message_en"]

    assert client.patch(path, json={"draw_at": moment(clock, 8)}, headers=headers).is_success
    assert refusals(client, headers, path) == []


@pytest.mark.rule("ALL-DATES-1")
def test_entries_are_refused_before_the_opening_and_after_the_close(
    api: API,  # noqa: F811
    clock: FixedClock,
    signer: Signer,
) -> None:
    client, headers = api
    later = {
        "opens_at": moment(clock, 2),
        "closes_at": moment(clock, 9),
        "draw_at": moment(clock, 10),
    }
    published(client, headers, contest_body(clock) | later)

    page = client.get("/c/summer?lang=en")
    assert 'name="form_token"' not in page.text, "no form before the opening"
    assert "This contest opens on" in shown(page)
    # A form sent anyway (a copy kept from elsewhere, with a valid token) is refused.
    early = send_form(client, "summer", signer.sign(Purpose.FORM, "summer"), "ann@example.org")
    assert early.status_code == 403
    assert "This contest opens on" in shown(early)

    clock.advance(timedelta(days=2, minutes=1))
    assert enter(client, "summer", email="ann@example.org").status_code == 303  # type: ignore[attr-defined]

    clock.advance(timedelta(days=7) - timedelta(minutes=31))  # half an hour before the close
    token = form_token(client.get("/c/summer").text)
    clock.advance(timedelta(hours=1))
    late = send_form(client, "summer", token, "bob@example.org")
    assert late.status_code == 403
    assert "Entries closed on" in shown(late)


# --- The draw ---------------------------------------------------------------------------------


@pytest.mark.rule("ALL-DRAW-POOL-1")
def test_the_draw_waits_for_the_close_and_the_announced_draw_date(
    api: API,  # noqa: F811
    clock: FixedClock,
    sender: Sender,
    settings: Settings,
) -> None:
    client, headers = api
    path = published(client, headers, contest_body(clock) | BAILIFF)
    enter_and_confirm(client, sender, settings, "ann@example.org")

    still_open = draw(client, headers, path)
    assert still_open.status_code == 409
    assert still_open.json()["error"]["code"] == "not_closed"
    assert still_open.json()["error"]["rule_id"] == "ALL-DRAW-POOL-1"
    assert still_open.json()["error"]["message"].startswith(
        "The draw can only take place after the contest closes, on "
    )

    clock.advance(timedelta(days=7, hours=12))  # closed; the draw is announced for day 8
    too_early = draw(client, headers, path)
    assert too_early.status_code == 409
    assert too_early.json()["error"]["message"].startswith("The draw is announced for ")
    assert "it cannot take place earlier" in too_early.json()["error"]["message"]
    assert client.get(path + "/draw", headers=headers).status_code == 404, "nothing drawn"

    clock.advance(timedelta(hours=12))
    drawn = draw(client, headers, path)
    assert drawn.status_code == 201, drawn.text
    assert drawn.json()["pool"]["count"] == 1


@pytest.mark.rule("ALL-DRAW-ORDER-1")
def test_prizes_are_numbered_by_their_place_and_the_first_drawn_wins_the_first(
    api: API,  # noqa: F811
    clock: FixedClock,
    sender: Sender,
    settings: Settings,
) -> None:
    """The app cannot number prizes out of order: a prize's rank is its place in the list, so
    the API refuses a list starting at rank 2 or repeating a rank. The compliant behaviour
    holds in the draw: the first drawn wins prize 1, the second prize 2."""
    client, headers = api
    first = dict(contest_body(clock)["prizes"][0])  # type: ignore[index]
    second = dict(first, description="Bon d'achat de 20 €", unit_value="20")
    for ranks in ((2, 1), (1, 1)):
        prizes = [dict(first, rank=ranks[0]), dict(second, rank=ranks[1])]
        answer = client.post(
            "/api/v1/contests", json=contest_body(clock) | {"prizes": prizes}, headers=headers
        )
        assert answer.status_code == 422, answer.text
        assert "A prize's rank is its place in the list" in answer.text

    body = contest_body(clock) | BAILIFF | {"prizes": [dict(first, rank=1), dict(second, rank=2)]}
    path = published(client, headers, body)
    enter_and_confirm(client, sender, settings, "ann@example.org")
    enter_and_confirm(client, sender, settings, "bob@example.org")
    clock.advance(timedelta(days=9))
    record = draw(client, headers, path).json()
    assert [(p["rank"], p["description"]) for p in record["prizes"]] == [
        (1, "Bon d'achat de 50 €"),
        (2, "Bon d'achat de 20 €"),
    ]
    assert [w["rank"] for w in record["winners"]] == [1, 2]


@pytest.mark.rule("DE-DOI-1")
def test_an_unconfirmed_entry_to_a_german_contest_is_not_drawn(
    api: API,  # noqa: F811
    clock: FixedClock,
    sender: Sender,
    settings: Settings,
) -> None:
    """Double opt-in cannot be turned off through the app: the API knows no such field. The
    compliant behaviour holds at the draw of a German contest: only the entry confirmed by
    e-mail is in the pool, the one never confirmed is not."""
    client, headers = api
    assert unknown_fields(client, headers, contest_body(clock) | {"double_opt_in": False}) == {
        "double_opt_in"
    }
    path = published(client, headers, contest_body(clock) | BAILIFF | {"jurisdictions": ["DE"]})
    refused = client.patch(path, json={"double_opt_in": False, "reason": "x"}, headers=headers)
    assert refused.status_code == 422 and "double_opt_in" in refused.json()["error"]["fields"]

    enter_and_confirm(client, sender, settings, "ann@example.org")
    assert enter(client, "summer", email="bob@example.org").status_code == 303  # type: ignore[attr-defined]
    entries = client.get(path + "/entries", headers=headers).json()["items"]
    tickets = {e["status"]: e["id"] for e in entries}  # ann confirmed, bob still pending
    assert sorted(tickets) == ["confirmed", "pending"]

    clock.advance(timedelta(days=9))
    drawn = draw(client, headers, path)
    assert drawn.status_code == 201, drawn.text
    pool = [entry["ticket"] for entry in drawn.json()["pool"]["entries"]]
    assert pool == [tickets["confirmed"]]
    assert tickets["pending"] not in drawn.text


# --- What the contest is and where it runs ----------------------------------------------------


@pytest.mark.rule("ALL-JURISDICTION-1")
def test_a_contest_that_says_nowhere_where_it_runs_does_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = created(client, headers, contest_body(clock) | {"jurisdictions": []})
    [refusal] = refusals(client, headers, path)
    assert (refusal["rule_id"], refusal["field"]) == ("ALL-JURISDICTION-1", "jurisdictions")
    assert "Declare at least one country where the contest runs" in refusal["message_en"]
    assert client.patch(path, json={"jurisdictions": ["FR"]}, headers=headers).is_success
    assert refusals(client, headers, path) == []


@pytest.mark.rule("ALL-NOPURCHASE-2")
def test_extra_chances_for_buyers_do_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = created(client, headers, contest_body(clock) | {"purchase_bonus": True})
    assert refused_by(client, headers, path) == {("ALL-NOPURCHASE-2", "purchase_bonus")}
    assert client.patch(path, json={"purchase_bonus": False}, headers=headers).is_success
    assert refusals(client, headers, path) == []


@pytest.mark.rule("ALL-PRIZE-DESC-1")
def test_a_prize_without_a_value_or_a_voucher_without_validity_does_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    voucher = dict(contest_body(clock)["prizes"][0])  # type: ignore[index]
    no_value = dict(voucher, unit_value=None)
    no_validity = dict(voucher, voucher_validity_days=None)
    unnamed = dict(voucher, description=" ", unit_value="500")  # kept, not silently dropped
    body = contest_body(clock) | {"prizes": [no_value, no_validity, unnamed]}
    path = created(client, headers, body)
    refused = refusals(client, headers, path)
    assert {(f["rule_id"], f["field"]) for f in refused} == {
        ("ALL-PRIZE-DESC-1", "prizes[0].unit_value"),
        ("ALL-PRIZE-DESC-1", "prizes[1].voucher_validity_days"),
        ("ALL-PRIZE-DESC-1", "prizes[2].description"),
    }
    messages = {f["message_en"] for f in refused}
    assert messages == {
        "Prize 1: state its unit retail value.",
        "Voucher prize 2: state how long it is valid.",
        "Prize 3: state what it is.",
    }
    none_of_it = client.patch(path, json={"prizes": [dict(voucher, quantity=0)]}, headers=headers)
    assert none_of_it.status_code == 422, "a quantity below 1 is refused at the door"
    [(field, problem)] = none_of_it.json()["error"]["fields"].items()
    assert field.endswith("quantity") and problem["en"] == "Between 1 and 100000."

    assert client.patch(path, json={"prizes": [voucher, voucher]}, headers=headers).is_success
    assert refusals(client, headers, path) == []


@pytest.mark.rule("ALL-PRIZE-DESC-1")
def test_a_short_lived_voucher_or_one_needing_an_order_publishes_with_a_warning(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    voucher = dict(contest_body(clock)["prizes"][0])  # type: ignore[index]
    short = dict(voucher, voucher_validity_days=30)
    spend = dict(voucher, voucher_min_order="20")
    path = created(client, headers, contest_body(clock) | {"prizes": [short, spend]})
    warned = findings(client, headers, path, "ALL-PRIZE-DESC-1")
    assert {(f["severity"], f["field"], f["message_en"]) for f in warned} == {
        (
            "warn",
            "prizes[0].voucher_validity_days",
            "Voucher prize 1: 30 days of validity is short; allow at least 90 days.",
        ),
        (
            "warn",
            "prizes[1].voucher_min_order",
            "Voucher prize 2: a minimum order of 20 EUR makes the winner spend money; prefer a "
            "voucher usable with no minimum.",
        ),
    }
    assert client.post(path + "/publish", headers=headers).status_code == 200
    other = created(client, headers, contest_body(clock) | {"slug": "ninety-days"})
    assert findings(client, headers, other, "ALL-PRIZE-DESC-1") == []


# --- Referral and client-only contests --------------------------------------------------------


@pytest.mark.rule("ALL-REFER-BONUS-1")
def test_a_referral_bonus_without_a_cap_does_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = created(client, headers, contest_body(clock) | {"referral_bonus": 2})
    [refusal] = refusals(client, headers, path)
    assert (refusal["rule_id"], refusal["field"]) == ("ALL-REFER-BONUS-1", "referral_cap")
    assert "needs a positive cap per participant" in refusal["message_en"]
    negative = client.patch(path, json={"referral_bonus": -1}, headers=headers)
    assert negative.status_code == 422 and "referral_bonus" in negative.json()["error"]["fields"]

    assert client.patch(path, json={"referral_cap": 5}, headers=headers).is_success
    assert refusals(client, headers, path) == []


@pytest.mark.rule("FR-CLIENTS-2")
def test_a_client_only_contest_cannot_be_promoted_to_prospects(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    clients_only = {"audience": "clients", "client_cutoff_at": moment(clock, -10)}
    referral = {"referral_bonus": 2, "referral_cap": 5}
    path = created(client, headers, contest_body(clock) | clients_only | referral)
    [refusal] = refusals(client, headers, path)
    assert (refusal["rule_id"], refusal["field"]) == ("FR-CLIENTS-2", "referral_bonus")
    assert refusal["message_en"] == (
        "A client-only contest cannot be promoted to prospects: turn off the referral bonus."
    )

    invitations = {"referral_bonus": 0, "platform_invitations": True}
    assert client.patch(path, json=invitations, headers=headers).is_success
    assert ("FR-CLIENTS-2", "platform_invitations") in refused_by(client, headers, path)

    assert client.patch(path, json={"platform_invitations": False}, headers=headers).is_success
    assert refusals(client, headers, path) == []


# --- Consent ------------------------------------------------------------------------------------


@pytest.mark.rule("EU-CONSENT-ACTIVE-1")
def test_consent_boxes_start_unticked_and_an_inverted_wording_does_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    """A pre-ticked box cannot be configured: the API knows no such field, and the form shows
    every box unticked; an entry that ticks none is taken. An inverted wording ("tick if you do
    not want...") can be typed, and is refused."""
    client, headers = api
    inverted = {"marketing_label_en": "Tick if you do not want our offers."}
    path = created(client, headers, contest_body(clock) | inverted)
    [refusal] = refusals(client, headers, path)
    assert (refusal["rule_id"], refusal["field"]) == ("EU-CONSENT-ACTIVE-1", "consent_fields[0]")
    assert "is inverted: ticking must mean yes, not no" in refusal["message_en"]
    assert unknown_fields(
        client, headers, contest_body(clock) | {"marketing_pre_ticked": True}
    ) == {"marketing_pre_ticked"}

    plain = {"marketing_label_en": "I would like your offers by e-mail."}
    assert client.patch(path, json=plain, headers=headers).is_success
    assert refusals(client, headers, path) == []
    [box] = re.findall(r"<input [^>]*name=\"consent_[^>]*>", client.get("/c/summer").text)
    assert "checked" not in box
    assert enter(client, "summer", email="ann@example.org").status_code == 303  # type: ignore[attr-defined]


@pytest.mark.rule("EU-CONSENT-DESIGN-1")
def test_a_consent_box_without_its_wording_in_each_language_does_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = created(client, headers, contest_body(clock) | {"marketing_label_en": ""})
    [refusal] = refusals(client, headers, path)
    assert refusal["rule_id"] == "EU-CONSENT-DESIGN-1"
    assert refusal["field"] == "consent_fields[0].label_en"
    assert refusal["message_en"] == (
        "A consent box has no English label: the text must be complete and legible."
    )
    both = {"marketing_label_en": "I would like your offers by e-mail."}
    assert client.patch(path, json=both, headers=headers).is_success
    assert refusals(client, headers, path) == []


@pytest.mark.rule("EU-CONSENT-SPECIFIC-1")
def test_a_partners_box_naming_no_partner_does_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    """An empty partner list can be configured, and is refused. Bundling purposes in one box
    cannot: each purpose has its own wording fields and its own box on the form, and the API
    knows no field that would put two purposes in one box."""
    client, headers = api
    partners = {
        "partners_label_fr": "Je veux les offres de nos partenaires.",
        "partners_label_en": "I want our partners' offers.",
        "partners": [],
    }
    path = created(client, headers, contest_body(clock) | partners)
    [refusal] = refusals(client, headers, path)
    assert (refusal["rule_id"], refusal["field"]) == (
        "EU-CONSENT-SPECIFIC-1",
        "consent_fields[1].partners",
    )
    assert refusal["message_en"] == "Name the partners before offering to pass data to partners."
    bundled = {"consent_purposes": ["marketing_email", "partners"]}
    assert unknown_fields(client, headers, contest_body(clock) | bundled) == {"consent_purposes"}

    named = {"partners": ["Atelier Partenaire SAS"]}
    assert client.patch(path, json=named, headers=headers).is_success
    assert refusals(client, headers, path) == []
    page = client.get("/c/summer").text
    boxes = re.findall(r"name=\"(consent_[a-z_]+)\"", page)
    assert boxes == ["consent_marketing_email", "consent_partners"], "one box per purpose"


@pytest.mark.rule("EU-CONSENT-FREE-1")
def test_taking_part_never_depends_on_ticking_a_box(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    """Consent cannot be made a condition of entry, rewarded with chances, or folded into
    accepting the rules: the API knows no such field. On the form, the consent box is not
    required and is separate from accepting the rules, and an entry ticking no box is taken."""
    client, headers = api
    breaches = {"marketing_required": True, "opt_in_bonus": 2, "rules_include_consent": True}
    assert unknown_fields(client, headers, contest_body(clock) | breaches) == set(breaches)

    published(client, headers, contest_body(clock))
    page = client.get("/c/summer").text
    [box] = re.findall(r"<input [^>]*name=\"consent_marketing_email\"[^>]*>", page)
    assert "required" not in box
    [rules_box] = re.findall(r"<input [^>]*name=\"accept_rules\"[^>]*>", page)
    assert "consent" not in rules_box
    assert enter(client, "summer", email="ann@example.org").status_code == 303  # type: ignore[attr-defined]


# --- Personal data ------------------------------------------------------------------------------


@pytest.mark.rule("EU-INFO-1")
def test_a_contest_without_the_data_controller_s_contact_does_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    cleared = client.patch("/api/v1/organization", json={"contact_email": ""}, headers=headers)
    assert cleared.status_code == 200
    path = created(client, headers, contest_body(clock))
    [refusal] = refusals(client, headers, path)
    assert (refusal["rule_id"], refusal["field"]) == ("EU-INFO-1", "organizer_contact")
    assert refusal["message_en"] == (
        "Data-protection information incomplete: give the data controller's contact."
    )
    contact = {"contact_email": "contact@shop.example"}
    assert client.patch("/api/v1/organization", json=contact, headers=headers).is_success
    assert refusals(client, headers, path) == []


@pytest.mark.rule("EU-RETENTION-1", "EU-INFO-1")
def test_data_kept_over_a_year_is_warned_about_and_an_unstated_period_does_not_publish(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    client, headers = api
    path = created(client, headers, contest_body(clock) | {"retention_months": 24})
    [warning] = findings(client, headers, path, "EU-RETENTION-1")
    assert (warning["severity"], warning["field"]) == ("warn", "retention_months")
    assert warning["message_en"].startswith("Retention of 24 months:")

    assert client.patch(path, json={"retention_months": None}, headers=headers).is_success
    [refusal] = refusals(client, headers, path)
    assert (refusal["rule_id"], refusal["field"]) == ("EU-INFO-1", "retention_months")
    assert "give how long data are kept" in refusal["message_en"]

    assert client.patch(path, json={"retention_months": 24}, headers=headers).is_success
    assert refusals(client, headers, path) == [], "a warning does not stop publication"
    other = created(client, headers, contest_body(clock) | {"slug": "one-year"})
    assert findings(client, headers, other, "EU-RETENTION-1") == []


@pytest.mark.rule("EU-MINIMIZE-1")
def test_mandatory_fields_the_contest_does_not_need_are_warned_about(
    api: API,  # noqa: F811
    clock: FixedClock,
) -> None:
    """Special-category fields (health, religion...) cannot be asked: the form's fields are a
    fixed list, and the API refuses any other. Mandatory fields beyond the eligibility ones,
    and more than four fields, are warned about."""
    client, headers = api
    everything = ["first_name", "last_name", "birth_date", "postcode", "phone", "interest"]
    path = created(client, headers, contest_body(clock) | {"form_fields": everything})
    warned = findings(client, headers, path, "EU-MINIMIZE-1")
    assert {(f["severity"], f["field"]) for f in warned} == {
        ("warn", "last_name"),
        ("warn", "postcode"),
        ("warn", "form_fields"),
    }
    assert "The form asks for 6 fields besides the e-mail: four at most." in {
        f["message_en"] for f in warned
    }
    assert client.post(path + "/publish", headers=headers).status_code == 200

    health = client.post(
        "/api/v1/contests",
        json=contest_body(clock) | {"slug": "health", "form_fields": ["first_name", "health"]},
        headers=headers,
    )
    assert health.status_code == 422 and "form_fields" in health.json()["error"]["fields"]
    few = created(
        client,
        headers,
        contest_body(clock) | {"slug": "few", "form_fields": ["first_name", "birth_date"]},
    )
    assert findings(client, headers, few, "EU-MINIMIZE-1") == []
