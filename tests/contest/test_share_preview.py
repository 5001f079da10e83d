"""A shared contest link shows a preview card; private pages are never indexed."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.mail import Sender
from contest.settings import Settings
from contest.sharecard import draw_card
from tests.helpers import enter, link_in, read_eml


def meta(html: str, key: str) -> str | None:
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    return found.group(1) if found else None


def test_the_contest_page_carries_open_graph_and_twitter_tags_with_a_real_image(
    client: TestClient,
) -> None:
    page = client.get("/c/demo").text

    assert meta(page, "og:title") and meta(page, "twitter:title") == meta(page, "og:title")
    assert meta(page, "description") and meta(page, "og:description")
    assert meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "og:url") == "http://testserver/c/demo"
    image_url = meta(page, "og:image")
    assert image_url and image_url.startswith("http://testserver/")
    image = client.get(image_url.removeprefix("http://testserver"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (1200, 630)
    again = client.get(image_url.removeprefix("http://testserver"))
    assert again.content == image.content, "the card is drawn once and kept"
    assert "x-robots-tag" not in client.get("/c/demo").headers


def test_a_client_only_contest_is_not_advertised_to_link_previews(
    client: TestClient, engine: Engine
) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.contest)
            .where(tables.contest.c.slug == "demo")
            .values(audience="clients")
        )
    client.app.state.contest.contests.clear()  # type: ignore[attr-defined]
    page = client.get("/c/demo").text
    assert meta(page, "og:title") is None and meta(page, "robots") == "noindex"
    assert client.get("/c/demo/card.png").status_code == 404


def test_robots_and_private_pages_are_kept_out_of_search_engines(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and "Disallow: /admin/" in robots.text
    assert "Allow: /c/" in robots.text

    enter(client, email="private@example.org")
    sender.run_once()
    [mail] = [m for m in read_eml(settings.mail_dir) if m["To"] == "private@example.org"]
    confirm = link_in(mail, r"http://testserver/c/demo/confirm/\S+").removeprefix(
        "http://testserver"
    )
    assert client.get(confirm).headers["x-robots-tag"] == "noindex, nofollow"
    assert client.get("/admin/").headers["x-robots-tag"] == "noindex, nofollow"


@examples(max_examples=25, deadline=None)
@given(title=st.text(max_size=200), prize=st.text(max_size=300), organizer=st.text(max_size=200))
def test_any_title_prize_and_name_make_a_card_of_the_right_size(
    title: str, prize: str, organizer: str
) -> None:
    assert draw_card(title, prize, organizer, "#1f4fd1", "#6b3fd1").size == (1200, 630)
