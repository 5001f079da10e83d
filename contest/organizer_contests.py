"""An organizer's own contests, as the API reads and changes them.

Every function takes the organizer's id and finds a contest only among that organizer's
(:class:`ContestNotFound` otherwise: another organizer's contest is as unknown as a missing
one). A contest comes back described with its settings and the rules' verdict on them, judged
at ``now``; saving and publishing are :mod:`contest.configuration`'s, with the same checks as
the workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from contest import configuration, tables
from contest.audit import audit
from contest.contests import PUBLIC_STATUSES, ContestSettings
from contest.contests.fields import SETTINGS
from contest.contests.formats import with_changes
from contest.contests.setting import ConfigErrors
from contest.draw.results import record_json
from contest.leads.export import CONFIRMED, MARKETING_EMAIL
from contest.models import Contest, ContestStatus, EntryStatus, Organizer
from rules import Refusal, Verdict


class ContestNotFound(LookupError):
    """No contest of this organizer has this id."""


class NotADraft(Refusal):
    """Only a draft is published."""


@dataclass(frozen=True)
class ContestDescription:
    id: int
    slug: str
    status: str
    settings: ContestSettings
    verdict: Verdict


@dataclass(frozen=True)
class EntryLine:
    """One entry as the organizer's list shows it: the ticket (``public_id``), and the person
    only when they may be contacted (see :func:`entries_page`), None otherwise."""

    id: int
    public_id: str
    status: str
    created_at: datetime
    confirmed_at: datetime | None
    source: str
    chances: int
    language: str
    email: str | None
    first_name: str | None


@dataclass(frozen=True)
class EntriesPage:
    items: list[EntryLine]
    next: int | None  # the ``after`` of the next page, None on the last


def describe_contests(
    session: Session, organizer_id: int, now: datetime
) -> list[ContestDescription]:
    """Every contest of the organizer, oldest first."""
    organizer = _organizer(session, organizer_id)
    rows = session.exec(
        select(Contest).where(Contest.organizer_id == organizer_id).order_by(col(Contest.id))
    ).all()
    return [_describe(session, row, organizer, now) for row in rows]


def describe_contest(
    session: Session, organizer_id: int, contest_id: int, now: datetime
) -> ContestDescription:
    """One contest of the organizer; raises ContestNotFound."""
    row = own_contest(session, organizer_id, contest_id)
    return _describe(session, row, _organizer(session, organizer_id), now)


def create_draft(
    session: Session, organizer_id: int, settings: ContestSettings, now: datetime
) -> ContestDescription:
    """Saves a new draft; refuses (SlugTaken) an address another contest uses."""
    organizer = _organizer(session, organizer_id)
    row = configuration.create_contest(session, organizer, settings, now)
    return _describe(session, row, organizer, now)


def duplicate_contest(
    session: Session, organizer_id: int, contest_id: int, now: datetime
) -> ContestDescription:
    """A new draft copied from one of the organizer's contests (dates cleared)."""
    organizer = _organizer(session, organizer_id)
    row = own_contest(session, organizer_id, contest_id)
    copy = configuration.duplicate_contest(session, organizer, row, now)
    return _describe(session, copy, organizer, now)


def change_contest(
    session: Session,
    organizer_id: int,
    contest_id: int,
    changes: Sequence[tuple[str, str]],
    *,
    replaces_prizes: bool,
    reason: str,
    now: datetime,
) -> ContestDescription:
    """Changes the fields in ``changes`` (form fields); the others keep their values, and the
    prizes too unless ``replaces_prizes`` (then the list sent is the new list).

    Raises ContestNotFound; refuses what :func:`configuration.update_contest` refuses
    (ConfigErrors, ContestRefused, SlugTaken).
    """
    row = own_contest(session, organizer_id, contest_id)
    organizer = _organizer(session, organizer_id)
    assert row.id is not None
    current = configuration.input_of(row, configuration.prizes_of(session, row.id))
    # Dates go through their form text (to the millisecond): those unchanged keep their value.
    settings = configuration.moments_as_stored(
        with_changes(current, changes, replaces_prizes=replaces_prizes), current
    )
    if row.status != ContestStatus.DRAFT:
        _refuse_frozen(current, settings)
    configuration.update_contest(session, organizer, row, settings, now, reason=reason)
    return _describe(session, row, organizer, now)


def _refuse_frozen(current: ContestSettings, changed: ContestSettings) -> None:
    """Refuses (ConfigErrors) a change of a field a published contest keeps (its address, its
    first announcement, its game format and randomness): said, never ignored in silence."""
    errors = ConfigErrors()
    for name, spec in SETTINGS.items():
        if spec.frozen_once_published and getattr(changed, name) != getattr(current, name):
            errors.add(
                name,
                "Ce champ ne peut plus changer une fois le jeu publié.",
                "This field cannot change once the contest is published.",
            )
    if errors.errors:
        raise errors


def publish_draft(
    session: Session, organizer_id: int, contest_id: int, now: datetime
) -> ContestDescription:
    """Publishes a draft. Raises ContestNotFound; refuses NotADraft, and ContestRefused while
    a rule refuses the configuration."""
    row = own_contest(session, organizer_id, contest_id)
    organizer = _organizer(session, organizer_id)
    if row.status != ContestStatus.DRAFT:
        raise NotADraft(
            "not_a_draft",
            f"Le jeu est déjà publié (état « {row.status} »).",
            f"The contest is already {row.status}.",
        )
    configuration.publish_contest(session, organizer, row, now)
    return _describe(session, row, organizer, now)


def contest_slug(session: Session, organizer_id: int, contest_id: int) -> str:
    """The address of one of the organizer's contests; raises ContestNotFound."""
    return own_contest(session, organizer_id, contest_id).slug


def draw_record(session: Session, organizer_id: int, contest_id: int) -> str | None:
    """The contest's published draw record, or None while it has none, or once it is no
    longer public (archived). Raises ContestNotFound."""
    row = own_contest(session, organizer_id, contest_id)
    if row.status not in PUBLIC_STATUSES or row.id is None:
        return None
    return record_json(session.connection(), row.id)


def entries_page(
    session: Session,
    organizer_id: int,
    contest_id: int,
    *,
    after: int,
    limit: int,
    now: datetime,
    status: str | None = None,
    source: str | None = None,
) -> EntriesPage:
    """At most ``limit`` entries of the contest with an id above ``after``, oldest first,
    optionally only those of one status or one source. Raises ContestNotFound.

    Every entry keeps its ticket, status, dates and source; the person's address and first
    name follow the lead export's rule for offers by e-mail (contest.leads.export): they are
    given only for a confirmed entry (double opt-in done) of a person whose consent to
    offers by e-mail is current (their latest record for that purpose is ``confirmed``),
    whose address has not bounced for good and who was not erased; None otherwise. The read
    is written in the audit log (``entries.read``: which filter, how many entries and
    addresses, not whose), in the same transaction as the read.
    """
    row = own_contest(session, organizer_id, contest_id)
    entry, person, consent = tables.entry, tables.person, tables.consentrecord

    def latest_record(*condition: sa.ColumnElement[bool]) -> sa.ScalarSelect[Any]:
        """The id of the person's latest record of consent to offers by e-mail that meets
        ``condition``."""
        return (
            sa.select(sa.func.max(consent.c.id))
            .where(
                consent.c.organizer_id == organizer_id,
                consent.c.person_id == person.c.id,
                consent.c.purpose == MARKETING_EMAIL,
                *condition,
            )
            .scalar_subquery()
        )

    contactable = sa.and_(
        entry.c.status == EntryStatus.CONFIRMED,
        # the latest record is a confirmation (NULL, so false, when there is none)
        latest_record() == latest_record(consent.c.event == CONFIRMED),
        person.c.undeliverable.is_(False),
        person.c.erased_at.is_(None),
    )
    query = (
        sa.select(
            entry.c.id,
            entry.c.public_id,
            entry.c.status,
            entry.c.created_at,
            entry.c.confirmed_at,
            entry.c.source,
            entry.c.chances,
            entry.c.language,
            sa.case((contactable, person.c.email), else_=sa.null()).label("email"),
            sa.case((contactable, person.c.first_name), else_=sa.null()).label("first_name"),
        )
        .join(person, person.c.id == entry.c.person_id)
        .where(entry.c.contest_id == row.id, entry.c.id > after)
        .order_by(entry.c.id)
        .limit(limit + 1)
    )
    if status:
        query = query.where(entry.c.status == status)
    if source:
        query = query.where(entry.c.source == source[:64])
    connection = session.connection()
    rows = connection.execute(query).all()
    items = [EntryLine(**r._mapping) for r in rows[:limit]]
    detail = {
        "status": status,
        "source": source[:64] if source else None,
        "after": after,
        "entries": len(items),
        "emails": sum(1 for item in items if item.email is not None),
    }
    audit(connection, organizer_id, "entries.read", detail, now, contest_id=row.id)
    session.commit()
    return EntriesPage(items=items, next=rows[limit - 1].id if len(rows) > limit else None)


def own_contest(session: Session, organizer_id: int, contest_id: int) -> Contest:
    """One of the organizer's contests; raises ContestNotFound for any other id (another
    organizer's contest answers exactly as a missing one)."""
    row = session.exec(
        select(Contest).where(Contest.id == contest_id, Contest.organizer_id == organizer_id)
    ).first()
    if row is None:
        raise ContestNotFound(contest_id)
    return row


def _organizer(session: Session, organizer_id: int) -> Organizer:
    organizer = session.get(Organizer, organizer_id)
    if organizer is None:
        raise ContestNotFound(organizer_id)
    return organizer


def _describe(
    session: Session, row: Contest, organizer: Organizer, now: datetime
) -> ContestDescription:
    assert row.id is not None
    settings = configuration.input_of(row, configuration.prizes_of(session, row.id))
    verdict = configuration.judge(settings, organizer, now)
    return ContestDescription(row.id, row.slug, row.status, settings, verdict)
