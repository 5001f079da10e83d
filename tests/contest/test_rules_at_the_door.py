"""probe"""
from __future__ import annotations
import json
from datetime import timedelta
from typing import Any
from starlette.testclient import TestClient
from contest.clock import FixedClock
from tests.contest.test_rules_changes import api  # noqa: F401
from tests.contest.test_self_service import contest_body


def show(client, headers, body, slug):
    r = client.post("/api/v1/contests", json=body | {"slug": slug}, headers=headers)
    print("CREATE", r.status_code, r.text[:600])
    if r.status_code != 201:
        return
    path = f"/api/v1/contests/{r.json()['id']}"
    print("FINDINGS", [(f["rule_id"], f["severity"], f["field"], f["message_en"]) for f in r.json()["compliance"]["findings"]])
    p = client.post(path + "/publish", headers=headers)
    print("PUBLISH", p.status_code, [(f["rule_id"], f["severity"], f["field"], f["message_en"]) for f in p.json().get("error", {}).get("rules", [])] or p.text[:200])


def test_probe(api, clock: FixedClock) -> None:  # noqa: F811
    client, headers = api
    now = clock.now()
    def d(days):
        return (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")
    b = contest_body(clock)
    cases = {
        "dates": dict(opens_at=d(3), closes_at=d(2), draw_at=d(4)),
        "draw_before": dict(draw_at=d(6)),
        "nojur": dict(jurisdictions=[]),
        "purchase_bonus": dict(purchase_bonus=True),
        "referral": dict(referral_bonus=2),
        "referral_neg": dict(referral_bonus=-1),
        "clients_ref": dict(audience="clients", client_cutoff_at=d(-10), referral_bonus=2, referral_cap=5),
        "clients_inv": dict(audience="clients", client_cutoff_at=d(-10), platform_invitations=True),
        "inverted": dict(marketing_label_fr="Cochez si vous ne souhaitez pas recevoir nos offres.", marketing_label_en="Tick if you do not want our offers."),
        "no_en_label": dict(marketing_label_en=""),
        "partners_empty": dict(partners_label_fr="Offres partenaires", partners_label_en="Partners' offers", partners=[]),
        "no_retention": dict(retention_months=None),
        "retention24": dict(retention_months=24),
        "fields": dict(form_fields=["first_name","last_name","birth_date","postcode","phone","interest"]),
        "health": dict(form_fields=["health"]),
        "doi": dict(double_opt_in=False),
        "required": dict(marketing_required=True),
        "de": dict(jurisdictions=["DE"]),
    }
    for name, fields in cases.items():
        print("=====", name)
        show(client, headers, b | fields, name.replace("_","-"))
    prize = dict(b["prizes"][0])
    for name, p in {
        "nodesc": dict(prize, description=""),
        "novalue": {k: v for k, v in prize.items() if k != "unit_value"},
        "novalidity": {k: v for k, v in prize.items() if k != "voucher_validity_days"},
        "short": dict(prize, voucher_validity_days=30),
        "minorder": dict(prize, voucher_min_order="20"),
        "rank2": dict(prize, rank=2),
    }.items():
        print("=====", name)
        show(client, headers, b | {"prizes": [p]}, name)
    assert False
