"""Everyday work in the workspace: lists in pages with a total, statuses and segments in the
page's language, tracked links named in the sources, tables that fit a phone."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from contest.demo import demo_password
from contest.mail import Sender
from contest.settings import Settings
from contest.web.organizer import clients as clients_page
from contest.web.organizer import leads as leads_page
from tests.contest.test_my_consents import enter_with_offers
from tests.helpers import enter, shown, sign_in


@pytest.fixture
def signed_in(client: TestClient, settings: Settings) -> TestClient:
    sign_in(client, "demo@example.org", demo_password(settings))
    return client


def csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_leads_come_in_pages_with_a_total_and_french_labels(
    signed_in: TestClient,
    sender: Sender,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ada", "bea", "cyd"):
        enter_with_offers(signed_in, sender, settings, f"{name}@example.net")
    monkeypatch.setattr(leads_page, "PAGE_SIZE", 2)

    first = signed_in.get("/admin/leads", params={"consent": "marketing_email"})
    text = shown(first)
    assert "Contacts : 3" in text and "page 1 sur 2" in text
    table = text.split('id="leads-count"')[1]
    assert "_prospect" not in table and "confirmed" not in table, "no raw codes in the list"
    assert "Prospect" in table and "donné" in table
    following = re.search(r'href="/admin/leads(\?[^"]+)" rel="next"', first.text)
    assert following and "consent=marketing_email" in following.group(1), "filters are kept"
    second = shown(signed_in.get("/admin/leads" + following.group(1).replace("&amp;", "&")))
    assert (
        "page 2 sur 2" in second
        and 'rel="prev"' in signed_in.get("/admin/leads?consent=marketing_email&page=2").text
    )


def test_clients_are_listed_a_page_at_a_time(
    signed_in: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "\n".join(f"client{i:03d}@example.org,2020-01-01,{i},vip" for i in range(5))
    token = csrf(signed_in, "/admin/clients")
    imported = signed_in.post(
        "/admin/clients",
        data={"csrf": token},
        files={"file": ("clients.csv", f"email,client_since,orders_count,segments\n{rows}\n")},
    )
    assert imported.status_code == 200
    monkeypatch.setattr(clients_page, "PAGE_SIZE", 3)
    page = signed_in.get("/admin/clients")
    assert "client000@example.org" in page.text and "client004@example.org" not in page.text
    following = re.search(r'href="/admin/clients(\?page=2)" rel="next"', page.text)
    assert following
    assert "client004@example.org" in signed_in.get("/admin/clients?page=2").text
    assert 'class="table-scroll"' in page.text


def test_the_sources_table_names_tracked_links(signed_in: TestClient) -> None:
    home = signed_in.get("/admin/").text
    contest = re.search(r'href="/admin/contests/(\d+)"[^>]*>[^<]*Gagnez', home)
    contest_id = contest.group(1) if contest else re.findall(r"/admin/contests/(\d+)", home)[0]
    token = csrf(signed_in, f"/admin/contests/{contest_id}/links")
    signed_in.post(
        f"/admin/contests/{contest_id}/links",
        data={"csrf": token, "label": "Affiche vitrine", "kind": "partner"},
    )
    code = re.search(
        r"/s/([A-Za-z0-9]+)", signed_in.get(f"/admin/contests/{contest_id}/links").text
    )
    assert code
    landed = signed_in.get(f"/s/{code.group(1)}", follow_redirects=False)
    page = signed_in.get(landed.headers["location"])
    src = re.search(r'name="src" value="([^"]+)"', page.text)
    assert src
    enter(signed_in, email="poster@example.net", src=src.group(1))
    sources = shown(signed_in.get(f"/admin/contests/{contest_id}"))
    assert "Affiche vitrine" in sources and code.group(1) not in sources.split("Sources")[-1]


def test_a_contest_is_duplicated_as_a_new_draft_to_date_again(
    client: TestClient, bearer: dict[str, str], settings: Settings
) -> None:
    signed_in = client
    sign_in(signed_in, "demo@example.org", demo_password(settings))
    contests = signed_in.get("/api/v1/contests", headers=bearer).json()["items"]
    [demo] = [c for c in contests if c["slug"] == "demo"]
    token = csrf(signed_in, f"/admin/contests/{demo['id']}")
    made = signed_in.post(
        f"/admin/contests/{demo['id']}/duplicate", data={"csrf": token}, follow_redirects=False
    )
    assert made.status_code == 303 and made.headers["location"].endswith("/edit")
    copy_id = int(made.headers["location"].split("/")[-2])
    copy = signed_in.get(f"/api/v1/contests/{copy_id}", headers=bearer).json()
    assert copy["status"] == "draft" and copy["slug"] == "demo-copie"
    assert copy["title"] == demo["title"] + " (copie)"
    assert copy["opens_at"] is None and copy["closes_at"] is None and copy["draw_at"] is None
    assert [p["description"] for p in copy["prizes"]] == [p["description"] for p in demo["prizes"]]

    again = signed_in.post(f"/api/v1/contests/{demo['id']}/duplicate", headers=bearer)
    assert again.status_code == 201 and again.json()["slug"] == "demo-copie-2"
    ghost = signed_in.post(f"/api/v1/contests/{2**31 - 1}/duplicate", headers=bearer)
    assert ghost.status_code == 404
    actions = [e["action"] for e in signed_in.get("/api/v1/audit", headers=bearer).json()["items"]]
    assert actions.count("contest.duplicated") == 2


def test_the_contest_form_folds_its_optional_sections_and_empty_prizes(
    signed_in: TestClient,
) -> None:
    form = signed_in.get("/admin/contests/new").text
    opened = re.findall(r'<details class="section" open>\s*<summary>([^<]+)</summary>', form)
    folded = re.findall(r'<details class="section">\s*<summary>([^<]+)</summary>', form)
    assert "Dates" in opened and "Lots" in opened
    assert "Parrainage" in folded and "Apparence" in folded
    prizes = re.findall(r'<details class="prize"( open)?>', form)
    assert prizes[0] == " open" and all(state == "" for state in prizes[1:])

    token = csrf(signed_in, "/admin/contests/new")
    refused = signed_in.post(
        "/admin/contests/new",
        data={"csrf": token, "title": "Été", "slug": "ete", "referral_bonus": "-4"},
    )
    assert refused.status_code == 422
    assert re.search(r'<details class="section" open>\s*<summary>Parrainage', refused.text)
