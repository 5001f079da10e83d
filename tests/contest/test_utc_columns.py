"""Timestamps stored in UTC: on SQLite, the exact text SQLAlchemy's ``DateTime`` stores.

Queries compare and subtract stored timestamps as text (ranges, ``julianday``), and rows
written before the quicker conversion must sort with those written after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st

from contest.columns import UTCDateTime

metadata = sa.MetaData()
moments = sa.Table(
    "moment",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime()),
    sa.Column("plain", sa.DateTime()),
)

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# hypothesis bounds are naive (wall times); the zone comes from ``timezones``.
aware = st.datetimes(
    min_value=datetime(1000, 1, 2, tzinfo=UTC).replace(tzinfo=None),
    max_value=datetime(9999, 12, 30, tzinfo=UTC).replace(tzinfo=None),
    timezones=offsets,
)


@pytest.fixture(scope="module")
def engine() -> sa.Engine:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    return engine


@given(moment=aware)
@example(moment=datetime(2026, 12, 4, 15, 30, tzinfo=UTC))
@example(
    moment=datetime(2026, 3, 29, 2, 30, 0, 1, tzinfo=timezone(timedelta(hours=-9, minutes=-30)))
)
def test_a_timestamp_is_stored_as_sqlalchemy_stores_its_utc_time_and_read_back_the_same(
    engine: sa.Engine, moment: datetime
) -> None:
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        row_id = connection.execute(
            moments.insert().values(at=moment, plain=utc).returning(moments.c.id)
        ).scalar_one()
        stored, plain = connection.execute(
            sa.text("SELECT at, plain FROM moment WHERE id = :id"), {"id": row_id}
        ).one()
        read = connection.execute(
            sa.select(moments.c.at).where(moments.c.id == row_id, moments.c.at == moment)
        ).scalar_one()
    assert stored == plain
    assert read == moment and read.tzinfo is UTC


def test_a_naive_timestamp_is_refused(engine: sa.Engine) -> None:
    naive = datetime(2026, 12, 4, 15, 30, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as connection, pytest.raises(sa.exc.StatementError, match="naive"):
        connection.execute(moments.insert().values(at=naive))
