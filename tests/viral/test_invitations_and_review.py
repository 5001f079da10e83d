"""Platform-sent invitations only where lawful, with limits; the organizer's review queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from contest import tables
from contest.app import create_app
from contest.clock import FixedClock
from contest.demo import demo_password
from contest.mail import Sender
from contest.settings import Settings
from tests.helpers import link_in, read_eml, shown, sign_in
from tests.viral.referral_steps import enter_and_confirm, share_path

DEMO_ID = sa.text("SELECT id FROM contest WHERE slug = 'demo'")


def make_us_contest(client: TestClient, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.contest)
            .where(tables.contest.c.slug == "demo")
            .values(jurisdictions=["US"], platform_invitations=True, min_age=18)
        )
    client.app.state.contest.contests.forget("demo")  # type: ignore[attr-defined]


def invite(client: TestClient, own: str, friend: str, knows: bool = True) -> object:
    data = {"friend": friend}
    if knows:
        data["knows"] = "on"
    return client.post(own + "/invite", data=data)


def test_platform_invitations_are_refused_for_an_eu_contest_with_the_rule_id(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    own = enter_and_confirm(client, sender, settings, "ann@example.org")
    answer = invite(client, own, "friend@example.org")
    assert answer.status_code == 403  # type: ignore[attr-defined]
    assert "EU-REFER-NOSEND-1" in shown(answer)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM invitation")).scalar_one() == 0


def test_us_invitations_limit_the_day_and_honour_never_again(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    make_us_contest(client, engine)
    own = enter_and_confirm(client, sender, settings, "ann@example.org")
    assert invite(client, own, "f0@example.org", knows=False).status_code == 403  # type: ignore[attr-defined]
    for n in range(5):
        assert invite(client, own, f"f{n}@example.org").status_code == 200  # type: ignore[attr-defined]
    sixth = invite(client, own, "f5@example.org")
    assert sixth.status_code == 429  # type: ignore[attr-defined]
    assert "5 invitations aujourd'hui" in shown(sixth)
    assert invite(client, own, "f0@example.org").status_code in {403, 429}  # type: ignore[attr-defined]

    sender.run_once()
    with engine.connect() as connection:
        stored = (
            connection.execute(sa.text("SELECT address_hash FROM invitation ORDER BY id"))
            .scalars()
            .all()
        )
        recipients = (
            connection.execute(
                sa.text("SELECT recipient FROM outboxmessage WHERE template = 'invitation'")
            )
            .scalars()
            .all()
        )
    assert all(len(h) == 64 and "@" not in h for h in stored), "only keyed hashes are kept"
    assert recipients == [""] * 5, "the friend's address is dropped once the e-mail is sent"
    [invitation] = [m for m in read_eml(settings.mail_dir) if m["To"] == "f1@example.org"]
    assert invitation["List-Unsubscribe"].startswith("<http://testserver/invite-optout/")
    body = invitation.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index,union-attr]
    assert "12 rue de l'Exemple" in body and "ann@" in body
    optout = link_in(invitation, r"http://testserver/invite-optout/\S+").removeprefix(
        "http://testserver"
    )
    assert client.get(optout).status_code == 200
    assert client.post(optout).status_code == 200

    with engine.begin() as connection:  # a new day for the limits
        connection.execute(sa.text("DELETE FROM invitation"))
    bob = enter_and_confirm(client, sender, settings, "bob@example.org")
    again = invite(client, bob, "f1@example.org")
    assert again.status_code == 403  # type: ignore[attr-defined]
    assert "ne plus recevoir d'invitations" in shown(again)


def test_an_invitation_names_who_sends_it_or_is_not_sent(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    make_us_contest(client, engine)
    own = enter_and_confirm(client, sender, settings, "ann@example.org")
    with engine.begin() as connection:  # entered without a first name
        connection.execute(sa.text("UPDATE person SET first_name = '' WHERE first_name = 'ann@'"))
    nameless = invite(client, own, "friend@example.org")
    assert nameless.status_code == 403  # type: ignore[attr-defined]
    assert "doit savoir qui l'invite" in shown(nameless)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM invitation")).scalar_one() == 0


@pytest.fixture
def signed_in(client: TestClient, settings: Settings) -> TestClient:
    sign_in(client, "demo@example.org", demo_password(settings))
    return client


def test_organizer_clears_a_flagged_referral_and_the_referrer_gains(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    ann = enter_and_confirm(client, sender, settings, "ann@example.org")
    enter_and_confirm(client, sender, settings, "temp@mailinator.com", share_path(client, ann))
    chances = re.search(r'data-chances="(\d+)"', client.get(ann).text).group(1)  # type: ignore[union-attr]
    assert chances == "1"
    sign_in(client, "demo@example.org", demo_password(settings))
    with engine.connect() as connection:
        contest_id = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug='demo'")
        ).scalar_one()
        referral_id = connection.execute(sa.text("SELECT id FROM referral")).scalar_one()
    queue = client.get(f"/admin/contests/{contest_id}/referrals")
    assert "adresse jetable" in queue.text and "temp@mailinator.com" in queue.text
    assert "DISPOSABLE_DOMAIN" not in queue.text, "the signal in words, not its code"
    csrf = re.search(r'name="csrf" value="([^"]+)"', queue.text).group(1)  # type: ignore[union-attr]
    client.post(f"/admin/contests/{contest_id}/referrals/{referral_id}/clear", data={"csrf": csrf})
    client.cookies.clear()
    chances = re.search(r'data-chances="(\d+)"', client.get(ann).text).group(1)  # type: ignore[union-attr]
    assert chances == "2"
    with engine.connect() as connection:
        decided_by, audit = connection.execute(
            sa.text(
                "SELECT decided_by, (SELECT count(*) FROM auditevent "
                "WHERE action = 'referral.clear') FROM referral"
            )
        ).one()
    assert decided_by is not None and audit == 1


def test_tracked_links_count_entries_and_come_with_a_qr_code(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    with engine.connect() as connection:
        contest_id = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug='demo'")
        ).scalar_one()
    page = client.get(f"/admin/contests/{contest_id}/links")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.post(
        f"/admin/contests/{contest_id}/links",
        data={"csrf": csrf, "label": "Affiche boutique", "kind": "poster"},
    )
    listing = client.get(f"/admin/contests/{contest_id}/links").text
    link = re.search(r"http://testserver(/s/[A-Z0-9]+)", listing).group(1)  # type: ignore[union-attr]
    assert 'src="data:image/svg+xml;base64,' in listing
    client.cookies.clear()
    landing = client.get(link, follow_redirects=False).headers["location"]
    enter_and_confirm(client, sender, settings, "poster@example.org", landing)
    sign_in(client, "demo@example.org", demo_password(settings))
    listing = client.get(f"/admin/contests/{contest_id}/links").text
    assert re.search(
        r'<td class="num">1</td>\s*<td class="num">1</td>\s*<td class="num">1</td>', listing
    )


def test_the_invite_form_appears_only_where_invitations_are_lawful(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    own = enter_and_confirm(client, sender, settings, "ann@example.org")
    assert 'name="friend"' not in client.get(own).text, "EU contest: share links only"
    make_us_contest(client, engine)
    assert 'name="friend"' in client.get(own).text


def test_the_rules_page_shows_the_draw_commitment(client: TestClient, engine: Engine) -> None:
    with engine.connect() as connection:
        commitment = connection.execute(
            sa.text("SELECT draw_commitment FROM contest WHERE slug = 'demo'")
        ).scalar_one()
    assert commitment and len(commitment) == 64
    assert commitment in client.get("/c/demo/rules").text


def test_a_flood_of_clicks_from_one_network_counts_once_an_hour(
    settings: Settings, engine: Engine, client: TestClient, clock: FixedClock
) -> None:
    """Clicks are figures, and every click was a row: one network counts once an hour, so a
    flood neither inflates the figures nor grows the table; the visitor is redirected all the
    same."""
    sign_in(client, "demo@example.org", demo_password(settings))
    with engine.connect() as connection:
        contest_id = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug='demo'")
        ).scalar_one()
    page = client.get(f"/admin/contests/{contest_id}/links")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.post(
        f"/admin/contests/{contest_id}/links",
        data={"csrf": csrf, "label": "Affiche", "kind": "poster"},
    )
    listing = client.get(f"/admin/contests/{contest_id}/links").text
    link = re.search(r"http://testserver(/s/[A-Z0-9]+)", listing).group(1)  # type: ignore[union-attr]
    app = ProxyHeadersMiddleware(create_app(settings, engine=engine, clock=clock), "*")
    with TestClient(app, base_url="http://testserver") as visitor:  # type: ignore[arg-type]
        for _ in range(20):
            flood = visitor.get(link, headers={"X-Forwarded-For": "203.0.113.9"},
                                follow_redirects=False)  # fmt: skip
            assert flood.status_code == 303
        visitor.get(link, headers={"X-Forwarded-For": "198.51.100.4"}, follow_redirects=False)
        clock.advance(timedelta(hours=1))
        visitor.get(link, headers={"X-Forwarded-For": "203.0.113.9"}, follow_redirects=False)
    with engine.connect() as connection:
        clicks = connection.execute(sa.text("SELECT count(*) FROM linkclick")).scalar_one()
    assert clicks == 3
