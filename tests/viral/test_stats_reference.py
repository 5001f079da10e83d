"""The viral statistics of random referral forests equal a plain Python reading of their
definitions (viral.stats.ViralStats), on both databases: the queries are written for speed
(per-day index ranges, per-referrer counts first), this pins what they compute."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from contest import tables
from tests.viral.test_stats import add_entries
from viral.stats import COHORT_DAYS, Cohort, viral_stats

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
START = datetime(2026, 8, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Person:
    confirmed_at: datetime | None  # None: pending
    referrer: int | None  # an index into the earlier people


@st.composite
def forests(draw: st.DrawFn) -> list[Person]:
    """Up to 40 entries over ~4 months (gaps of days included, a few after ``NOW``), each
    referred by an earlier one or by nobody; about a fifth pending."""
    people: list[Person] = []
    for index in range(draw(st.integers(0, 40))):
        confirmed_at = None
        if draw(st.integers(0, 4)):
            minutes = draw(st.integers(0, 125 * 24 * 60))
            confirmed_at = START + timedelta(minutes=minutes, seconds=draw(st.integers(0, 59)))
        referrer = None
        if index and draw(st.booleans()):
            referrer = draw(st.integers(0, index - 1))
        people.append(Person(confirmed_at, referrer))
    return people


def reference(people: list[Person]) -> tuple[tuple[Cohort, ...], tuple[int, ...], float | None]:
    """(cohorts, generations, cycle time) as ViralStats defines them."""
    confirmed = [n for n, p in enumerate(people) if p.confirmed_at is not None]
    children: dict[int, list[int]] = {}
    for n in confirmed:
        referrer = people[n].referrer
        if referrer is not None:
            children.setdefault(referrer, []).append(n)

    def day(n: int) -> date:
        moment = people[n].confirmed_at
        assert moment is not None
        return moment.date()

    cohort_days = sorted({day(n) for n in confirmed if day(n) <= NOW.date()})[-COHORT_DAYS:]
    participants = Counter(day(n) for n in confirmed)
    referred = Counter(day(n) for n in confirmed for _child in children.get(n, ()))
    cohorts = tuple(
        Cohort(d, participants[d], referred[d], referred[d] / participants[d]) for d in cohort_days
    )
    generations: list[int] = []
    level = [n for n in confirmed if people[n].referrer is None]
    while level:
        generations.append(len(level))
        level = [child for n in level for child in children.get(n, ())]
    delays = []
    for n in confirmed:
        if n in children:
            first = min(people[child].confirmed_at for child in children[n])  # type: ignore[type-var]
            at = people[n].confirmed_at
            assert first is not None and at is not None
            delays.append((first - at).total_seconds())
    cycle = round(statistics.median(delays), 3) if delays else None
    return cohorts, tuple(generations), cycle


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(people=forests())
def test_cohorts_generations_and_cycle_time_follow_their_definitions(
    engine: Engine, people: list[Person]
) -> None:
    with engine.connect() as connection, connection.begin() as transaction:
        organizer = connection.execute(
            sa.insert(tables.organizer)
            .values(email="forest@example.org", password_hash="-")
            .returning(tables.organizer.c.id)
        ).scalar_one()
        contest = connection.execute(
            sa.insert(tables.contest)
            .values(organizer_id=organizer, slug="forest", title="Forest")
            .returning(tables.contest.c.id)
        ).scalar_one()
        ids: list[int] = []
        for person in people:  # one at a time: a referrer's id is known before its referrals
            referrer = ids[person.referrer] if person.referrer is not None else None
            ids += add_entries(connection, contest, [("Forest", person.confirmed_at, referrer)])
        stats = viral_stats(connection, contest, NOW)
        transaction.rollback()
    cohorts, generations, cycle = reference(people)
    assert stats.cohorts == cohorts
    assert stats.generations == generations
    if cycle is None:
        assert stats.cycle_time_seconds is None
    else:
        assert stats.cycle_time_seconds == pytest.approx(cycle, abs=0.01)
