"""The capture pop-in: the loader a shop pastes, and the framed invitation's policy."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.demo import demo_password
from contest.settings import Settings
from contest.web.embed import frame_origins
from tests.helpers import shown, sign_in

SHOP = "https://shop.example"


def allow_shops(client: TestClient, engine: Engine, origins: list[str], slug: str = "demo") -> None:
    contest = tables.contest
    with engine.begin() as connection:
        connection.execute(
            contest.update().where(contest.c.slug == slug).values(embed_origins=origins)
        )
    client.app.state.contest.contests.forget(slug)  # type: ignore[attr-defined]


def frame_ancestors(response: object) -> str:
    policy = response.headers["content-security-policy"]  # type: ignore[attr-defined]
    match = re.search(r"frame-ancestors ([^;]+)", policy)
    assert match, policy
    return match.group(1)


def test_loader_is_javascript_cached_five_minutes(client: TestClient) -> None:
    answer = client.get("/embed/demo.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert "contest-popin" in answer.text
    assert "http" not in re.sub(r"//.*", "", answer.text)  # no address of its own to call


@pytest.mark.parametrize("path", ["/embed/nope.js", "/embed/nope"])
def test_unknown_contest_has_no_pop_in(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/embed/demo-clients.js", "/embed/demo-clients"])
def test_client_only_contest_is_never_advertised(
    client: TestClient, engine: Engine, path: str
) -> None:
    allow_shops(client, engine, [SHOP], slug="demo-clients")
    assert client.get(path).status_code == 404


def test_frame_refuses_every_shop_until_one_is_allowed(client: TestClient) -> None:
    answer = client.get("/embed/demo")
    assert answer.status_code == 200
    assert frame_ancestors(answer) == "'none'"
    assert answer.headers["x-frame-options"] == "DENY"


def test_frame_ancestors_lists_the_allowed_shops(client: TestClient, engine: Engine) -> None:
    allow_shops(client, engine, [SHOP, "http://localhost:8001"])
    answer = client.get("/embed/demo")
    assert frame_ancestors(answer) == f"{SHOP} http://localhost:8001"
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert 'data-origins="https://shop.example http://localhost:8001"' in answer.text


def test_invalid_origins_are_ignored(client: TestClient, engine: Engine) -> None:
    allow_shops(
        client,
        engine,
        ["http://shop.example", "https://*.example", "https://a.example/path", "'unsafe-inline'"]
        + ["https://ok.example; script-src *", "https://Ok.Example/"],
    )
    assert frame_ancestors(client.get("/embed/demo")) == "https://ok.example"


def test_frame_invites_in_the_contest_language_with_the_entry_form(client: TestClient) -> None:
    page = client.get("/embed/demo")
    text = shown(page)
    assert "Gagnez 500 € de bons d'achat" in text
    assert "Bon d'achat de 300 € sur La Boutique Démo" in text  # the main prize
    assert "Jeu gratuit sans obligation d'achat" in text
    assert 'name="form_token"' in page.text and 'action="/c/demo/entries"' in page.text
    assert 'data-delay-hours="24"' in page.text and 'data-open="true"' in page.text
    assert 'target="_blank" rel="noopener"' in page.text
    english = shown(client.get("/embed/demo?lang=en"))
    assert "Free contest, no purchase necessary." in english and "Not now" in english


def test_delay_comes_from_the_contest(client: TestClient, engine: Engine) -> None:
    contest = tables.contest
    with engine.begin() as connection:
        connection.execute(
            contest.update().where(contest.c.slug == "demo").values(popin_delay_hours=72)
        )
    client.app.state.contest.contests.forget("demo")  # type: ignore[attr-defined]
    assert 'data-delay-hours="72"' in client.get("/embed/demo").text


def test_entry_through_the_frame_is_counted_as_coming_from_the_pop_in(
    client: TestClient, engine: Engine
) -> None:
    page = client.get("/embed/demo").text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    answer = client.post(
        "/c/demo/entries",
        data={**fields, "email": "pop@example.org", "first_name": "Pop", "accept_rules": "on"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert 'id="entry" class="card entry done"' in answer.text
    with engine.connect() as connection:
        source = connection.execute(
            sa.text(
                "SELECT entry.source FROM entry JOIN person ON person.id = entry.person_id "
                "WHERE person.email = 'pop@example.org'"
            )
        ).scalar_one()
    assert source == "popin"


def test_origin_filter_keeps_order_and_drops_repeats() -> None:
    assert frame_origins(["https://b.example", "https://a.example:8443", "https://b.example/"]) == (
        "https://b.example",
        "https://a.example:8443",
    )
    assert frame_origins(["http://localhost", "http://127.0.0.1:70000", "https://x:0"]) == ()


def test_the_workspace_gives_the_line_to_paste_beside_the_allowed_shops(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    with engine.connect() as connection:
        demo_id = connection.execute(
            sa.select(tables.contest.c.id).where(tables.contest.c.slug == "demo")
        ).scalar_one()
    before = shown(client.get(f"/admin/contests/{demo_id}"))
    assert "ajoutez l'adresse de la boutique" in before and "/embed/demo.js" not in before
    allow_shops(client, engine, ["https://www.myshop.fr"])
    page = shown(client.get(f"/admin/contests/{demo_id}"))
    assert '<script src="http://testserver/embed/demo.js" async></script>' in page
    assert "https://www.myshop.fr" in page
