"""Importing and exporting the organizer's client list (FR-CLIENTS-1), on both databases."""

from __future__ import annotations

import io
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from contest import tables
from contest.leads import clients
from contest.leads.clients import MAX_ERRORS, export_clients, import_clients
from contest.models import Organizer
from contest.people import EmailCleaner, InvalidEmail, clean_email

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CLIENTS_CSV = (
    "email,client_since,orders_count,segments\n"
    "ann@example.org,2024-05-01,3,vip|newsletter\n"
    "Bob@Example.org,2023-01-15T09:30:00+02:00,0,\n"
    "carl@example.org,2022-12-31 23:00,12,loyal\n"
)
Stored = dict[str, tuple[datetime, int, list[str], datetime]]


def demo_organizer(engine: Engine) -> int:
    with Session(engine) as session:
        found = session.exec(
            select(Organizer.id).where(Organizer.email == "demo@example.org")
        ).one()
    assert found is not None
    return found


def new_organizer(engine: Engine, email: str = "other-shop@example.org") -> int:
    with Session(engine) as session:
        organizer = Organizer(email=email, password_hash="not-used")
        session.add(organizer)
        session.commit()
        assert organizer.id is not None
        return organizer.id


def clients_of(engine: Engine, oid: int) -> Stored:
    """email_key -> (client_since, orders_count, segments, updated_at)."""
    client = tables.client
    with engine.connect() as connection:
        rows = connection.execute(sa.select(client).where(client.c.organizer_id == oid)).all()
    return {r.email_key: (r.client_since, r.orders_count, r.segments, r.updated_at) for r in rows}


def test_clean_import_creates_every_client(engine: Engine) -> None:
    oid = new_organizer(engine)
    report = import_clients(engine, oid, io.StringIO(CLIENTS_CSV), NOW)
    assert (report.rows_read, report.created, report.updated, report.unchanged) == (3, 3, 0, 0)
    assert (report.error_count, report.errors, report.fatal) == (0, [], None)
    stored = clients_of(engine, oid)
    assert stored["ann@example.org"] == (
        datetime(2024, 5, 1, tzinfo=UTC),
        3,
        ["vip", "newsletter"],
        NOW,
    )
    assert stored["bob@example.org"][:3] == (datetime(2023, 1, 15, 7, 30, tzinfo=UTC), 0, [])
    assert stored["carl@example.org"][:3] == (datetime(2022, 12, 31, 23, tzinfo=UTC), 12, ["loyal"])


def test_reimport_changes_nothing_and_a_changed_row_updates_only_that_client(
    engine: Engine,
) -> None:
    oid = new_organizer(engine)
    import_clients(engine, oid, io.StringIO(CLIENTS_CSV), NOW)
    before = clients_of(engine, oid)
    later = NOW + timedelta(days=1)
    again = import_clients(engine, oid, io.StringIO(CLIENTS_CSV), later)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert clients_of(engine, oid) == before, "not even updated_at moves"
    changed = CLIENTS_CSV.replace(
        "ann@example.org,2024-05-01,3,vip|newsletter", "ann@example.org,2024-04-01,4,vip"
    )
    report = import_clients(engine, oid, io.StringIO(changed), later)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    after = clients_of(engine, oid)
    assert after["ann@example.org"] == (datetime(2024, 4, 1, tzinfo=UTC), 4, ["vip"], later)
    assert after["bob@example.org"] == before["bob@example.org"]


def test_bad_rows_are_skipped_and_reported_at_their_spreadsheet_line(engine: Engine) -> None:
    oid = new_organizer(engine)
    csv_text = (
        "email,client_since,orders_count,segments\n"
        "not-an-address,2024-05-01,1,\n"
        "dan@example.org,31/02/2024,1,\n"
        "eve@example.org,2024-05-01,-2,\n"
        ",2024-05-01,1,\n"
        "fay@example.org,2024-05-01,2,vip\n"
        "gus@example.org,2027-01-01,1,\n"
    )
    report = import_clients(engine, oid, io.StringIO(csv_text), NOW)
    assert (report.rows_read, report.created, report.skipped, report.error_count) == (6, 1, 5, 5)
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "email"),
        (3, "client_since"),
        (4, "orders_count"),
        (5, "email"),
        (7, "client_since"),
    ]
    bad_email, bad_date, negative, missing, future = report.errors
    assert "« not-an-address » n'est pas une adresse e-mail valide" in bad_email.message_fr
    assert '"not-an-address" is not a valid e-mail address' in bad_email.message_en
    assert "jour/mois/année" in bad_date.message_fr and "day/month/year" in bad_date.message_en
    assert "négatif" in negative.message_fr and "write 0 or more" in negative.message_en
    assert "est vide" in missing.message_fr and "is empty" in missing.message_en
    assert "dans le futur" in future.message_fr and "in the future" in future.message_en
    assert list(clients_of(engine, oid)) == ["fay@example.org"]


def test_french_excel_file_with_bom_semicolons_and_french_dates(engine: Engine) -> None:
    oid = new_organizer(engine)
    content = (
        "\ufeffCourriel ; Client depuis;Nombre de commandes;Segments\r\n"
        "ann@example.org;01/05/2024;3;vip|fidèle\r\n"
        '"bob@example.org";15/01/2023 14:30;;"a;b"\r\n'
        "carl@example.org;13/25/2024;1;\r\n"
    ).encode()
    report = import_clients(engine, oid, io.BytesIO(content), NOW)
    assert (report.created, report.fatal) == (2, None)
    stored = clients_of(engine, oid)
    assert stored["ann@example.org"][:3] == (datetime(2024, 5, 1, tzinfo=UTC), 3, ["vip", "fidèle"])
    assert stored["bob@example.org"][:3] == (
        datetime(2023, 1, 15, 14, 30, tzinfo=UTC),
        0,
        ["a", "b"],
    )
    [error] = report.errors
    assert (error.line, error.column) == (4, "Client depuis"), "the column as the file names it"


class UnseekableStream(io.BytesIO):
    def seekable(self) -> bool:
        return False


def test_non_utf8_file_is_refused_whole_and_a_stream_at_its_bad_line(engine: Engine) -> None:
    oid = new_organizer(engine)
    latin1 = CLIENTS_CSV.replace("loyal", "fidèle").encode("latin-1")
    report = import_clients(engine, oid, io.BytesIO(latin1), NOW)
    assert report.fatal is not None
    assert "pas encodé en UTF-8 (ligne 4)" in report.fatal[0] and "CSV UTF-8" in report.fatal[0]
    assert "not UTF-8 encoded (line 4)" in report.fatal[1]
    assert (report.rows_read, clients_of(engine, oid)) == (0, {}), "a file is checked first"

    report = import_clients(engine, oid, UnseekableStream(latin1), NOW)
    assert report.fatal is not None and "(line 4)" in report.fatal[1]
    assert "The lines before it were processed" in report.fatal[1]
    assert report.created == 2, "a stream cannot be read twice: the lines before are kept"
    assert sorted(clients_of(engine, oid)) == ["ann@example.org", "bob@example.org"]


HEADER_PROBLEMS = {
    "": ("La première ligne est vide", "The first line is empty"),
    "ann@example.org,2024-05-01\n": ("contient une adresse", "holds an address"),
    "email,orders_count\nann@example.org,3\n": ("absente", "missing from the first line"),
    "email,client_since,name\nann@example.org,2024-05-01,Ann\n": ("« name »", '"name"'),
    "email,client_since,email\nann@example.org,2024-05-01,x\n": ("deux fois", "twice"),
}


def test_files_without_a_usable_header_are_refused_and_nothing_written(engine: Engine) -> None:
    oid = new_organizer(engine)
    for content, (french, english) in HEADER_PROBLEMS.items():
        report = import_clients(engine, oid, io.StringIO(content), NOW)
        assert report.fatal is not None, content
        assert french in report.fatal[0] and english in report.fatal[1], content
        assert report.rows_read == 0
    assert clients_of(engine, oid) == {}


def test_importing_for_one_organizer_never_touches_another(engine: Engine, demo: None) -> None:
    demo_id, other_id = demo_organizer(engine), new_organizer(engine)
    demo_before = clients_of(engine, demo_id)
    same_address = "email,client_since,orders_count\nloyal@example.org,2026-01-01,1\n"
    report = import_clients(engine, other_id, io.StringIO(same_address), NOW)
    assert report.created == 1, "another shop's client is new to this one"
    assert clients_of(engine, demo_id) == demo_before
    assert clients_of(engine, other_id)["loyal@example.org"][:2] == (
        datetime(2026, 1, 1, tzinfo=UTC),
        1,
    )


def test_export_then_reimport_gives_identical_rows(engine: Engine, demo: None) -> None:
    demo_id, copy_id = demo_organizer(engine), new_organizer(engine)
    import_clients(engine, demo_id, io.StringIO(CLIENTS_CSV), NOW)
    with engine.connect() as connection:
        exported = "".join(export_clients(connection, demo_id))
    assert exported.startswith("\ufeffemail,client_since,orders_count,segments\r\n")
    assert "ann@example.org,2024-05-01T00:00:00+00:00,3,vip|newsletter\r\n" in exported
    downloaded = io.BytesIO(exported.encode())
    assert import_clients(engine, copy_id, downloaded, NOW).created == 5, "3 imported + 2 demo"
    original, copy = clients_of(engine, demo_id), clients_of(engine, copy_id)
    assert {k: v[:3] for k, v in copy.items()} == {k: v[:3] for k, v in original.items()}
    again = import_clients(engine, demo_id, io.BytesIO(exported.encode()), NOW)
    assert (again.unchanged, again.created, again.updated) == (5, 0, 0)


def test_same_address_twice_the_last_row_wins(engine: Engine) -> None:
    oid = new_organizer(engine)
    csv_text = (
        "email,client_since,orders_count\n"
        "ann@example.org,2024-05-01,1\n"
        "Ann+shop@Example.org,2024-06-01,2\n"
    )
    report = import_clients(engine, oid, io.StringIO(csv_text), NOW)
    assert (report.rows_read, report.created, report.duplicates, report.error_count) == (2, 1, 1, 0)
    assert clients_of(engine, oid)["ann@example.org"][:2] == (datetime(2024, 6, 1, tzinfo=UTC), 2)


def test_every_error_is_counted_but_only_the_first_thousand_kept(engine: Engine) -> None:
    oid = new_organizer(engine)
    lines = ["email,client_since\n"] + [f"c{i}@example.org,someday\n" for i in range(1005)]
    report = import_clients(engine, oid, lines, NOW)
    assert (report.error_count, len(report.errors)) == (1005, MAX_ERRORS)
    assert report.errors[-1].line == MAX_ERRORS + 1


def test_import_stops_past_the_row_limit_keeping_the_rows_before(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clients, "MAX_ROWS", 2)
    oid = new_organizer(engine)
    report = import_clients(engine, oid, io.StringIO(CLIENTS_CSV), NOW)
    assert report.fatal is not None
    assert report.fatal[1].startswith("Line 4: the file has more than 2 clients, split it")
    assert sorted(clients_of(engine, oid)) == ["ann@example.org", "bob@example.org"]


def test_twenty_thousand_rows_stream_from_a_generator(engine: Engine) -> None:
    oid = new_organizer(engine)
    stored_while_reading: list[int] = []

    def rows() -> Iterator[str]:
        yield "email,client_since,orders_count,segments\n"
        for i in range(20_000):
            if i == 15_000:
                with engine.connect() as connection:
                    count = sa.select(sa.func.count()).select_from(tables.client)
                    stored_while_reading.append(connection.execute(count).scalar_one())
            yield f"client{i}@example.org,2024-05-{i % 28 + 1:02d},{i % 7},s{i % 3}\n"

    report = import_clients(engine, oid, rows(), NOW)
    assert (report.rows_read, report.created, report.error_count) == (20_000, 20_000, 0)
    assert stored_while_reading == [14_000], "batches are written while the file is read"
    with engine.connect() as connection:
        client = tables.client
        stored = sa.select(sa.func.count()).where(client.c.organizer_id == oid)
        assert connection.execute(stored).scalar_one() == 20_000


# --- The fast paths give what the plain ones give -------------------------------------------

_ATEXT = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
_LABEL = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=12)
_DOMAINS = st.one_of(
    st.sampled_from(
        [
            "example.org",
            "Example.ORG",
            "gmail.com",
            "xn--bcher-kva.example",
            "xn--mnchen-3ya.de",
            "münchen.de",
            "bücher.example",
            "localhost",
            "example.test",
            "x.invalid",
            "mail.example.local",
            "x.onion",
            "x.arpa",
            "a..b.org",
            "-x.org",
            "x-.org",
            "x.org.",
            "[127.0.0.1]",
            "x.123",
            "ＥＸＡＭＰＬＥ.org",
            "x" * 64 + ".org",
            ("a" * 60 + ".") * 4 + "org",
        ]
    ),
    st.lists(_LABEL, min_size=1, max_size=4).map(".".join),
)
_LOCALS = st.one_of(
    st.sampled_from(
        ['"a b"', '"a\\"b"', '"ann"', "Ann.Lee", "INFO", "Postmaster", "a..b", ".a", "a.", "é"]
        + ["ann+shop", "x" * 70, " ann", "ann ", "a b", "a@b", "ann\u0301", ""]
    ),
    st.text(_ATEXT + ".", min_size=1, max_size=20),
    st.text(min_size=1, max_size=8),
)


def _outcome(clean: Any, raw: str) -> tuple[str, str]:
    try:
        return ("valid", clean(raw))
    except InvalidEmail as refused:
        return ("refused", str(refused))


@settings(max_examples=600, deadline=None)
@given(
    local=_LOCALS,
    domain=_DOMAINS,
    around=st.sampled_from(["", " ", "  ", "\t"]),
    joiner=st.sampled_from(["@", "@", "@", "@@", "＠", " @"]),
)
def test_the_cached_address_check_gives_exactly_what_clean_email_gives(
    local: str, domain: str, around: str, joiner: str
) -> None:
    raw = around + local + joiner + domain + around
    cleaner = EmailCleaner(max_domains=3)
    first = _outcome(cleaner, raw)
    assert first == _outcome(clean_email, raw)
    assert _outcome(cleaner, raw) == first, "the same once the domain is cached"
    assert _outcome(cleaner, raw.upper()) == _outcome(clean_email, raw.upper())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's path only
def test_the_sqlite_fast_write_stores_what_sqlalchemy_stores(engine: Engine) -> None:
    rows = [
        clients._Client("ann@example.org", datetime(2024, 5, 1, tzinfo=UTC), 3, ["vip", "é"]),
        clients._Client("bob@example.org", datetime(1900, 1, 1, 0, 0, 0, 1, tzinfo=UTC), 0, []),
    ]
    now = NOW.astimezone(timezone(timedelta(hours=-5)))
    fast, plain = new_organizer(engine), new_organizer(engine, "plain@example.org")
    with engine.connect() as connection, connection.begin():
        upsert = clients._upsert_statement(connection.dialect.name)
        clients._write_sqlite(connection, upsert, fast, rows, now)
        for oid in (plain,):  # through SQLAlchemy's types, as on PostgreSQL
            for table, at in ((tables.client, "updated_at"), (tables.clientversion, "learned_at")):
                connection.execute(
                    table.insert() if table is tables.clientversion else upsert,
                    [{"organizer_id": oid, at: now, **row._asdict()} for row in rows],
                )

    def stored(table: sa.Table, oid: int) -> list[tuple[Any, ...]]:
        columns = "email_key, client_since, orders_count, CAST(segments AS TEXT), "
        columns += "updated_at" if table is tables.client else "learned_at"
        with engine.connect() as connection:
            return list(
                connection.exec_driver_sql(
                    f"SELECT {columns} FROM {table.name} WHERE organizer_id = {oid} ORDER BY id"
                ).all()
            )

    for table in (tables.client, tables.clientversion):
        assert stored(table, fast) == stored(table, plain)
        assert len(stored(table, fast)) == 2
