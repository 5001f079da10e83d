"""The organizer's workspace: their contests, what each brought, and their leads. No HTTP here.

Every function acts for one organizer, given by id, and finds a contest only among that
organizer's: another organizer's contest raises :class:`ContestNotFound`, as a missing one
does, so that the workspace never confirms it exists. Functions that write commit their own
session; the others only read. Configuring, publishing and closing are
:mod:`contest.configuration`'s, the draw :mod:`contest.draw.drawing`'s, referrals and tracked
links :mod:`viral`'s: here they are done on the organizer's behalf, and audited.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

import httpx
from sqlalchemy import Engine, case
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, col, func, select

from contest import botguard, configuration, dashboard
from contest.contests import ContestSettings, ContestView, load_contest
from contest.contests.formats import questions_of_row
from contest.draw import results
from contest.draw.beacon import Announcement
from contest.entries import referral_rules
from contest.leads import export
from contest.models import Contest, ContestStatus, Entry, EntryStatus, Organizer
from contest.organizer_contests import own_contest
from contest.prizes import claims
from rules import Verdict
from viral import invitations, links, referrals
from viral import stats as viral_stats


class OrganizerGone(LookupError):
    """The organizer's account no longer exists (deleted while they were signed in)."""


def organizer_of(session: Session, organizer_id: int) -> Organizer:
    """The organizer's account; raises OrganizerGone."""
    row = session.get(Organizer, organizer_id)
    if row is None:
        raise OrganizerGone(organizer_id)
    return row


# --- Contests --------------------------------------------------------------------------------


class ContestLine(NamedTuple):
    """A contest in the organizer's list, with its entries, all and confirmed."""

    contest: Contest
    entries: int
    confirmed: int


def contest_list_with_counts(session: Session, organizer_id: int) -> list[ContestLine]:
    """The organizer's contests, newest first, with their entry counts."""
    contests = session.exec(
        select(Contest)
        .where(Contest.organizer_id == organizer_id)
        .order_by(col(Contest.created_at).desc())
    ).all()
    confirmed = func.sum(case((col(Entry.status) == EntryStatus.CONFIRMED, 1), else_=0))
    counts = {
        contest_id: (int(total), int(done or 0))
        for contest_id, total, done in session.exec(
            select(Entry.contest_id, func.count(), confirmed)
            .join(Contest, col(Contest.id) == Entry.contest_id)
            .where(Contest.organizer_id == organizer_id)
            .group_by(col(Entry.contest_id))
        ).all()
    }
    return [ContestLine(c, *counts.get(c.id or 0, (0, 0))) for c in contests]


def judge_configuration(
    session: Session, organizer_id: int, settings: ContestSettings, now: datetime
) -> Verdict:
    """The rules' verdict on a configuration of the organizer's, as of publishing it ``now``."""
    return configuration.judge(settings, organizer_of(session, organizer_id), now)


def save_draft(
    session: Session, organizer_id: int, settings: ContestSettings, now: datetime
) -> int:
    """Saves a new draft and gives its id; refuses (SlugTaken) an address already used."""
    row = configuration.create_contest(session, organizer_of(session, organizer_id), settings, now)
    assert row.id is not None
    return row.id


@dataclass(frozen=True)
class ContestConfiguration:
    """A stored contest, its configuration as the form shows it, and the rules' verdict."""

    contest: Contest
    settings: ContestSettings
    verdict: Verdict


def current_configuration(
    session: Session, organizer_id: int, contest_id: int, now: datetime
) -> ContestConfiguration:
    """One of the organizer's contests as configured now, judged at ``now``."""
    row = own_contest(session, organizer_id, contest_id)
    assert row.id is not None
    settings = configuration.input_of(row, configuration.prizes_of(session, row.id))
    verdict = configuration.judge(settings, organizer_of(session, organizer_id), now)
    return ContestConfiguration(row, settings, verdict)


def save_configuration(
    session: Session,
    organizer_id: int,
    contest_id: int,
    settings: ContestSettings,
    now: datetime,
    reason: str,
) -> None:
    """Saves a changed configuration; refuses what :func:`configuration.update_contest`
    refuses (ContestRefused, ConfigErrors, SlugTaken)."""
    row = own_contest(session, organizer_id, contest_id)
    owner = organizer_of(session, organizer_id)
    configuration.update_contest(session, owner, row, settings, now, reason=reason)


def change_status(
    session: Session, organizer_id: int, contest_id: int, action: str, now: datetime
) -> str:
    """Publishes, closes or archives a contest and gives its address. Refuses ContestRefused
    (publishing while a rule refuses the configuration) and TransitionRefused (any move its
    status or the rules do not allow)."""
    row = own_contest(session, organizer_id, contest_id)
    owner = organizer_of(session, organizer_id)
    slug = row.slug
    if action == "publish":
        configuration.publish_contest(session, owner, row, now)
    else:
        configuration.transition(session, owner, row, action, now)
    return slug


def may_close(contest: Contest, now: datetime) -> bool:
    """Whether the contest may be closed ``now``: not before the closing date its rules
    announce, which would shorten it to the participants' detriment (ALL-RULES-LOCK-1)."""
    return contest.closes_at is None or contest.closes_at <= now


def may_draw(contest: Contest, now: datetime) -> bool:
    """Whether to offer the draw: a published contest past its closing date. The draw itself
    judges again, and names what refuses it (:func:`contest.draw.drawing.run_draw`)."""
    published = {ContestStatus.OPEN, ContestStatus.CLOSED, ContestStatus.SCHEDULED}
    closed = contest.closes_at is not None and contest.closes_at <= now
    return contest.status in published and closed


@dataclass(frozen=True)
class ContestOverview:
    """A contest's dashboard: compliance, figures, virality, prizes and what may be done."""

    contest: Contest
    verdict: Verdict
    stats: dashboard.ContestStats
    viral: viral_stats.ViralStats
    awards: list[claims.AwardView]
    leaders: tuple[viral_stats.LeaderboardRow, ...]
    drawable: bool
    can_close: bool
    announcement: Announcement | None  # the public value its rules announced
    challenge: botguard.ChallengeReport  # the bot guard: on or off, and what it stopped


def contest_overview(
    session: Session, organizer_id: int, contest_id: int, now: datetime
) -> ContestOverview:
    """One of the organizer's contests as its dashboard shows it, as of ``now``."""
    current = current_configuration(session, organizer_id, contest_id, now)
    row = current.contest
    assert row.id is not None
    connection = session.connection()
    viral = _beside(session, viral_stats.viral_stats, row.id, now)
    return ContestOverview(
        contest=row,
        verdict=current.verdict,
        stats=dashboard.contest_stats(
            connection,
            row.id,
            now,
            row.timezone,
            until=row.closes_at,
            invitations=invitations.invitations_sent,
        ),
        viral=viral(),
        awards=claims.awards(connection, row.id),
        leaders=viral_stats.leaderboard(connection, row.id, limit=10),
        drawable=may_draw(row, now),
        can_close=may_close(row, now),
        announcement=Announcement.from_json(row.draw_beacon) if row.draw_beacon else None,
        challenge=botguard.report(connection, row.id),
    )


T = TypeVar("T")

# The dashboard's second connection: the viral figures, about half of its database time on a
# large contest, are counted there while the session counts the rest.
_BESIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dashboard")


def _beside(session: Session, figures: Callable[..., T], *args: Any) -> Callable[[], T]:
    """``figures(connection, *args)`` on a connection of its own in another thread, started
    now; call the result for its value. The database then works on two cores: SQLite releases
    the interpreter while it counts, PostgreSQL counts in a backend of its own.

    Only while fewer connections are in use than the engine's pool holds (one is then idle, or
    may be opened at once); otherwise run in place, on the session's connection. A request
    holding its connection while it waits for a second one could wait on other requests doing
    the same, each holding what the others need, until the pool's timeout. An engine without
    such a pool (over an in-memory SQLite database, one per connection) runs in place too."""
    bind = session.get_bind()
    pool = bind.pool if isinstance(bind, Engine) else None
    if isinstance(bind, Engine) and isinstance(pool, QueuePool) and pool.checkedout() < pool.size():
        engine = bind

        def counted() -> T:
            with engine.connect() as connection:
                return figures(connection, *args)

        return _BESIDE.submit(counted).result
    value = figures(session.connection(), *args)
    return lambda: value


def preview_of(session: Session, organizer_id: int, contest_id: int) -> ContestView | None:
    """One of the organizer's contests as participants will see it, whatever its status."""
    row = own_contest(session, organizer_id, contest_id)
    return load_contest(session.connection(), row.slug, include_drafts=True)


def draw_contest(
    engine: Engine,
    organizer_id: int,
    contest_id: int,
    now: datetime,
    *,
    secret_key: str,
    public_value: str,
    public_value_source: str,
    relays: tuple[str, ...] = (),
    client: Callable[[], httpx.Client] = httpx.Client,
) -> str:
    """Draws one of the organizer's contests (once), tells the winners, and gives its address.

    Raises ContestNotFound; refuses what :func:`contest.draw.drawing.run_draw` refuses
    (DrawRefused). The record names the organizer as its operator and is signed with a key
    derived from ``secret_key``; an announced drand round is fetched from ``relays`` through
    ``client`` unless ``public_value`` gives its signature.
    """
    with Session(engine) as session:
        slug = own_contest(session, organizer_id, contest_id).slug
    results.draw_and_notify(
        engine,
        slug,
        now,
        secret_key=secret_key,
        operator=f"organizer:{organizer_id}",
        public_value=public_value,
        public_value_source=public_value_source,
        relays=relays,
        client=client,
    )
    return slug


# --- Referrals under review and tracked links --------------------------------------------------


@dataclass(frozen=True)
class ReviewQueue:
    contest: Contest
    referrals: list[referrals.FlaggedReferral]


def referrals_to_review(session: Session, organizer_id: int, contest_id: int) -> ReviewQueue:
    """The referrals of one of the organizer's contests that anti-fraud signals flagged."""
    row = own_contest(session, organizer_id, contest_id)
    assert row.id is not None
    return ReviewQueue(row, referrals.flagged_referrals(session.connection(), row.id))


def decide_referral(
    session: Session,
    organizer_id: int,
    contest_id: int,
    referral_id: int,
    decision: str,
    now: datetime,
) -> str:
    """Clears (credits) or rejects a flagged referral, audited with who and when; gives its
    new status. Refuses (NotInReview) a referral not waiting for this organizer's decision."""
    row = own_contest(session, organizer_id, contest_id)
    view = load_contest(session.connection(), row.slug, include_drafts=True)
    assert view is not None
    status = referrals.review(
        session.connection(),
        referral_id,
        lambda _contest_id: referral_rules(view),
        organizer_id,
        decision,
        now,
    )
    configuration.audit(
        session, organizer_id, row.id, f"referral.{decision}", referral=referral_id, status=status
    )
    session.commit()
    return status


@dataclass(frozen=True)
class TrackedLinks:
    contest: Contest
    links: list[links.SourceLinkResults]


def tracked_links(session: Session, organizer_id: int, contest_id: int) -> TrackedLinks:
    """The tracked links of one of the organizer's contests, with what each brought."""
    row = own_contest(session, organizer_id, contest_id)
    assert row.id is not None
    return TrackedLinks(row, links.source_links_report(session.connection(), row.id))


def add_tracked_link(
    session: Session, organizer_id: int, contest_id: int, fields: links.LinkFields, now: datetime
) -> None:
    """Makes a tracked link for one of the organizer's contests, audited. Refuses what
    :func:`viral.links.create_source_link` refuses (LinkRefused)."""
    row = own_contest(session, organizer_id, contest_id)
    assert row.id is not None
    link = links.create_source_link(session.connection(), row.id, fields, now)
    configuration.audit(session, organizer_id, row.id, "link.created", label=link.label)
    session.commit()


# --- Leads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadList:
    """A page of the leads matching the filters, how many match in all, and the organizer's
    contests and tracked links to filter by."""

    rows: list[Any]  # lead_query's columns
    total: int
    contests: list[tuple[int | None, str, str]]  # id, title, slug
    source_names: dict[str, str]  # a tracked link's source -> the name the organizer gave it
    link_choices: list[tuple[str, list[tuple[str, str]]]]  # contest title, (source, name)s
    # contest title, (answer filter value, "question: answer")s of its qualifying questions
    answer_choices: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)


def lead_list(
    session: Session,
    organizer_id: int,
    now: datetime,
    *,
    segment: str | None,
    consent: str | None,
    contest_id: int | None,
    source: str | None,
    answer: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> LeadList:
    """The organizer's leads, qualified and segmented (:func:`export.lead_query`), ``limit``
    from ``offset``, with the total. A filter that names no segment, no consent purpose, no
    contest of the organizer's or no answer to one of their questions is ignored. ``answer``
    reads ``{contest id}:{question key}:{answer key}``, as :attr:`LeadList.answer_choices`
    offers it."""
    contests = session.exec(
        select(Contest).where(Contest.organizer_id == organizer_id).order_by(col(Contest.id))
    ).all()
    choices = [(c.title, _answer_choices(c)) for c in contests]
    offered = {value for _, options in choices for value, _ in options}
    chosen = None
    if answer is not None and answer in offered:
        number, question, choice = answer.split(":")
        chosen = export.Answer(int(number), question, choice)
    query = export.lead_query(
        organizer_id,
        now=now,
        segment=segment if segment in {name for name, _, _ in export.SEGMENTS} else None,
        consent=consent if consent in {export.MARKETING_EMAIL, export.PARTNERS} else None,
        contest_id=contest_id if any(c.id == contest_id for c in contests) else None,
        source=source,
        answer=chosen,
    )
    connection = session.connection()
    page = export.paged(connection, query, limit, offset)
    found = links.link_sources(connection, [c.id for c in contests if c.id is not None])
    link_choices = [
        (c.title, list(links.source_names(f for f in found if f.contest_id == c.id).items()))
        for c in contests
    ]
    return LeadList(
        page.rows,
        page.total,
        [(c.id, c.title, c.slug) for c in contests],
        source_names=links.source_names(found),
        link_choices=[(title, options) for title, options in link_choices if options],
        answer_choices=[(title, options) for title, options in choices if options],
    )


def _answer_choices(contest: Contest) -> list[tuple[str, str]]:
    """Each answer to the contest's qualifying questions, as the leads' filter offers it."""
    return [
        (f"{contest.id}:{question.key}:{key}", f"{question.text}: {label}")
        for question in questions_of_row(contest.questions)
        for key, label in question.options
    ]


def voucher_export(session: Session, organizer_id: int, contest_id: int) -> Contest:
    """Before the voucher CSV (winners' codes and addresses) is sent: the contest must be the
    organizer's, and the export is audited."""
    row = own_contest(session, organizer_id, contest_id)
    configuration.audit(session, organizer_id, row.id, "vouchers.exported")
    session.commit()
    session.refresh(row)
    return row
