"""Contact pressure: one organizer reaches one person at most once a week, never after a no."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.clock import FixedClock
from contest.leads.consents import withdraw
from contest.mail import Sender, mark_undeliverable
from contest.people import email_key
from contest.settings import Settings
from tests.helpers import enter, shown
from tests.viral.referral_steps import enter_and_confirm
from tests.viral.test_invitations_and_review import invite, make_us_contest
from viral.invitations import address_hash


def _invitations(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM invitation")).scalar_one())


def _another_contest_invited(engine: Engine, settings: Settings, friend: str, at: datetime):
    """An invitation sent to ``friend`` at ``at`` by another contest of the same organizer."""
    secret = settings.secret_keys[0].reveal().encode()
    contest, invitation = tables.contest, tables.invitation
    with engine.begin() as connection:
        other_id = connection.execute(
            sa.select(contest.c.id).where(contest.c.slug == "demo-clients")
        ).scalar_one()
        referrer = connection.execute(sa.select(tables.entry.c.id).limit(1)).scalar_one()
        connection.execute(
            sa.insert(invitation).values(
                contest_id=other_id,
                referrer_entry_id=referrer,
                address_hash=address_hash(secret, email_key(friend)),
                ip_network="",
                created_at=at,
            )
        )


def test_one_invitation_a_week_across_all_the_organizers_contests(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    make_us_contest(client, engine)
    own = enter_and_confirm(client, sender, settings, "ann@example.org")
    two_days_ago = clock.now() - timedelta(days=2)
    _another_contest_invited(engine, settings, "Friend@Example.org", two_days_ago)
    before = _invitations(engine)

    refused = invite(client, own, "friend@example.org")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "déjà reçu une invitation de notre part" in shown(refused)
    assert _invitations(engine) == before, "nothing is recorded or queued"

    # A week later, the other contest's invitation no longer counts.
    with engine.begin() as connection:
        connection.execute(
            sa.update(tables.invitation).values(created_at=clock.now() - timedelta(days=8))
        )
    assert invite(client, own, "friend@example.org").status_code == 200  # type: ignore[attr-defined]


def test_a_person_who_withdrew_is_never_invited_again(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    make_us_contest(client, engine)
    own = enter_and_confirm(client, sender, settings, "ann@example.org")
    assert enter(client, email="carl@example.org", consent_marketing_email="on").status_code == 303
    person = tables.person
    with engine.begin() as connection:
        carl = connection.execute(
            sa.select(person.c.id).where(person.c.email == "carl@example.org")
        ).scalar_one()
        assert withdraw(connection, carl, ["marketing_email"], "unsubscribe", clock.now(), "Stop")

    refused = invite(client, own, "carl@example.org")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "Nous ne pouvons pas envoyer d'invitation" in shown(refused)

    # An address that bounced for good is not written to again either.
    enter(client, email="dora@example.org")
    mark_undeliverable(engine, "dora@example.org")
    assert invite(client, own, "dora@example.org").status_code == 403  # type: ignore[attr-defined]


def test_an_invitation_to_a_known_person_is_counted_as_a_contact(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    make_us_contest(client, engine)
    own = enter_and_confirm(client, sender, settings, "ann@example.org")
    enter(client, email="eve@example.org")
    assert invite(client, own, "eve@example.org").status_code == 200  # type: ignore[attr-defined]
    with engine.connect() as connection:
        kinds = connection.execute(sa.text("SELECT kind FROM contactevent")).scalars().all()
    assert kinds == ["invitation"]
