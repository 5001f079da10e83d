"""Everyday work in the workspace: lists in pages with a total, statuses, segments, sources and
signals in the page's language, tracked links named wherever sources are listed, a contest
duplicated as a draft to date again, the cut-off in the contest's time zone, a contest form
whose sections fold, tables that fit a phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.demo import demo_password
from contest.mail import Sender
from contest.models import ReferralStatus
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
    form = shown(signed_in.get(made.headers["location"]))
    assert f'value="{demo["title"]} (copie)"' in form, "the copy opens in the form to be dated"
    listed = shown(signed_in.get("/admin/")).split("/c/demo-copie")[1].split("</tr>")[0]
    assert "Dates à fixer" in listed

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


def contest_id_of(engine: Engine, slug: str) -> int:
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(tables.contest.c.id).where(tables.contest.c.slug == slug)
        ).scalar_one()
    return int(found)


def tracked_link(client: TestClient, contest_id: int, **fields: str) -> str:
    """Makes a tracked link through the workspace's form and gives its code."""
    path = f"/admin/contests/{contest_id}/links"
    before = set(re.findall(r"/s/([A-Za-z0-9]+)", client.get(path).text))
    client.post(path, data={"csrf": csrf(client, path), **fields})
    after: set[str] = set(re.findall(r"/s/([A-Za-z0-9]+)", client.get(path).text))
    [code] = after - before
    return code


def enter_through(client: TestClient, code: str, email: str) -> None:
    """Follows a tracked link to the contest page and enters from there."""
    landed = client.get(f"/s/{code}", follow_redirects=False)
    src = re.search(r'name="src" value="([^"]+)"', client.get(landed.headers["location"]).text)
    assert src
    enter(client, email=email, src=src.group(1))


def visible(response: object) -> str:
    """The words a reader sees: no tags, no attribute values."""
    return " ".join(re.sub(r"<[^>]+>", " ", shown(response)).split())


def test_leads_name_the_tracked_link_they_came_through_and_filter_by_it(
    signed_in: TestClient, engine: Engine
) -> None:
    demo = contest_id_of(engine, "demo")
    poster = tracked_link(signed_in, demo, label="Affiche vitrine", kind="poster")
    for label in ("Newsletter de Noël", "Relance"):  # two links of one campaign: utm:noel
        campaign = tracked_link(signed_in, demo, label=label, kind="campaign", utm_campaign="noel")
    enter_through(signed_in, poster, "vitrine@example.net")
    enter_through(signed_in, campaign, "noel@example.net")

    listed = signed_in.get("/admin/leads")
    table = visible(listed).split("Comment le score")[0].split("Contacts :")[1]
    assert "vitrine@example.net Ann Prospect froid" in table
    assert "Affiche vitrine" in table and "Newsletter de Noël, Relance" in table
    assert "partner:" not in table and "utm:" not in table and "noel " not in table
    option = re.search(rf'<option value="partner:{poster}">([^<]+)</option>', listed.text)
    assert option and option.group(1) == "Affiche vitrine", "the filter offers the link by name"
    assert re.search(r'<optgroup label="Liens suivis : Gagnez[^"]*">', shown(listed))

    only = signed_in.get("/admin/leads", params={"source": f"partner:{poster}"})
    assert "vitrine@example.net" in only.text and "noel@example.net" not in only.text
    assert "Contacts : 1" in visible(only)
    assert re.search(rf'<option value="partner:{poster}" selected>', only.text)
    assert only.text.count(" selected>") == 1, "the link chosen, offered once"

    sources = visible(signed_in.get(f"/admin/contests/{demo}")).split("Sources Source")[1]
    assert "Liens suivis 1 0 Affiche vitrine 1 0" in sources
    assert "Campagnes (utm) 1 0 Newsletter de Noël, Relance 1 0" in sources


def test_a_page_number_out_of_range_is_answered_with_the_nearest_page(
    signed_in: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leads_page, "PAGE_SIZE", 5)
    for asked in ("0", "-1", "x", "99999999999"):
        answer = signed_in.get("/admin/leads", params={"page": asked})
        assert answer.status_code == 200 and "page 1 sur" in visible(answer), asked
        assert signed_in.get("/admin/clients", params={"page": asked}).status_code == 200
    beyond = signed_in.get("/admin/leads", params={"page": "50"})
    count = re.search(r"page 50 sur (\d+)", visible(beyond))
    assert count and 'rel="next"' not in beyond.text
    assert f'href="/admin/leads?page={count.group(1)}" rel="prev"' in beyond.text


def test_referral_signals_are_told_in_words_not_codes(
    signed_in: TestClient, engine: Engine
) -> None:
    closed = contest_id_of(engine, "demo-closed")
    with engine.begin() as connection:
        first, second = connection.execute(
            sa.select(tables.entry.c.id)
            .where(tables.entry.c.contest_id == closed)
            .order_by(tables.entry.c.id)
            .limit(2)
        ).scalars()
        connection.execute(
            sa.insert(tables.referral).values(
                contest_id=closed,
                referrer_entry_id=first,
                referred_entry_id=second,
                status=ReferralStatus.REVIEW,
                reasons=["DISPOSABLE_DOMAIN"],
            )
        )
    page = signed_in.get(f"/admin/contests/{closed}/referrals")
    assert "adresse jetable" in visible(page) and "À vérifier" in visible(page)
    assert "DISPOSABLE_DOMAIN" not in page.text


def test_the_cutoff_is_stated_in_the_contest_s_time_zone_in_the_workspace(
    signed_in: TestClient, engine: Engine
) -> None:
    midnight_in_paris = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.contest)
            .where(tables.contest.c.slug == "demo-clients")
            .values(client_cutoff_at=midnight_in_paris, timezone="Europe/Paris")
        )
    clients_only = contest_id_of(engine, "demo-clients")
    dashboard = visible(signed_in.get(f"/admin/contests/{clients_only}"))
    assert "clientes avant le 1 mars 2026, 00:00 (heure d’Europe centrale)" in dashboard
    assert "28 février" not in dashboard
    form = visible(signed_in.get(f"/admin/contests/{clients_only}/edit"))
    assert "Dans le fuseau horaire du jeu (Europe/Paris)." in form, "the form names the zone"

    with engine.begin() as connection:  # announced before its cut-off: a rule says so
        connection.execute(
            sa.update(tables.contest)
            .where(tables.contest.c.slug == "demo-clients")
            .values(offered_at=datetime(2026, 2, 15, 8, 30, tzinfo=UTC))
        )
    panel = visible(signed_in.get(f"/admin/contests/{clients_only}/edit"))
    assert "La date limite d'éligibilité (01/03/2026)" in panel, "a local midnight is a date"
    assert "(15/02/2026 à 09:30 CET)" in panel and "23:00 UTC" not in panel


def test_a_folded_section_opens_when_a_rule_names_one_of_its_fields(
    signed_in: TestClient,
) -> None:
    made = signed_in.post(
        "/admin/contests/new",
        data={
            "csrf": csrf(signed_in, "/admin/contests/new"),
            "title": "Parrainé",
            "slug": "parraine",
            "referral_bonus": "2",
            "referral_cap": "0",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    form = signed_in.get(made.headers["location"] + "/edit").text
    assert re.search(r'<details class="section" open>\s*<summary>Parrainage', form)
    assert re.search(r'<details class="section">\s*<summary>Apparence', form)


def test_a_copy_is_titled_and_addressed_in_the_contest_s_language_within_bounds(
    client: TestClient, bearer: dict[str, str]
) -> None:
    original = client.post(
        "/api/v1/contests",
        json={
            "title": "Summer",
            "slug": "a" * 64,
            "language": "en",
            "audience": "clients",
            "client_cutoff_at": "2026-06-01T00:00:00+02:00",
            "opens_at": "2026-06-02T09:00:00+02:00",
        },
        headers=bearer,
    )
    assert original.status_code == 201, original.text
    source = original.json()["id"]
    first = client.post(f"/api/v1/contests/{source}/duplicate", headers=bearer).json()
    second = client.post(f"/api/v1/contests/{source}/duplicate", headers=bearer).json()
    assert (first["title"], first["slug"]) == ("Summer (copy)", "a" * 52 + "-copy")
    assert second["slug"] == "a" * 52 + "-copy-2" and len(second["slug"]) <= 64
    assert first["audience"] == "clients" and first["client_cutoff_at"] is None
    assert first["opens_at"] is None and first["status"] == "draft"
    entries = client.get(f"/api/v1/contests/{first['id']}/entries", headers=bearer).json()
    assert entries["items"] == []


def test_a_viewer_s_token_may_not_duplicate_a_contest(
    client: TestClient, settings: Settings, engine: Engine
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    page = client.get("/admin/api-tokens").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    created = client.post(
        "/admin/api-tokens", data={"csrf": token.group(1), "name": "Lecture", "role": "viewer"}
    ).text
    found = re.search(r"(ctk_[A-Za-z0-9_-]+)", created)
    assert found
    demo = contest_id_of(engine, "demo")
    refused = client.post(
        f"/api/v1/contests/{demo}/duplicate",
        headers={"Authorization": f"Bearer {found.group(1)}"},
    )
    assert refused.status_code == 403
    with engine.connect() as connection:
        copies = connection.execute(
            sa.select(sa.func.count()).where(tables.contest.c.slug.like("demo-cop%"))
        ).scalar_one()
    assert copies == 0
