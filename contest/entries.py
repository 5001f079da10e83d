"""Entering a contest and confirming an entry: the domain operations, no HTTP.

``enter_contest`` runs inside a write transaction handed in by the caller (the entry writer
groups many of them into one commit). It either writes everything an entry needs (person,
entry, consent records, confirmation message) or raises before writing anything but the count
of attempts kept for the rate limits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import eligibility, instantwin, outbox, tables
from contest.contests import ContestView
from contest.contests.fields import ConsentOption
from contest.eligibility import RATE_LIMITED, EntryRefused
from contest.forms import EntryForm
from contest.i18n import N_, gettext
from contest.leads import crm
from contest.models import EntryStatus
from contest.people import email_key
from contest.prizes import claims
from contest.ratelimit import Limit, add_hits, hit_many, retry_after
from viral import referrals

RESEND_AFTER = timedelta(hours=1)
# A form sent without a proof of work while the contest asks for one (contest.botguard): its
# bucket, and the refusal's code once its network is past the stricter limit.
UNPROVEN, CHALLENGE_REQUIRED = "entry:unproven:", "challenge_required"
# Columns a copied consent record must not inherit: the sealer numbers and chains new rows.
UNSEALED = frozenset({"id", "seq", "prev_hash", "record_hash"})

# Statements built once: their compiled form is cached, which keeps the hot path cheap.
_person, _entry, _consent = tables.person, tables.entry, tables.consentrecord
FIND_PERSON = sa.select(_person.c.id).where(
    _person.c.organizer_id == sa.bindparam("organizer_id"),
    _person.c.email_key == sa.bindparam("email_key"),
)
FIND_ENTRY = sa.select(
    _entry.c.id,
    _entry.c.public_id,
    _entry.c.status,
    _entry.c.confirmation_sent_at,
    _entry.c.language,
).where(
    _entry.c.contest_id == sa.bindparam("contest_id"), _entry.c.person_id == sa.bindparam("pid")
)
# The entry group's look-ups, built once: a statement built per group costs its construction
# and its cache key, a good share of a small group's time.
_GROUP_PERSONS = sa.select(_person.c.id, _person.c.email_key).where(
    _person.c.organizer_id == sa.bindparam("organizer_id"),
    _person.c.email_key.in_(sa.bindparam("keys", expanding=True)),
)
_GROUP_ENTRIES = sa.select(
    _entry.c.contest_id, _entry.c.person_id, *FIND_ENTRY.selected_columns
).where(
    sa.tuple_(_entry.c.contest_id, _entry.c.person_id).in_(sa.bindparam("pairs", expanding=True))
)
INSERT_PERSON = sa.insert(_person)
INSERT_ENTRY = sa.insert(_entry)
INSERT_CONSENT = sa.insert(_consent)
RULES_WORDING = N_("I am %(age)s or over and I accept the official rules.")


@dataclass(frozen=True)
class EntryContext:
    """Where and how the entry was made: kept as proof of consent (EU-CONSENT-PROOF-1)."""

    now: datetime
    language: str
    rules_version: str
    page_url: str = ""
    source: str = "direct"
    ip_truncated: str = ""
    user_agent: str = ""
    referrer_code: str | None = None
    limits: EntryLimits = dataclasses.field(default_factory=lambda: EntryLimits())


@dataclass
class Deferred:
    """Rows an entry adds that nothing reads back before the commit: the entry writer
    collects those of a whole group and writes each kind with one multi-row statement, which
    spares a round trip to the database per row. Persons and entries come first (with ids
    taken beforehand, :class:`RowIds`): consent records and referrals refer to them."""

    consents: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    messages: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    persons: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    entries: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    lookups: Lookups | None = None

    def flush_rows(self, connection: Connection) -> None:
        """Writes the persons and entries collected so far (before a row that refers to one)."""
        if self.persons:
            connection.execute(INSERT_PERSON, self.persons)
        if self.entries:
            connection.execute(INSERT_ENTRY, self.entries)
        self.persons, self.entries = [], []

    def flush(self, connection: Connection) -> None:
        self.flush_rows(connection)
        if self.consents:
            connection.execute(INSERT_CONSENT, self.consents)
        outbox.enqueue_many(connection, self.messages)
        self.consents, self.messages = [], []


_TAKE_IDS_POSTGRESQL = sa.text(
    "SELECT (SELECT array_agg(nextval(pg_get_serial_sequence('person', 'id'))) "
    "FROM generate_series(1, :person)), "
    "(SELECT array_agg(nextval(pg_get_serial_sequence('entry', 'id'))) "
    "FROM generate_series(1, :entry))"
)
_LARGEST_IDS_SQLITE = sa.select(
    sa.select(sa.func.max(_person.c.id)).scalar_subquery(),
    sa.select(sa.func.max(_entry.c.id)).scalar_subquery(),
)


class RowIds:
    """The ids of the persons and entries a group may add, taken with one statement before
    any is written, so that each table gets one multi-row INSERT at the end of the group.

    PostgreSQL hands out a block of each table's sequence (ids left unused are gaps, as
    after any rollback). SQLite continues after the largest id: the group's transaction
    holds the write lock from its start, so nobody else can take the same ids meanwhile.
    """

    def __init__(self, connection: Connection, persons: int, entries: int) -> None:
        self._free: dict[str, list[int]] = {}
        wanted = {"person": persons, "entry": entries}
        if connection.dialect.name == "postgresql":
            row = connection.execute(_TAKE_IDS_POSTGRESQL, wanted).one()
            for table, ids in zip(wanted, row, strict=True):
                self._free[table] = list(ids or ())
        else:
            row = connection.execute(_LARGEST_IDS_SQLITE).one()
            for (table, count), largest in zip(wanted.items(), row, strict=True):
                start = (largest or 0) + 1
                self._free[table] = list(range(start, start + count))
        for ids in self._free.values():
            ids.reverse()  # taken from the end: in increasing order

    def take(self, table: str) -> int:
        return self._free[table].pop()


# An attempt's rate-limit buckets, each with its rule and its count once the attempt is counted.
Counted = list[tuple[str, Limit, int]]


@dataclass
class Lookups:
    """What an entry group read at once (:func:`prepare_group`): the persons its addresses
    belong to and their entries in its contests, kept up to date as the group writes."""

    looked: set[tuple[int, str]]  # (organizer id, address key) looked up
    persons: dict[tuple[int, str], int]  # ... found or written: the person's id
    entries: dict[tuple[int, int], Any]  # (contest id, person id) -> the FIND_ENTRY columns
    ids: RowIds  # for the persons and entries the group adds


def prepare_group(
    connection: Connection, group: list[tuple[ContestView, EntryForm, EntryContext]]
) -> tuple[Lookups, list[Counted]]:
    """Reads the group's persons and entries, counts every attempt against the rate limits
    and takes the ids of the rows it may add, with a handful of statements whatever the size
    of the group.

    Returns the look-ups for :class:`Deferred` and, for each attempt in order, the counts of
    its buckets as they stood after it (pass them to :func:`enter_contest` as ``counted``).
    """
    keys = [(contest.organizer_id, email_key(form.email)) for contest, form, _ in group]
    persons: dict[tuple[int, str], int] = {}
    for organizer_id in {organizer for organizer, _ in keys}:
        wanted = sorted({key for organizer, key in keys if organizer == organizer_id})
        rows = connection.execute(_GROUP_PERSONS, {"organizer_id": organizer_id, "keys": wanted})
        persons.update({(organizer_id, row.email_key): row.id for row in rows})
    pairs = sorted(
        {
            (contest.id, persons[k])
            for (contest, _, _), k in zip(group, keys, strict=True)
            if k in persons
        }
    )
    entries: dict[tuple[int, int], Any] = {}
    if pairs:
        rows = connection.execute(_GROUP_ENTRIES, {"pairs": pairs})
        entries = {(row.contest_id, row.person_id): _Found(**row._mapping) for row in rows}

    seen: set[tuple[int, str]] = set()
    wanted_buckets: list[list[tuple[str, Limit]]] = []
    for (contest, _, context), key in zip(group, keys, strict=True):
        known = key in persons or key in seen
        wanted_buckets.append(_attempt_buckets(contest, key[1], context, known))
        seen.add(key)
    totals: dict[str, tuple[Limit, int]] = {}
    for buckets in wanted_buckets:
        for bucket, rule in buckets:
            totals[bucket] = (rule, totals.get(bucket, (rule, 0))[1] + 1)
    final = add_hits(connection, totals, group[0][2].now)
    counted: list[Counted] = []
    so_far: dict[str, int] = {}
    for buckets in wanted_buckets:
        counts = []
        for bucket, rule in buckets:
            so_far[bucket] = so_far.get(bucket, 0) + 1
            counts.append((bucket, rule, final[bucket] - totals[bucket][1] + so_far[bucket]))
        counted.append(counts)
    ids = RowIds(connection, persons=len(set(keys) - persons.keys()), entries=len(group))
    return Lookups(set(keys), persons, entries, ids), counted


@dataclass
class _Found:
    """An entry as FIND_ENTRY reads it, updated in place by the group that holds it."""

    contest_id: int
    person_id: int
    id: int
    public_id: str
    status: str
    confirmation_sent_at: datetime | None
    language: str


@dataclass(frozen=True)
class EntryLimits:
    """Attempts a contest takes from one network and with one address per window (DB-kept).

    ``unproven_per_network``: the stricter limit of a form sent without a proof of work while
    the contest asks for one (contest.botguard), counted with the others."""

    per_network: Limit | None = None
    per_address: Limit | None = None
    unproven_per_network: Limit | None = None


@dataclass(frozen=True)
class EntryOutcome:
    """What an attempt did. The person is answered the same whatever it did ("check your
    inbox"): only the e-mail says whether they entered, had entered before, or may not enter."""

    entry_public_id: str
    created: bool
    confirmed: bool = False
    resent: bool = False


QUIET = EntryOutcome(entry_public_id="", created=False)  # nothing written but an e-mail, maybe
TELL_ONCE = Limit(1, timedelta(hours=1))


def referral_rules(contest: ContestView) -> referrals.ReferralRules:
    return referrals.ReferralRules(
        contest_id=contest.id,
        organizer_id=contest.organizer_id,
        bonus=contest.referral_bonus,
        cap=contest.referral_cap,
        clients_only=contest.clients_only,
    )


PARTNERS_NAMED = N_("The partners: %(names)s.")


def consent_wording(contest: ContestView, option: ConsentOption, language: str) -> str:
    """What the person saw beside the box, as the ledger keeps it: the partners' box with the
    partners named under it (EU-CONSENT-SPECIFIC-1: consent to these partners, no others)."""
    label = option.label(language)
    if option.purpose == "partners" and contest.partners:
        names = gettext(language, PARTNERS_NAMED, names=", ".join(contest.partners))
        return f"{label} {names}"
    return label


def wording_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def enter_contest(
    connection: Connection,
    contest: ContestView,
    form: EntryForm,
    context: EntryContext,
    deferred: Deferred | None = None,
    counted: Counted | None = None,
) -> EntryOutcome:
    """Records an entry, pending until its confirmation link is followed (DE-DOI-1).

    With ``deferred``, the consent records and the confirmation message are added to it, for
    the caller to write (``Deferred.flush``) in the same transaction; without, they are
    written at once. The entry writer also hands the group's look-ups (``deferred.lookups``)
    and this attempt's rate-limit counts (``counted``), read and counted for the whole group
    by :func:`prepare_group`.

    Refuses (EntryRefused, nothing written) when the contest does not take entries now or the
    person may not enter it (see contest.eligibility), except where the refusal would tell a
    stranger something about the address: a non-client on a client-only contest, an address
    past its own rate limit. Those get an outcome like any other (``QUIET``) and, for the
    non-client, an e-mail saying why (``not_eligible``). A person who already entered gets
    ``created=False``; their confirmation e-mail is sent again at most once an hour, or, once
    confirmed, an e-mail leading to their page (``already_entered``).
    """
    now = context.now
    key = email_key(form.email)
    lookups = deferred.lookups if deferred is not None else None
    found = (contest.organizer_id, key)
    known_id: int | None
    if lookups is not None and found in lookups.looked:
        known_id = lookups.persons.get(found)
    else:
        lookups = None
        row = connection.execute(
            FIND_PERSON, {"organizer_id": contest.organizer_id, "email_key": key}
        ).first()
        known_id = None if row is None else int(row.id)
    if counted is None:
        buckets = _attempt_buckets(contest, key, context, known=known_id is not None)
        counts = hit_many(connection, buckets, now)
        counted = [(bucket, rule, counts[bucket]) for bucket, rule in buckets]
    if _check_limits(counted, now):
        return QUIET  # too many attempts with this address: answered as any entry, nothing sent
    if known_id is not None:
        if lookups is not None:
            existing = lookups.entries.get((contest.id, known_id))
        else:
            existing = connection.execute(
                FIND_ENTRY, {"contest_id": contest.id, "pid": known_id}
            ).first()
        if existing is not None:
            return _already_entered(connection, contest, form, existing, now, deferred)

    try:
        evidence = eligibility.check_entry(connection, contest, form, key, now)
    except EntryRefused as refusal:
        if refusal.rule_id != eligibility.CLIENT_RULE:
            raise  # what the form itself says (an age, a domain): shown beside the field
        # Whether an address is a client is the shop's to know: the answer is "check your
        # inbox", as for any entry, and the e-mail tells the person why they cannot take part.
        reason = {"reason": refusal.message(context.language)}
        _tell_once(connection, contest, form.email, key, context, "not_eligible", deferred, reason)
        return QUIET
    referrer = None
    if context.referrer_code and referral_rules(contest).active:
        referrer = referrals.find_referrer(connection, contest.id, context.referrer_code)

    person_row = {
        "organizer_id": contest.organizer_id,
        "email": form.email,
        "email_key": key,
        "first_name": form.first_name,
        "created_at": now,
    }
    public_id = secrets.token_urlsafe(12)
    entry_row = {
        "public_id": public_id,
        "contest_id": contest.id,
        "status": EntryStatus.PENDING,
        "chances": 1,
        "rules_version": context.rules_version,
        "answers": form.answers,
        "source": "referral" if referrer else context.source,
        "language": context.language,
        "created_at": now,
        "confirmation_sent_at": now,
        "referrer_entry_id": referrer.entry_id if referrer else None,
        "ip_network": context.ip_truncated,
        "eligibility": evidence,
    }
    if lookups is not None and deferred is not None:  # written with the group's other rows
        if known_id is None:
            person_id = lookups.ids.take("person")
            deferred.persons.append({"id": person_id, **person_row})
        else:
            person_id = known_id
        entry_id = lookups.ids.take("entry")
        deferred.entries.append({"id": entry_id, "person_id": person_id, **entry_row})
        lookups.persons[found] = person_id
        # A second attempt in the same group finds this entry.
        lookups.entries[(contest.id, person_id)] = _Found(
            contest.id, person_id, entry_id, public_id, EntryStatus.PENDING, now, context.language
        )
        if referrer is not None:  # the referral refers to the entry: written first
            deferred.flush_rows(connection)
    else:
        if known_id is None:
            person_id = connection.execute(INSERT_PERSON, person_row).inserted_primary_key[0]  # type: ignore[index]
        else:
            person_id = known_id
        entry_id = connection.execute(
            INSERT_ENTRY, {"person_id": person_id, **entry_row}
        ).inserted_primary_key[0]  # type: ignore[index]
    if referrer is not None:
        referrals.record_referred_entry(connection, referrer, entry_id, key, now)

    records = [("rules", gettext(context.language, RULES_WORDING, age=contest.min_age))]
    for option in contest.consents:
        if option.purpose in form.consents:
            records.append((option.purpose, consent_wording(contest, option, context.language)))
    consents = [
        {
            "organizer_id": contest.organizer_id,
            "person_id": person_id,
            "entry_id": entry_id,
            "purpose": purpose,
            "event": "granted",
            "wording": wording,
            "wording_hash": wording_hash(wording),
            "language": context.language,
            "page_url": context.page_url[:500],
            "channel": "web",
            "ip_truncated": context.ip_truncated,
            "user_agent": context.user_agent[:300],
            "created_at": now,
        }
        for purpose, wording in records
    ]
    if deferred is None:
        connection.execute(INSERT_CONSENT, consents)
    else:
        deferred.consents.extend(consents)
    marketing = person_id if len(records) > 1 else None
    _enqueue_confirmation(
        connection, contest, form.email, public_id, context.language, now, deferred, marketing
    )
    return EntryOutcome(entry_public_id=public_id, created=True)


def _attempt_buckets(
    contest: ContestView, key: str, context: EntryContext, known: bool
) -> list[tuple[str, Limit]]:
    """The rate-limit buckets an attempt counts in.

    Refused attempts count too, so that probing addresses one after the other is slowed down
    like entering is. An address counts from its second attempt (once the organizer knows the
    person): a first entry needs no bucket of its own, which keeps the busy path small.
    """
    limits = context.limits

    def hashed(value: str) -> str:  # neither the address nor the network in the table
        return hashlib.sha256(value.encode()).hexdigest()[:24]

    buckets: list[tuple[str, Limit]] = []
    if limits.per_network is not None and context.ip_truncated:
        bucket = f"entry:net:{contest.id}:{hashed(context.ip_truncated)}"
        buckets.append((bucket, limits.per_network))
    if limits.per_address is not None and known:
        buckets.append((f"entry:addr:{contest.id}:{hashed(key)}", limits.per_address))
    if limits.unproven_per_network is not None and context.ip_truncated:
        bucket = f"{UNPROVEN}{contest.id}:{hashed(context.ip_truncated)}"
        buckets.append((bucket, limits.unproven_per_network))
    return buckets


def _check_limits(counted: Counted, now: datetime) -> bool:
    """Refuses (RATE_LIMITED) an attempt from a network past its limit (the count stays
    written). Returns True when the address is past its own: the caller answers as for any
    entry and does nothing, since saying "too many attempts with this address" would tell a
    stranger that the address is a participant's."""
    quiet = False
    for bucket, rule, count in counted:
        if count <= rule.limit:
            continue
        if bucket.startswith(UNPROVEN):
            raise EntryRefused(
                CHALLENGE_REQUIRED,
                "Ce jeu reçoit beaucoup de participations en ce moment. Activez JavaScript "
                "pour que votre navigateur prouve qu'il n'est pas un robot, ou réessayez plus "
                "tard.",
                "This contest is receiving many entries just now. Turn on JavaScript so that "
                "your browser can prove it is not a robot, or try again later.",
                retry_after=retry_after(now, rule),
            )
        if not bucket.startswith("entry:net:"):
            quiet = True
            continue
        raise EntryRefused(
            RATE_LIMITED,
            "Trop de participations envoyées depuis votre réseau en peu de temps. "
            "Réessayez dans quelques minutes.",
            "Too many entries were sent from your network in a short time. "
            "Please try again in a few minutes.",
            retry_after=retry_after(now, rule),
        )
    return quiet


def _tell_once(
    connection: Connection,
    contest: ContestView,
    recipient: str,
    key: str,
    context: EntryContext,
    template: str,
    deferred: Deferred | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Queues the e-mail that tells the truth the page does not (``not_eligible``,
    ``already_entered``), at most once an hour per address and contest."""
    bucket = f"entry:{template}:{contest.id}:{hashlib.sha256(key.encode()).hexdigest()[:24]}"
    if hit_many(connection, [(bucket, TELL_ONCE)], context.now)[bucket] > 1:
        return
    payload: dict[str, Any] = {"slug": contest.slug, **(extra or {})}
    row = outbox.message_row(
        key=f"{bucket}:{context.now.timestamp():.6f}",
        template=template,
        recipient=recipient,
        language=context.language,
        payload=payload,
        now=context.now,
    )
    if deferred is None:
        outbox.enqueue_many(connection, [row])
    else:
        deferred.messages.append(row)


def _already_entered(
    connection: Connection,
    contest: ContestView,
    form: EntryForm,
    existing: Any,
    now: datetime,
    deferred: Deferred | None,
) -> EntryOutcome:
    confirmed = existing.status == EntryStatus.CONFIRMED
    last = existing.confirmation_sent_at
    if confirmed:  # the page says "check your inbox"; the e-mail leads to their own page
        language = existing.language or contest.language
        context = EntryContext(now=now, language=language, rules_version="")
        _tell_once(
            connection,
            contest,
            form.email,
            email_key(form.email),
            context,
            "already_entered",
            deferred,
            {"entry": existing.public_id},
        )
        return EntryOutcome(existing.public_id, created=False, confirmed=True)
    if last is not None and now - last < RESEND_AFTER:
        return EntryOutcome(existing.public_id, created=False)
    entry_t = tables.entry
    updated = connection.execute(
        sa.update(entry_t)
        .where(entry_t.c.id == existing.id, entry_t.c.confirmation_sent_at == last)
        .values(confirmation_sent_at=now)
    ).rowcount
    if updated and isinstance(existing, _Found):
        existing.confirmation_sent_at = now
    if updated:  # in the language the person entered in
        language = existing.language or contest.language
        _enqueue_confirmation(
            connection, contest, form.email, existing.public_id, language, now, deferred
        )
    return EntryOutcome(existing.public_id, created=False, resent=bool(updated))


def _enqueue_confirmation(
    connection: Connection,
    contest: ContestView,
    recipient: str,
    public_id: str,
    language: str,
    now: datetime,
    deferred: Deferred | None = None,
    marketing_person: int | None = None,
) -> None:
    """The confirmation e-mail; ``marketing_person`` (the person's id) when the entry also
    gives a marketing consent, so that the e-mail links to their preferences."""
    payload: dict[str, Any] = {"entry": public_id, "slug": contest.slug}
    if marketing_person is not None:
        payload["person"] = marketing_person
    row = outbox.message_row(
        key=f"confirm:{public_id}:{now.timestamp():.6f}",
        template="confirm",
        recipient=recipient,
        language=language,
        payload=payload,
        now=now,
    )
    if deferred is None:
        outbox.enqueue_many(connection, [row])
    else:
        deferred.messages.append(row)


@dataclass(frozen=True)
class EntryState:
    id: int
    public_id: str
    contest_id: int
    person_id: int
    status: str
    chances: int
    email: str
    first_name: str
    created_at: datetime
    confirmed_at: datetime | None
    referral_code: str | None


def find_entry(connection: Connection, contest: ContestView, public_id: str) -> EntryState | None:
    entry_t, person_t = tables.entry, tables.person
    row = connection.execute(
        sa.select(
            entry_t.c.id,
            entry_t.c.public_id,
            entry_t.c.contest_id,
            entry_t.c.person_id,
            entry_t.c.status,
            entry_t.c.chances,
            entry_t.c.created_at,
            entry_t.c.confirmed_at,
            entry_t.c.referral_code,
            person_t.c.email,
            person_t.c.first_name,
        )
        .join(person_t, person_t.c.id == entry_t.c.person_id)
        .where(
            entry_t.c.public_id == public_id,
            entry_t.c.contest_id == contest.id,
            person_t.c.erased_at.is_(None),  # an erased person's links lead nowhere
        )
    ).first()
    if row is None:
        return None
    return EntryState(**row._mapping)


def _still_granted(connection: Connection, entry_id: int, person_id: int) -> list[Any]:
    """The entry's consent records that no withdrawal has ended since (EU-WITHDRAW-1):
    a person who unsubscribed from the confirmation e-mail and then follows its confirmation
    link has confirmed the entry, not given again what they took back."""
    consent = tables.consentrecord
    granted = connection.execute(
        sa.select(consent).where(consent.c.entry_id == entry_id, consent.c.event == "granted")
    ).all()
    withdrawn: dict[str, int] = {
        purpose: last
        for purpose, last in connection.execute(
            sa.select(consent.c.purpose, sa.func.max(consent.c.id))
            .where(consent.c.person_id == person_id, consent.c.event == "withdrawn")
            .group_by(consent.c.purpose)
        )
    }
    return [row for row in granted if row.id > withdrawn.get(row.purpose, 0)]


class EntryGone(Exception):
    """The entry behind a link no longer exists (erased, or never existed)."""


def confirm_entry(
    connection: Connection, contest: ContestView, public_id: str, now: datetime
) -> EntryState:
    """Confirms a pending entry (double opt-in) and records the confirmation of each consent.
    In an instant-win contest the confirmation takes the earliest due moment, if any, and the
    prize is offered at once (contest.instantwin).

    Confirming twice is harmless: the second time changes nothing. Raises EntryGone when the
    entry does not exist for this contest.
    """
    entry = find_entry(connection, contest, public_id)
    if entry is None:
        raise EntryGone(public_id)
    if entry.status == EntryStatus.CONFIRMED:
        return entry
    entry_t, consent_t = tables.entry, tables.consentrecord
    changed = connection.execute(
        sa.update(entry_t)
        .where(entry_t.c.id == entry.id, entry_t.c.status == EntryStatus.PENDING)
        .values(status=EntryStatus.CONFIRMED, confirmed_at=now)
    ).rowcount
    if changed:
        won = instantwin.claim_moment(connection, contest, entry.id, now)
        if won is not None:
            claims.offer_instant_win(connection, contest, entry.id, won.prize_rank, now)
        rules = referral_rules(contest)
        if rules.active:
            referrals.issue_code(connection, entry.id)
        referrals.on_confirmed(connection, entry.id, rules, now)
        granted = _still_granted(connection, entry.id, entry.person_id)
        marketing = [row.purpose for row in granted if row.purpose != "rules"]
        if marketing:
            crm.enqueue_event(
                connection,
                contest.organizer_id,
                "lead.created",
                {
                    "email": entry.email,
                    "first_name": entry.first_name,
                    "contest": contest.slug,
                    "consents": marketing,
                    "marketing": "marketing_email" in marketing,
                },
                key=str(entry.id),
                now=now,
                person_id=entry.person_id,
            )
        if granted:
            connection.execute(
                sa.insert(consent_t),
                [
                    {
                        **{k: v for k, v in row._mapping.items() if k not in UNSEALED},
                        "event": "confirmed",
                        "channel": "email",
                        "ip_truncated": "",
                        "user_agent": "",
                        "created_at": now,
                    }
                    for row in granted
                ],
            )
    return find_entry(connection, contest, public_id) or entry
