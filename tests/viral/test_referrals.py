"""Referral through real pages: share link, attribution without cookies, credit on confirmation."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.clock import FixedClock
from contest.mail import Sender
from contest.settings import Settings
from tests.helpers import form_token, link_in, read_eml, shown
from tests.viral.referral_steps import enter_and_confirm, share_path


def counters(client: TestClient, own: str) -> tuple[int, int]:
    page = client.get(own).text
    chances = re.search(r'data-chances="(\d+)"', page).group(1)  # type: ignore[union-attr]
    referred = re.search(r'data-referrals="(\d+)"', page).group(1)  # type: ignore[union-attr]
    return int(chances), int(referred)


def test_confirmed_participant_gets_a_share_link_buttons_and_qr(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    own = enter_and_confirm(client, sender, settings, "ann@example.org")
    page = client.get(own).text
    assert re.search(r"/r/[34679ACDEFGHJKMNPQRTWXY]{11}", page)
    for intent in ("wa.me", "facebook.com/sharer", "twitter.com/intent", "linkedin.com", "mailto:"):
        assert intent in page
    assert 'src="data:image/svg+xml;base64,' in page, "a QR code of the link"
    assert counters(client, own) == (1, 0)


def test_confirmed_referral_raises_the_referrers_chances_unconfirmed_does_not(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    ann = enter_and_confirm(client, sender, settings, "ann@example.org")
    link = share_path(client, ann)
    landing = client.get(link, follow_redirects=False)
    assert landing.status_code == 303 and "?ref=" in landing.headers["location"]
    assert "set-cookie" not in landing.headers, "attribution needs no cookie"
    invited = client.get(landing.headers["location"])
    assert "ann@ vous invite à participer" in shown(invited)

    page = invited.text
    hidden = dict(re.findall(r'<input type="hidden" name="(ref)" value="([^"]+)">', page))
    client.post(
        "/c/demo/entries",
        data={
            "form_token": form_token(page),
            "email": "bob@example.org",
            "accept_rules": "on",
            **hidden,
        },
    )
    assert counters(client, ann) == (1, 0), "an unconfirmed referral earns nothing"

    sender.run_once()
    bob_mail = [m for m in read_eml(settings.mail_dir) if m["To"] == "bob@example.org"][-1]
    confirm = link_in(bob_mail, r"http://testserver/c/demo/confirm/\S+").removeprefix(
        "http://testserver"
    )
    client.post(confirm)
    assert counters(client, ann) == (2, 1)
    with engine.connect() as connection:
        source, clicks = connection.execute(
            sa.text(
                "SELECT e.source, (SELECT count(*) FROM linkclick WHERE kind = 'referral') "
                "FROM entry e JOIN person p ON p.id = e.person_id "
                "WHERE p.email_key = 'bob@example.org'"
            )
        ).one()
    assert source == "referral" and clicks == 1


def test_entering_again_with_a_variant_of_ones_own_address_earns_nothing(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    ann = enter_and_confirm(client, sender, settings, "ann.smith@gmail.com")
    invited = client.get(share_path(client, ann))
    page = invited.text
    hidden = dict(re.findall(r'<input type="hidden" name="(ref)" value="([^"]+)">', page))
    again = client.post(
        "/c/demo/entries",
        data={
            "form_token": form_token(page),
            "email": "AnnSmith+friend@gmail.com",
            "accept_rules": "on",
            **hidden,
        },
    )
    assert "Consultez votre boîte mail" in shown(again), "answered as a first entry"
    assert counters(client, ann) == (1, 0)


def test_disposable_address_goes_to_review_and_the_organizer_decides(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    ann = enter_and_confirm(client, sender, settings, "ann@example.org")
    enter_and_confirm(client, sender, settings, "temp@mailinator.com", share_path(client, ann))
    assert counters(client, ann) == (1, 0)
    page = shown(client.get(ann))
    assert "Une recommandation est en cours de vérification" in page
    assert "adresse jetable" in page
    with engine.connect() as connection:
        status, reasons = connection.execute(
            sa.select(tables.referral.c.status, tables.referral.c.reasons)
        ).one()
    assert status == "review" and reasons == ["DISPOSABLE_DOMAIN"]


def test_bonus_stops_at_the_cap(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE contest SET referral_cap = 1 WHERE slug = 'demo'"))
    client.app.state.contest.contests.forget("demo")  # type: ignore[attr-defined]
    ann = enter_and_confirm(client, sender, settings, "ann@example.org")
    link = share_path(client, ann)
    enter_and_confirm(client, sender, settings, "bob@example.org", link)
    enter_and_confirm(client, sender, settings, "cid@example.org", link)
    assert counters(client, ann) == (2, 1)
    with engine.connect() as connection:
        reasons = connection.execute(
            sa.select(tables.referral.c.reasons).where(tables.referral.c.status == "not_credited")
        ).scalar_one()
    assert reasons == ["CAP_REACHED"]


def test_a_referral_token_past_the_attribution_window_is_ignored(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    ann = enter_and_confirm(client, sender, settings, "ann@example.org")
    link = share_path(client, ann)
    clock.advance(-timedelta(days=31))  # the link was followed 31 days ago
    old = client.get(link, follow_redirects=False).headers["location"]
    clock.advance(timedelta(days=31))
    page = client.get(old)
    assert "vous invite" not in shown(page)
    assert 'name="ref"' not in page.text


def test_client_only_contests_never_offer_share_links(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    page = client.get("/c/demo-clients")
    data = {"form_token": form_token(page.text), "email": "loyal@example.org", "accept_rules": "on"}
    client.post("/c/demo-clients/entries", data=data)
    sender.run_once()
    mail = [m for m in read_eml(settings.mail_dir) if m["To"] == "loyal@example.org"][-1]
    confirm = link_in(mail, r"http://testserver/c/demo-clients/confirm/\S+").removeprefix(
        "http://testserver"
    )
    own = client.post(confirm, follow_redirects=False).headers["location"]
    assert "/r/" not in client.get(own).text


def test_utm_campaign_and_partner_links_record_the_source(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    enter_and_confirm(client, sender, settings, "utm@example.org", "/c/demo?utm_campaign=noel-2026")
    with engine.begin() as connection:
        contest_id = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug = 'demo'")
        ).scalar_one()
        connection.execute(
            sa.insert(tables.sourcelink).values(
                contest_id=contest_id,
                code="PARTNER3467",
                label="Blog",
                kind="partner",
                utm_source="",
                utm_medium="",
                utm_campaign="",
                created_at=sa.func.current_timestamp(),
            )
        )
    landing = client.get("/s/PARTNER3467", follow_redirects=False)
    assert landing.status_code == 303 and "?src=" in landing.headers["location"]
    enter_and_confirm(client, sender, settings, "blog@example.org", landing.headers["location"])
    with engine.connect() as connection:
        sources = dict(
            connection.execute(
                sa.text(
                    "SELECT p.email_key, e.source FROM entry e JOIN person p ON p.id = e.person_id "
                    "WHERE p.email_key IN ('utm@example.org', 'blog@example.org')"
                )
            ).all()  # type: ignore[arg-type]
        )
    assert sources == {
        "utm@example.org": "utm:noel-2026",
        "blog@example.org": "partner:PARTNER3467",
    }
    assert client.get("/s/UNKNOWN3467").status_code == 404
