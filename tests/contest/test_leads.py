"""Qualified leads: score, segment, the lead list and its CSV export, on both databases."""

from __future__ import annotations

import csv
import io
import itertools
import tracemalloc
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlmodel import Session, select
from starlette.testclient import TestClient

from contest import cli, tables
from contest.clock import FixedClock
from contest.entries import wording_hash
from contest.leads.export import (
    CSV_COLUMNS,
    SCORE_FORMULA,
    SEGMENTS,
    LeadExportRefused,
    export_leads,
    lead_query,
    spreadsheet_safe,
)
from contest.mail import Sender, mark_undeliverable
from contest.models import Contest, Organizer, UTCDateTime
from contest.settings import Settings
from contest.tokens import Purpose
from tests.helpers import LINKS, enter, link_in, read_eml, sign_in
from tests.viral.referral_steps import enter_and_confirm, share_path

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ALL_FIELDS = {
    "first_name": "Lou",
    "last_name": "Lenoir",
    "birth_date": "1990-04-01",
    "postcode": "69001",
    "phone": "0600000000",
    "interest": "bags",
}
_serial = itertools.count()


@dataclass
class Shop:
    """An organizer and its contests, filled with Core inserts."""

    organizer_id: int
    contests: dict[str, int]
    connection: Connection | None = None

    @property
    def db(self) -> Connection:
        assert self.connection is not None
        return self.connection

    def person(self, email: str, first_name: str = "") -> int:
        person = tables.person
        return int(
            self.db.execute(
                person.insert()
                .returning(person.c.id)
                .values(
                    organizer_id=self.organizer_id,
                    email=email,
                    email_key=email.lower(),
                    first_name=first_name,
                    created_at=NOW - timedelta(days=500),
                )
            ).scalar_one()
        )

    def entry(
        self,
        person_id: int,
        slug: str,
        days_ago: float,
        *,
        confirmed: bool = True,
        answers: dict[str, str] | None = None,
        source: str = "direct",
        referrer: int | None = None,
    ) -> int:
        entry = tables.entry
        created = NOW - timedelta(days=days_ago)
        return int(
            self.db.execute(
                entry.insert()
                .returning(entry.c.id)
                .values(
                    public_id=f"lead{next(_serial):06d}",
                    contest_id=self.contests[slug],
                    person_id=person_id,
                    status="confirmed" if confirmed else "pending",
                    rules_version="v1",
                    answers=answers or {},
                    source=source,
                    language="fr",
                    created_at=created,
                    confirmed_at=created + timedelta(minutes=5) if confirmed else None,
                    referrer_entry_id=referrer,
                )
            ).scalar_one()
        )

    def consent(
        self,
        person_id: int,
        purpose: str,
        *events: str,
        entry_id: int | None = None,
        days_ago: float = 20,
        wording: str = "Oui, envoyez-moi vos offres.",
    ) -> None:
        self.db.execute(
            tables.consentrecord.insert(),
            [
                {
                    "organizer_id": self.organizer_id,
                    "person_id": person_id,
                    "entry_id": entry_id,
                    "purpose": purpose,
                    "event": name,
                    "wording": wording,
                    "wording_hash": wording_hash(wording),
                    "language": "fr",
                    "created_at": NOW - timedelta(days=days_ago, minutes=-n),
                }
                for n, name in enumerate(events)
            ],
        )

    def client(self, email: str, orders: int, segments: list[str]) -> None:
        self.db.execute(
            tables.client.insert().values(
                organizer_id=self.organizer_id,
                email_key=email,
                client_since=NOW - timedelta(days=400),
                orders_count=orders,
                segments=segments,
                updated_at=NOW,
            )
        )

    def rejected_referral(self, slug: str, referrer: int, referred: int) -> None:
        self.db.execute(
            tables.referral.insert().values(
                contest_id=self.contests[slug],
                referrer_entry_id=referrer,
                referred_entry_id=referred,
                status="rejected",
                reasons=["RING"],
                score=0,
                bonus=0,
                created_at=NOW,
            )
        )


def new_shop(engine: Engine, email: str, partners: dict[str, list[str]]) -> Shop:
    """An organizer with one open contest per slug, each naming its partners."""
    with Session(engine) as session:
        organizer = Organizer(email=email, password_hash="not-used")
        session.add(organizer)
        session.flush()
        assert organizer.id is not None
        contests = {
            slug: Contest(organizer_id=organizer.id, slug=slug, title=slug, partners=names)
            for slug, names in partners.items()
        }
        session.add_all(contests.values())
        session.commit()
        return Shop(organizer.id, {slug: c.id for slug, c in contests.items() if c.id})


# email -> (segment, score), computed by hand from SCORE_FORMULA with NOW as the clock.
EXPECTED = {
    "cold@example.org": ("cold_prospect", 5),  # pending 200 days ago: recency 5
    # 2 fields 8 + confirmed 15 + interest 15 + 10 days ago 15
    "warm@example.org": ("warm_prospect", 53),
    "two@example.org": ("warm_prospect", 10),  # 2 pending entries, the last 60 days ago
    # 1 field 4 + confirmed 15 + interest 15 + 2 referrals 10 + 40 days ago 10; hot beats warm
    "hot@example.org": ("hot_prospect", 54),
    "three@example.org": ("hot_prospect", 0),  # 3 pending entries 400 days ago
    # 5 fields 20 + 15 + 15 + client 10 + 2 orders + yesterday 15; client beats warm
    "client@example.org": ("client", 77),
    # every criterion at its maximum (4 referrals capped at 15, 12 orders capped at 10)
    "loyal@example.org": ("loyal_client", 100),
    "tagged@example.org": ("loyal_client", 26),  # client 10 + 1 order + yesterday 15
    "returning@example.org": ("cold_prospect", 15),  # entered 200 days ago, confirmed 5 days ago
    "both@example.org": ("warm_prospect", 30),  # 2 contests: confirmed 15 + recency 15
    **{f"r{n}@example.org": ("cold_prospect", 25) for n in (1, 2, 4)},  # confirmed, 39 days
    "r3@example.org": ("cold_prospect", 10),  # pending, 39 days ago
    **{f"l{n}@example.org": ("cold_prospect", 30) for n in range(1, 5)},  # confirmed, yesterday
}
PARTNER_WORDING = "J'accepte que mon adresse soit transmise à Partner SAS."
OTHER_WORDING = "Les offres de nos partenaires. Les partenaires : Other Partner SA."


@pytest.fixture
def seeded(engine: Engine) -> Shop:
    shop = new_shop(
        engine,
        "shop@example.org",
        {"shop-a": ["Partner SAS"], "shop-b": ["Other Partner SA"], "shop-c": []},
    )
    with engine.begin() as connection:
        shop.connection = connection
        p = shop.person
        shop.entry(p("cold@example.org"), "shop-a", 200, confirmed=False)

        warm = p("warm@example.org", "Wendy")
        answers = {"first_name": "Wendy", "postcode": "75011", "interest": "shoes"}
        shop.entry(warm, "shop-a", 10, answers=answers, source="partner:acme")
        shop.consent(warm, "marketing_email", "granted", "confirmed")

        two = p("two@example.org")
        shop.entry(two, "shop-a", 100, confirmed=False)
        shop.entry(two, "shop-b", 60, confirmed=False, source="partner:acme")
        shop.consent(two, "marketing_email", "granted")

        hot = p("hot@example.org", "Hugo")
        hot_entry = shop.entry(hot, "shop-a", 40, answers={"first_name": "Hugo", "interest": "x"})
        shop.consent(
            hot,
            "partners",
            "granted",
            "confirmed",
            entry_id=hot_entry,
            days_ago=40,
            wording=PARTNER_WORDING,
        )
        for n, confirmed in ((1, True), (2, True), (3, False), (4, True)):
            referred = shop.entry(
                p(f"r{n}@example.org"),
                "shop-a",
                39,
                confirmed=confirmed,
                source="referral",
                referrer=hot_entry,
            )
            if n == 4:  # confirmed, but the organizer rejected it as fraud
                shop.rejected_referral("shop-a", hot_entry, referred)

        three = p("three@example.org")
        for slug in ("shop-a", "shop-b", "shop-c"):
            shop.entry(three, slug, 400, confirmed=False)

        client = p("client@example.org", "Cleo")
        shop.entry(client, "shop-a", 1, answers=ALL_FIELDS)
        shop.client("client@example.org", 2, ["disloyal"])
        shop.consent(client, "marketing_email", "granted", "confirmed", "withdrawn")

        loyal = p("loyal@example.org", "Lou")
        loyal_entry = shop.entry(loyal, "shop-a", 2, answers=ALL_FIELDS)
        shop.client("loyal@example.org", 12, [])
        for n in range(1, 5):
            shop.entry(p(f"l{n}@example.org"), "shop-a", 1, source="referral", referrer=loyal_entry)
        shop.consent(loyal, "marketing_email", "confirmed", "withdrawn", "granted", "confirmed")

        shop.entry(p("tagged@example.org"), "shop-b", 1, confirmed=False)
        shop.client("tagged@example.org", 1, ["vip", "Loyal"])

        returning = p("returning@example.org")
        shop.entry(returning, "shop-a", 200, confirmed=False)
        shop.consent(returning, "client_contests", "granted", "confirmed", days_ago=5)

        both = p("both@example.org")
        shop.entry(both, "shop-a", 5)
        both_b = shop.entry(both, "shop-b", 3)
        shop.consent(
            both, "partners", "granted", "confirmed", entry_id=both_b, wording=OTHER_WORDING
        )
    shop.connection = None
    return shop


@pytest.fixture
def other(engine: Engine, seeded: Shop) -> Shop:
    """Another organizer knowing the same address, as a client with many orders."""
    other = new_shop(engine, "other@example.org", {"other-a": ["Partner SAS"]})
    with engine.begin() as connection:
        other.connection = connection
        person = other.person("warm@example.org", "Otto")
        entry = other.entry(person, "other-a", 1)
        other.consent(person, "marketing_email", "granted", "confirmed")
        other.consent(person, "partners", "granted", "confirmed", entry_id=entry)
        other.client("warm@example.org", 50, ["loyal"])
        other.entry(other.person("stranger@example.org"), "other-a", 1)
    other.connection = None
    return other


def leads(engine: Engine, organizer_id: int, **filters: Any) -> dict[str, Any]:
    with engine.connect() as connection:
        rows = connection.execute(lead_query(organizer_id, now=NOW, **filters)).all()
    return {row.email: row for row in rows}


def read_csv(chunks: Iterable[str]) -> tuple[str, list[dict[str, str]]]:
    """(the comment line, the rows as dicts); checks the header row."""
    lines = list(csv.reader(io.StringIO("".join(chunks))))
    assert lines[1] == list(CSV_COLUMNS)
    assert len(lines[0]) == 1 and lines[0][0].startswith("# ")
    return lines[0][0], [dict(zip(CSV_COLUMNS, line, strict=True)) for line in lines[2:]]


def test_score_formula_is_documented_in_both_languages_and_tops_at_100() -> None:
    assert sum(criterion.max_points for criterion in SCORE_FORMULA) == 100
    for criterion in SCORE_FORMULA:
        assert criterion.rule_en and criterion.rule_fr and criterion.key
    assert all(en and fr for _, en, fr in SEGMENTS)
    assert [name for name, _, _ in SEGMENTS] == [
        "loyal_client",
        "client",
        "hot_prospect",
        "warm_prospect",
        "cold_prospect",
    ], "listed by precedence"


def test_score_and_segment_of_hand_computed_persons(engine: Engine, seeded: Shop) -> None:
    found = leads(engine, seeded.organizer_id)
    assert {email: (row.segment, row.score) for email, row in found.items()} == EXPECTED
    assert found["three@example.org"].contests == 3
    assert found["returning@example.org"].last_activity_at == NOW - timedelta(days=5, minutes=-1)
    assert found["hot@example.org"].last_activity_at == NOW - timedelta(days=40, minutes=-5)
    assert found["two@example.org"].first_source == "direct", "the source of the first entry"


def test_consent_state_is_the_latest_event_of_the_ledger(engine: Engine, seeded: Shop) -> None:
    found = leads(engine, seeded.organizer_id)
    states = {email: found[email].consent_state for email in found}
    assert states["warm@example.org"] == "confirmed"
    assert states["two@example.org"] == "granted"
    assert states["client@example.org"] == "withdrawn"
    assert states["loyal@example.org"] == "confirmed", "withdrawn, then given and confirmed again"
    assert states["cold@example.org"] == "none"
    assert states["hot@example.org"] == "none", "a partner consent is not a marketing one"
    assert found["loyal@example.org"].consent_since == NOW - timedelta(days=20, minutes=-3)


def test_lead_list_filters_by_segment_consent_contest_and_source(
    engine: Engine, seeded: Shop
) -> None:
    oid, contest = seeded.organizer_id, seeded.contests
    assert set(leads(engine, oid, segment="hot_prospect")) == {
        "hot@example.org",
        "three@example.org",
    }
    assert set(leads(engine, oid, segment="loyal_client")) == {
        "loyal@example.org",
        "tagged@example.org",
    }
    assert set(leads(engine, oid, consent="marketing_email")) == {
        "warm@example.org",
        "loyal@example.org",
    }
    assert set(leads(engine, oid, consent="partners")) == {"hot@example.org", "both@example.org"}
    assert set(leads(engine, oid, contest_id=contest["shop-b"])) == {
        "two@example.org",
        "three@example.org",
        "tagged@example.org",
        "both@example.org",
    }
    assert set(leads(engine, oid, source="partner:acme")) == {
        "warm@example.org",
        "two@example.org",
    }
    in_a = leads(engine, oid, contest_id=contest["shop-a"], source="partner:acme")
    assert set(in_a) == {"warm@example.org"}
    in_b = leads(engine, oid, contest_id=contest["shop-b"], segment="warm_prospect")
    assert {email: row.first_source for email, row in in_b.items()} == {
        "two@example.org": "partner:acme",  # its entry in shop-b, not its first one
        "both@example.org": "direct",
    }
    with pytest.raises(ValueError, match="unknown segment"):
        lead_query(oid, now=NOW, segment="lukewarm")


def test_export_holds_only_current_marketing_consents(engine: Engine, seeded: Shop) -> None:
    comment, rows = read_csv(
        export_leads(engine, seeded.organizer_id, contest_slug="shop-a", now=NOW, links=LINKS)
    )
    assert "marketing_email" in comment and "consent is current" in comment
    # granted only (two), confirmed then withdrawn (client), no consent: all left out
    assert [row["email"] for row in rows] == ["warm@example.org", "loyal@example.org"]
    preferences = rows[0].pop("preferences_url")
    token = preferences.removeprefix("http://testserver/unsubscribe/")
    with engine.connect() as connection:
        wendy = connection.execute(
            sa.select(tables.person.c.id).where(tables.person.c.email == "warm@example.org")
        ).scalar_one()
    assert LINKS.signer.verify(Purpose.UNSUBSCRIBE, token) == [seeded.organizer_id, wendy]
    assert rows[0] == {
        "email": "warm@example.org",
        "first_name": "Wendy",
        "segment": "warm_prospect",
        "score": "53",
        "consent_purpose": "marketing_email",
        "consent_state": "confirmed",
        "consent_since": (NOW - timedelta(days=20, minutes=-1)).isoformat(),
        "consent_version": wording_hash("Oui, envoyez-moi vos offres."),
        "source": "partner:acme",
        "contests": "1",
        "answers": "",
    }
    _, everywhere = read_csv(
        export_leads(engine, seeded.organizer_id, contest_slug=None, now=NOW, links=LINKS)
    )
    assert [row["email"] for row in everywhere] == ["warm@example.org", "loyal@example.org"]


def test_an_address_that_bounced_for_good_leaves_the_marketing_export(
    engine: Engine, seeded: Shop
) -> None:
    mark_undeliverable(engine, "Warm@Example.org")
    comment, rows = read_csv(
        export_leads(engine, seeded.organizer_id, contest_slug="shop-a", now=NOW, links=LINKS)
    )
    assert "not bounced" in comment
    assert [row["email"] for row in rows] == ["loyal@example.org"]
    # Prize delivery still reaches everyone the contest owes something to, bounced or not.
    _, all_rows = read_csv(
        export_leads(
            engine,
            seeded.organizer_id,
            contest_slug="shop-a",
            purpose="prize_delivery",
            lawful_basis="performing the contest rules",
            now=NOW,
            links=LINKS,
        )
    )
    assert "warm@example.org" in [row["email"] for row in all_rows]


def test_lawful_basis_export_holds_every_participant_and_records_the_basis(
    engine: Engine, seeded: Shop
) -> None:
    basis = "Exécution du règlement, remise des lots\n=cmd, art. 6(1)(b)"
    comment, rows = read_csv(
        export_leads(
            engine,
            seeded.organizer_id,
            contest_slug="shop-b",
            purpose="prize_fulfilment",
            lawful_basis=basis,
            now=NOW,
            links=LINKS,
        )
    )
    assert comment == (
        "# Participants of contest shop-b for prize_fulfilment; lawful basis: Exécution du "
        f"règlement, remise des lots =cmd, art. 6(1)(b); exported {NOW.isoformat()}"
    ), "one line, one cell: the organizer's text cannot add rows or cells"
    assert {row["email"]: row["consent_state"] for row in rows} == {
        "two@example.org": "granted",
        "three@example.org": "none",
        "tagged@example.org": "none",
        "both@example.org": "none",
    }
    audit = tables.auditevent
    with engine.connect() as connection:
        logged = connection.execute(
            sa.select(audit.c.action, audit.c.detail, audit.c.contest_id).where(
                audit.c.organizer_id == seeded.organizer_id
            )
        ).one()
    assert logged.action == "leads.exported"
    assert logged.detail["lawful_basis"] == " ".join(basis.split("\n"))
    assert logged.contest_id == seeded.contests["shop-b"]


@pytest.mark.parametrize(
    ("slug", "purpose", "basis", "code"),
    [
        ("shop-a", "prize_fulfilment", None, "basis_required"),
        ("shop-a", "prize_fulfilment", " \n ", "basis_required"),
        (None, "prize_fulfilment", "delivering prizes", "contest_required"),
        ("shop-a", "marketing_email", "legitimate interest", "consent_required"),
        ("shop-a", "prize_fulfilment", "x" * 501, "basis_too_long"),
        ("shop-a", "", None, "purpose"),
        (None, "partners", None, "contest_required"),
        ("shop-c", "partners", None, "no_partners"),
        ("nowhere", "marketing_email", None, "unknown_contest"),
    ],
)
def test_export_refusals_are_clear_and_read_nothing(
    engine: Engine, seeded: Shop, slug: str | None, purpose: str, basis: str | None, code: str
) -> None:
    with pytest.raises(LeadExportRefused) as refused:
        export_leads(
            engine,
            seeded.organizer_id,
            contest_slug=slug,
            purpose=purpose,
            lawful_basis=basis,
            now=NOW,
            links=LINKS,
        )
    assert refused.value.code == code
    assert refused.value.message("fr") and refused.value.message("en")


def test_partner_export_holds_consents_given_on_the_contest_form_with_version_and_source(
    engine: Engine, seeded: Shop
) -> None:
    def partner_export(slug: str, partner: str | None) -> list[dict[str, str]]:
        chunks = export_leads(
            engine,
            seeded.organizer_id,
            contest_slug=slug,
            purpose="partners",
            now=NOW,
            links=LINKS,
            partner=partner,
        )
        note, rows = read_csv(chunks)
        assert f"for the partner {partner}:".casefold() in note.casefold()
        return rows

    for unnamed in (None, "Other Partner SA", "Partner"):  # each partner by its own name
        with pytest.raises(LeadExportRefused) as refused:
            partner_export("shop-a", unnamed)
        assert refused.value.code == "partner_required"
        assert "(Partner SAS)" in refused.value.message_en
    (hot,) = partner_export("shop-a", "partner sas")  # both@ consented on shop-b's form
    assert (hot["email"], hot["consent_purpose"], hot["consent_state"]) == (
        "hot@example.org",
        "partners",
        "confirmed",
    )
    assert hot["consent_version"] == wording_hash(PARTNER_WORDING)
    assert hot["source"] == "direct"
    assert [row["email"] for row in partner_export("shop-b", "Other Partner SA")] == [
        "both@example.org"
    ]


def test_another_organizers_people_and_contests_never_appear(
    engine: Engine, seeded: Shop, other: Shop
) -> None:
    found = leads(engine, seeded.organizer_id)
    assert set(found) == set(EXPECTED)
    assert (found["warm@example.org"].segment, found["warm@example.org"].score) == (
        "warm_prospect",
        53,
    ), "the other organizer's client row and entries do not count"
    _, rows = read_csv(
        export_leads(engine, seeded.organizer_id, contest_slug=None, now=NOW, links=LINKS)
    )
    assert {row["first_name"] for row in rows} == {"Wendy", "Lou"}
    with pytest.raises(LeadExportRefused) as refused:
        export_leads(engine, seeded.organizer_id, contest_slug="other-a", now=NOW, links=LINKS)
    assert refused.value.code == "unknown_contest"

    theirs = leads(engine, other.organizer_id)
    assert set(theirs) == {"warm@example.org", "stranger@example.org"}
    assert theirs["warm@example.org"].segment == "loyal_client"
    assert theirs["warm@example.org"].contests == 1


def test_cells_that_look_like_formulas_are_escaped(engine: Engine, seeded: Shop) -> None:
    with engine.begin() as connection:
        seeded.connection = connection
        for n, (name, source) in enumerate(
            [('=HYPERLINK("http://x")', "+cmd"), ("@SUM(A1)", "-1"), ("\tTab", "\rCR")]
        ):
            person = seeded.person(f"-evil{n}@example.org", name)
            seeded.entry(person, "shop-c", 1, source=source)
            seeded.consent(person, "marketing_email", "confirmed")
    _, rows = read_csv(
        export_leads(engine, seeded.organizer_id, contest_slug="shop-c", now=NOW, links=LINKS)
    )
    assert [(r["email"], r["first_name"], r["source"]) for r in rows] == [
        ("'-evil0@example.org", '\'=HYPERLINK("http://x")', "'+cmd"),
        ("'-evil1@example.org", "'@SUM(A1)", "'-1"),
        ("'-evil2@example.org", "'\tTab", "'\rCR"),
    ]
    assert spreadsheet_safe("Ann") == "Ann"


def generate_leads(connection: Connection, organizer_id: int, contest_id: int, count: int) -> None:
    """``count`` persons, each with a confirmed entry and a confirmed marketing consent."""
    numbers = sa.select(sa.literal(1).label("n")).cte("numbers", recursive=True)
    numbers = numbers.union_all(sa.select(numbers.c.n + 1).where(numbers.c.n < count))
    person, entry, consent = tables.person, tables.entry, tables.consentrecord
    at = sa.literal(NOW - timedelta(days=3), UTCDateTime())
    address = sa.literal("lead") + sa.cast(numbers.c.n, sa.String) + "@example.com"
    connection.execute(
        person.insert().from_select(
            ["organizer_id", "email", "email_key", "first_name", "created_at", "undeliverable"],
            sa.select(
                sa.literal(organizer_id), address, address, sa.literal("Léa"), at, sa.false()
            ),
        )
    )
    mine = person.c.organizer_id == organizer_id
    columns = ["public_id", "contest_id", "person_id", "status", "chances", "rules_version"]
    columns += ["answers", "source", "language", "created_at", "confirmed_at", "ip_network"]
    connection.execute(
        entry.insert().from_select(
            columns,
            sa.select(
                sa.literal("bulk") + sa.cast(person.c.id, sa.String),
                sa.literal(contest_id),
                person.c.id,
                sa.literal("confirmed"),
                sa.literal(1),
                sa.literal("v1"),
                sa.literal({"first_name": "Léa", "interest": "tea"}, sa.JSON),
                sa.literal("newsletter"),
                sa.literal("fr"),
                at,
                at,
                sa.literal(""),
            ).where(mine),
        )
    )
    columns = ["organizer_id", "person_id", "entry_id", "purpose", "event", "wording"]
    columns += ["wording_hash", "language", "page_url", "channel", "ip_truncated"]
    columns += ["user_agent", "created_at"]
    connection.execute(
        consent.insert().from_select(
            columns,
            sa.select(
                sa.literal(organizer_id),
                entry.c.person_id,
                entry.c.id,
                sa.literal("marketing_email"),
                sa.literal("confirmed"),
                sa.literal("Oui, envoyez-moi vos offres."),
                sa.literal("f" * 64),
                sa.literal("fr"),
                sa.literal(""),
                sa.literal("email"),
                sa.literal(""),
                sa.literal(""),
                at,
            ).where(entry.c.contest_id == contest_id),
        )
    )


def test_export_of_50000_leads_streams_in_constant_memory(engine: Engine) -> None:
    seeded = new_shop(engine, "bulk@example.org", {"bulk": []})
    with engine.begin() as connection:
        generate_leads(connection, seeded.organizer_id, seeded.contests["bulk"], 50_000)
    if engine.dialect.name == "postgresql":
        # As autovacuum would after rows arriving over a contest's life: without statistics,
        # the planner takes the 50,000 rows written in one go for one and nests loops over
        # them, and this export took over two minutes instead of about one second.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    cursors: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _cursor_kind(_c: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "AS consent_state" in statement:
            cursors.append(type(cursor).__name__)

    def export() -> Iterable[str]:
        return export_leads(engine, seeded.organizer_id, contest_slug="bulk", now=NOW, links=LINKS)

    warm_up = iter(export())  # compiles and caches the statement outside the measure
    next(warm_up), next(warm_up)
    warm_up.close()  # type: ignore[attr-defined]

    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    lines = largest = 0
    for chunk in export():
        rows = chunk.count("\r\n")
        lines, largest = lines + rows, max(largest, rows)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert lines == 2 + 50_000
    assert largest <= 1000, "written in chunks of at most 1,000 rows"
    # Measured: about 2.5 MB (one chunk of 1,000 rows and its CSV text), on both databases;
    # holding the 50,000 rows at once takes about 54 MB. 6 MB leaves room for noise and still
    # fails long before the export grows with the number of rows.
    assert peak - baseline < 6 * 2**20, f"peak {(peak - baseline) / 2**20:.2f} MB"
    if engine.dialect.name == "postgresql":
        assert set(cursors) == {"ServerCursor"}, "rows stay on the server until fetched"


def test_export_command_writes_the_csv_and_says_on_which_basis(
    settings: Settings, engine: Engine, seeded: Shop
) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.export_leads(
        settings,
        "shop-b",
        "prize_fulfilment",
        "Remise des lots",
        out,
        err,
        FixedClock(NOW),
    )
    assert code == 0
    comment, rows = read_csv([out.getvalue()])
    assert "lawful basis: Remise des lots" in comment and len(rows) == 4
    assert all(
        row["preferences_url"].startswith(settings.base_url + "/unsubscribe/") for row in rows
    )
    assert "lawful basis: Remise des lots" in err.getvalue()

    out, err = io.StringIO(), io.StringIO()
    assert cli.export_leads(settings, "nowhere", "marketing_email", None, out, err) == 1
    assert out.getvalue() == ""
    assert err.getvalue() == 'contest: No contest "nowhere" among yours.\n'


def test_referrer_and_consent_through_real_pages(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    enter(client, email="ann@example.org", consent_marketing_email="on")
    sender.run_once()
    mails = [m for m in read_eml(settings.mail_dir) if m["To"] == "ann@example.org"]
    link = link_in(mails[-1], r"http://testserver/c/demo/confirm/\S+")
    ann = client.post(link.removeprefix("http://testserver"), follow_redirects=False)
    landing = client.get(share_path(client, ann.headers["location"]), follow_redirects=False)
    enter_and_confirm(client, sender, settings, "bob@example.org", landing.headers["location"])

    with Session(engine) as session:
        organizer_id = session.exec(
            select(Organizer.id).where(Organizer.email == "demo@example.org")
        ).one()
    assert organizer_id is not None
    with engine.connect() as connection:
        rows = connection.execute(lead_query(organizer_id, now=clock.now())).all()
    found = {row.email: row for row in rows}
    # Ann: first name 4 + confirmed 15 + a confirmed referral 5 + today 15
    assert (found["ann@example.org"].segment, found["ann@example.org"].score) == (
        "hot_prospect",
        39,
    )
    assert found["bob@example.org"].first_source == "referral"
    _, exported = read_csv(
        export_leads(engine, organizer_id, contest_slug="demo", now=clock.now(), links=LINKS)
    )
    assert [row["email"] for row in exported] == ["ann@example.org"], "Bob ticked no box"


def test_the_organizer_filters_leads_and_downloads_only_consenting_ones(
    client: TestClient, settings: Settings, engine: Engine, sender: Sender
) -> None:

    from contest.demo import demo_password

    sign_in(client, "demo@example.org", demo_password(settings))
    page = client.get("/admin/leads?segment=cold_prospect")
    assert page.status_code == 200 and "Score" in page.text
    csv_answer = client.get("/admin/leads.csv?contest=demo&purpose=marketing_email")
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    refused = client.get("/admin/leads.csv?contest=demo&purpose=prize_fulfilment")
    assert refused.status_code == 422, "another lawful purpose must be named"


def _with_links_checked(engine: Engine, text: str) -> str:
    """The export's text with each preferences link, once checked to be the person's, written
    ``<link to ADDRESS>`` (a token holds the second it was signed)."""
    lines = text.split("\r\n")
    rows = list(csv.reader(lines[2:]))
    with engine.connect() as connection:
        person = tables.person
        ids = dict(connection.execute(sa.select(person.c.email, person.c.id)).all())
    for row in filter(None, rows):
        email, url = row[0].removeprefix("'"), row[10]
        token = url.removeprefix("http://testserver/unsubscribe/")
        organizer_id, person_id = LINKS.signer.verify(Purpose.UNSUBSCRIBE, token)
        assert person_id == ids[email]
        row[10] = f"<link to {email}>"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return "\r\n".join(lines[:2]) + "\r\n" + out.getvalue()


# Made by the export before it was made faster (issue 21): the same bytes since.
EXPECTED_MARKETING_EXPORT = (
    "# Leads of all contests for marketing_email: only persons whose consen"
    "t is current (latest event confirmed) and whose address has not bounce"
    "d; exported 2026-11-23T10:00:00+00:00\r\n"
    "email,first_name,segment,score,consent_purpose,consent_state,consent_s"
    "ince,consent_version,source,contests,preferences_url,answers\r\n"
    "warm@example.org,Wendy,warm_prospect,53,marketing_email,confirmed,2026"
    "-11-03T10:01:00+00:00,eeac2bd63331a9eb51d9674ab79f75f7b2683a1c1da4cc29"
    "5c9130480076e361,partner:acme,1,<link to warm@example.org>,\r\n"
    "loyal@example.org,Lou,loyal_client,100,marketing_email,confirmed,2026-"
    "11-03T10:03:00+00:00,eeac2bd63331a9eb51d9674ab79f75f7b2683a1c1da4cc295"
    "c9130480076e361,direct,1,<link to loyal@example.org>,\r\n"
    '\'=odd@example.org,"Zoé, ""Z""",warm_prospect,49,marketing_email,confir'
    "med,2026-11-03T10:01:00+00:00,eeac2bd63331a9eb51d9674ab79f75f7b2683a1c"
    '1da4cc295c9130480076e361,\'-x,1,<link to =odd@example.org>,"{""shop-a""'
    ': {""colour"": [""blue""]}}"\r\n'
    "\r\n"
)
EXPECTED_BASIS_EXPORT = (
    '"# Participants of contest shop-a for prize_delivery; lawful basis: th'
    'e rules, art. 7; exported 2026-11-23T10:00:00+00:00"\r\n'
    "email,first_name,segment,score,consent_purpose,consent_state,consent_s"
    "ince,consent_version,source,contests,preferences_url,answers\r\n"
    "cold@example.org,,cold_prospect,5,marketing_email,none,,,direct,1,<lin"
    "k to cold@example.org>,\r\n"
    "warm@example.org,Wendy,warm_prospect,53,marketing_email,confirmed,2026"
    "-11-03T10:01:00+00:00,eeac2bd63331a9eb51d9674ab79f75f7b2683a1c1da4cc29"
    "5c9130480076e361,partner:acme,1,<link to warm@example.org>,\r\n"
    "two@example.org,,warm_prospect,10,marketing_email,granted,2026-11-03T1"
    "0:00:00+00:00,eeac2bd63331a9eb51d9674ab79f75f7b2683a1c1da4cc295c913048"
    "0076e361,direct,2,<link to two@example.org>,\r\n"
    "hot@example.org,Hugo,hot_prospect,54,marketing_email,none,,,direct,1,<"
    "link to hot@example.org>,\r\n"
    "r1@example.org,,cold_prospect,25,marketing_email,none,,,referral,1,<li"
    "nk to r1@example.org>,\r\n"
    "r2@example.org,,cold_prospect,25,marketing_email,none,,,referral,1,<li"
    "nk to r2@example.org>,\r\n"
    "r3@example.org,,cold_prospect,10,marketing_email,none,,,referral,1,<li"
    "nk to r3@example.org>,\r\n"
    "r4@example.org,,cold_prospect,25,marketing_email,none,,,referral,1,<li"
    "nk to r4@example.org>,\r\n"
    "three@example.org,,hot_prospect,0,marketing_email,none,,,direct,3,<lin"
    "k to three@example.org>,\r\n"
    "client@example.org,Cleo,client,77,marketing_email,withdrawn,2026-11-03"
    "T10:02:00+00:00,eeac2bd63331a9eb51d9674ab79f75f7b2683a1c1da4cc295c9130"
    "480076e361,direct,1,<link to client@example.org>,\r\n"
    "loyal@example.org,Lou,loyal_client,100,marketing_email,confirmed,2026-"
    "11-03T10:03:00+00:00,eeac2bd63331a9eb51d9674ab79f75f7b2683a1c1da4cc295"
    "c9130480076e361,direct,1,<link to loyal@example.org>,\r\n"
    "l1@example.org,,cold_prospect,30,marketing_email,none,,,referral,1,<li"
    "nk to l1@example.org>,\r\n"
    "l2@example.org,,cold_prospect,30,marketing_email,none,,,referral,1,<li"
    "nk to l2@example.org>,\r\n"
    "l3@example.org,,cold_prospect,30,marketing_email,none,,,referral,1,<li"
    "nk to l3@example.org>,\r\n"
    "l4@example.org,,cold_prospect,30,marketing_email,none,,,referral,1,<li"
    "nk to l4@example.org>,\r\n"
    "returning@example.org,,cold_prospect,15,marketing_email,none,,,direct,"
    "1,<link to returning@example.org>,\r\n"
    "both@example.org,,warm_prospect,30,marketing_email,none,,,direct,2,<li"
    "nk to both@example.org>,\r\n"
    '\'=odd@example.org,"Zoé, ""Z""",warm_prospect,49,marketing_email,confir'
    "med,2026-11-03T10:01:00+00:00,eeac2bd63331a9eb51d9674ab79f75f7b2683a1c"
    "1da4cc295c9130480076e361,'-x,1,<link to =odd@example.org>,\r\n"
    "\r\n"
)


def test_export_bytes_of_a_small_shop_are_as_expected(engine: Engine, seeded: Shop) -> None:
    with engine.begin() as connection:
        seeded.connection = connection
        person = seeded.person("=odd@example.org", 'Zoé, "Z"')
        answers: Any = {"questions": {"colour": ["blue"]}, "postcode": "01000"}
        seeded.entry(person, "shop-a", 3, answers=answers, source="-x")
        seeded.consent(person, "marketing_email", "granted", "confirmed")
    seeded.connection = None
    marketing = "".join(
        export_leads(engine, seeded.organizer_id, contest_slug=None, now=NOW, links=LINKS)
    )
    basis = "".join(
        export_leads(
            engine,
            seeded.organizer_id,
            contest_slug="shop-a",
            purpose="prize_delivery",
            lawful_basis="the rules, art. 7",
            now=NOW,
            links=LINKS,
        )
    )
    assert _with_links_checked(engine, marketing) == EXPECTED_MARKETING_EXPORT
    assert _with_links_checked(engine, basis) == EXPECTED_BASIS_EXPORT
