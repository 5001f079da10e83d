"""After the draw: winners told by e-mail, claims give voucher codes, unclaimed prizes pass on."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.clock import FixedClock
from contest.contests import load_contest
from contest.demo import demo_password
from contest.draw.drawing import run_draw, signing_key
from contest.mail import Sender
from contest.prizes import claims
from contest.prizes.vouchers import is_valid_code
from contest.settings import Settings
from tests.helpers import link_in, read_eml, shown, sign_in


def draw_demo_closed(engine: Engine, settings: Settings, clock: FixedClock) -> None:
    key, key_id = signing_key(settings.secret_keys[0].reveal())
    run_draw(engine, "demo-closed", clock.now(), signing_key=key, key_id=key_id)
    with engine.begin() as connection:
        contest = load_contest(connection, "demo-closed")
        assert claims.notify_winners(connection, contest, clock.now()) == 3
        assert claims.notify_winners(connection, contest, clock.now()) == 0, "once"


def test_three_winners_claim_three_distinct_voucher_codes(
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
) -> None:
    draw_demo_closed(engine, settings, clock)
    assert sender.run_once() == 3
    wins = read_eml(settings.mail_dir)
    assert len(wins) == 3 and all("Vous avez gagné" in m["Subject"] for m in wins)
    codes = []
    for mail in wins:
        link = link_in(mail, r"http://testserver/c/demo-closed/claim/\S+").removeprefix(
            "http://testserver"
        )
        page = client.get(link)
        assert page.status_code == 200 and "Réclamer mon lot" in shown(page)
        claimed = client.post(link)
        code = re.search(r'data-voucher="([^"]+)"', claimed.text).group(1)  # type: ignore[union-attr]
        assert is_valid_code(code)
        again = client.post(link)
        assert code in again.text, "claiming twice shows the same code"
        codes.append(code)
    assert len(set(codes)) == 3
    sender.run_once()  # voucher e-mails and the shop jobs (CSV: no shop configured)
    voucher_mails = [m for m in read_eml(settings.mail_dir) if "bon d'achat" in m["Subject"]]
    assert len(voucher_mails) == 3
    # No shop holds the codes yet: the winner is not told to type one in the basket today.
    body = voucher_mails[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "La boutique enregistre ce code" in body and "Saisissez ce code" not in body
    page = shown(client.get(link))
    assert "La boutique enregistre ce code" in page and "Saisissez ce code" not in page
    with engine.connect() as connection:
        statuses = connection.execute(sa.select(tables.prizeaward.c.status)).scalars().all()
    assert sorted(statuses) == ["to_import"] * 3, "never delivered while no shop confirmed it"

    sign_in(client, "demo@example.org", demo_password(settings))
    dashboard = client.get(f"/admin/contests/{contest_id(engine)}")
    assert "à importer dans la boutique" in shown(dashboard)
    exported = client.get(f"/admin/contests/{contest_id(engine)}/vouchers.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert all(code in exported.text for code in codes), "the codes, ready for the shop's import"
    with engine.connect() as connection:
        actions = connection.execute(sa.select(tables.auditevent.c.action)).scalars().all()
    assert "vouchers.exported" in actions


def contest_id(engine: Engine) -> int:
    with engine.connect() as connection:
        found: int = connection.execute(
            sa.select(tables.contest.c.id).where(tables.contest.c.slug == "demo-closed")
        ).scalar_one()
    return found


def test_an_unclaimed_prize_passes_to_the_next_alternate(
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
) -> None:
    draw_demo_closed(engine, settings, clock)
    later = clock.now() + timedelta(days=31)
    with engine.begin() as connection:
        contest = load_contest(connection, "demo-closed")
        assert claims.pass_unclaimed(connection, contest, later) == 3
        rows = connection.execute(
            sa.select(tables.prizeaward.c.status, tables.prizeaward.c.reason)
        ).all()
    assert sorted(r.status for r in rows) == ["expired"] * 3 + ["notified"] * 3
    assert {r.reason for r in rows if r.status == "expired"} == {claims.UNCLAIMED}


def test_claiming_after_the_deadline_is_refused_clearly(
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
) -> None:
    draw_demo_closed(engine, settings, clock)
    sender.run_once()
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.prizeaward).values(deadline=clock.now() - timedelta(days=1))
        )
    link = link_in(read_eml(settings.mail_dir)[0], r"http://testserver/c/demo-closed/claim/\S+")
    answer = client.post(link.removeprefix("http://testserver"))
    assert answer.status_code == 410 and "suivante" in shown(answer)


def test_the_contest_page_publishes_the_result_and_the_record_without_personal_data(
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
) -> None:
    draw_demo_closed(engine, settings, clock)
    client.app.state.contest.contests.forget("demo-closed")  # type: ignore[attr-defined]
    page = shown(client.get("/c/demo-closed"))
    assert "Le tirage" in page and "Lot 1 : ticket" in page
    assert "gagnant prévenu" in page
    record = client.get("/c/demo-closed/draw.json")
    assert record.status_code == 200 and '"commitment"' in record.text
    assert "@" not in record.text


def test_the_organizer_draws_from_the_workspace(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:

    from contest.demo import demo_password

    sign_in(client, "demo@example.org", demo_password(settings))
    with engine.connect() as connection:
        contest_id = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug = 'demo-closed'")
        ).scalar_one()
    page = client.get(f"/admin/contests/{contest_id}").text
    assert "Tirer les gagnants au sort" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post(f"/admin/contests/{contest_id}/draw", data={"csrf": csrf})
    assert answer.status_code == 200  # redirected to the dashboard
    assert sender.run_once() == 3, "the three winners are told"
    after = client.get(f"/admin/contests/{contest_id}").text
    assert "Tirer les gagnants au sort" not in after and "draw.json" in after


def test_a_claim_link_works_for_the_whole_claim_period_of_up_to_a_year(
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
) -> None:
    """The link in the winner's mail outlives the longest claim period (365 days): the
    award's deadline decides, not the link."""
    draw_demo_closed(engine, settings, clock)
    sender.run_once()
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.prizeaward).values(deadline=clock.now() + timedelta(days=365))
        )
    link = link_in(read_eml(settings.mail_dir)[0], r"http://testserver/c/demo-closed/claim/\S+")
    clock.advance(timedelta(days=300))
    claimed = client.post(link.removeprefix("http://testserver"))
    assert claimed.status_code == 200 and 'data-voucher="' in claimed.text
