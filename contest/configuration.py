"""Configuring a contest: the organizer's form, its live compliance check, saving, publishing.

No HTTP here. A configuration is parsed into a :class:`ContestSettings` (its fields declared
once in ``contest.contests.fields``), judged by the rules engine (the same check drives the
live panel, the Publish button and the server's refusal), and saved. Once published, the
official rules text is frozen as a :class:`RulesVersion`; a later change is judged by
ALL-RULES-LOCK-1 and, when allowed, makes a new version with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session, col, select

from contest import instantwin, rulespdf
from contest.compliance import contest_facts, override_given
from contest.contests.fields import PRIZE_SETTINGS, SETTINGS, ContestSettings
from contest.contests.formats import prize_of_row, row_values, settings_of_row
from contest.contests.setting import ConfigErrors, Kind, shown_as_stored
from contest.contests.view import ContestView, load_contest
from contest.draw.beacon import Announcement, announce
from contest.draw.protocol import commitment, new_secret
from contest.eligibility import commit_client_set
from contest.models import AuditEvent, Contest, ContestStatus, Organizer, RulesVersion
from contest.models import Prize as PrizeRow
from contest.officialrules import PUBLICATION, rules_text, rules_version
from rules import (
    ContestFacts,
    Finding,
    Prize,
    Refusal,
    Severity,
    Verdict,
    evaluate_change,
    evaluate_configuration,
)
from rules.registry import EU_MEMBER_STATES

MANY_FIELDS = 4  # seed 004: each field asked lowers conversion

# --- Judging ---------------------------------------------------------------------------------


def view_of(contest: ContestSettings, organizer: Organizer, status: str = "draft") -> ContestView:
    """The configuration as participants would see it (the preview and the rules use this)."""
    assert organizer.id is not None
    return ContestView(
        **{name: getattr(contest, name) for name in SETTINGS},
        prizes=contest.prizes,
        id=0,
        organizer_id=organizer.id,
        status=status,
        organizer_name=organizer.legal_name,
        organizer_address=organizer.postal_address,
        organizer_contact=organizer.contact_email,
        organizer_legal_form=organizer.legal_form,
        organizer_company_number=organizer.company_number,
        organizer_privacy_contact=organizer.privacy_contact,
        organizer_sender_name=organizer.sender_name,
        organizer_reply_to=organizer.reply_to,
        organizer_logo=organizer.logo_path,
    )


def facts_of(contest: ContestSettings, organizer: Organizer) -> ContestFacts:
    """The rules engine's view of a configuration and its organizer's identity."""
    return contest_facts(view_of(contest, organizer))


FORM_DISCIPLINE = Finding(
    rule_id="FORM-FIELDS-1",
    severity=Severity.WARN,
    message_fr=(
        "Plus de quatre champs sont demandés : chaque champ en plus fait baisser le nombre de "
        "participations."
    ),
    message_en="More than four fields are asked: each extra field lowers the number of entries.",
    source="Product practice (seed 004: few, relevant fields)",
    field="form_fields",
)


def incomplete_translation(contest: ContestSettings) -> Finding | None:
    """A warning when a text is given in the contest's language only: visitors reading the
    second language see it untranslated."""
    missing = contest.missing_translations()
    if not missing:
        return None
    french_second = contest.second_language == "fr"
    return Finding(
        rule_id="LANG-COMPLETE-1",
        severity=Severity.WARN,
        message_fr=(
            f"La version {'française' if french_second else 'anglaise'} est incomplète "
            f"({len(missing)} texte(s) manquant(s)) : les visiteurs qui lisent "
            f"{'le français' if french_second else 'l’anglais'} les verront en "
            f"{'anglais' if french_second else 'français'}."
            + (
                " Un jeu destiné à la France n'est proposé en français qu'une fois chaque "
                "texte traduit (FR-LANG-1) : remplissez les champs de la section "
                "« Seconde langue »."
                if french_second
                else ""
            )
        ),
        message_en=(
            f"The {'French' if french_second else 'English'} version is incomplete "
            f"({len(missing)} text(s) missing): visitors reading "
            f"{'French' if french_second else 'English'} will see them in "
            f"{'English' if french_second else 'French'}."
            + (
                " A contest aimed at France is offered in French only once every text is "
                "translated (FR-LANG-1): fill in the fields of the “Second language” section."
                if french_second
                else ""
            )
        ),
        source="Product practice (every text in each of the contest's languages)",
        field=missing[0],
    )


UNNAMED_RANDOMNESS = Finding(
    rule_id="ALL-DRAW-COMMIT-1",
    severity=Severity.REFUSE,
    message_fr=(
        "Nommez le tirage de loterie (et sa date, après la clôture) ou l'huissier dont la "
        "valeur sera mêlée au tirage au sort : le règlement doit l'annoncer avant qu'elle existe."
    ),
    message_en=(
        "Name the lottery draw (and its date, after the close) or the bailiff whose value will "
        "be mixed into the draw: the rules must announce it before it exists."
    ),
    source="RFC 3797 (future public randomness sources published in advance)",
    field="randomness_detail",
)


def unnamed_randomness(contest: ContestSettings) -> Finding | None:
    """A refusal when the draw's public value cannot be announced: a lottery or a bailiff
    chosen without saying which (a drand round needs only the draw date)."""
    if contest.randomness != "drand" and not contest.randomness_detail.strip():
        return UNNAMED_RANDOMNESS
    return None


def judge(contest: ContestSettings, organizer: Organizer, now: datetime) -> Verdict:
    """Every refusal and warning for this configuration, as of publishing it at ``now``."""
    facts = facts_of(contest, organizer)
    if facts.offered_at is None:
        facts = replace(facts, offered_at=now)
    verdict = evaluate_configuration(facts, now)
    checks = (incomplete_translation(contest), unnamed_randomness(contest))
    extra = [finding for finding in checks if finding is not None]
    if len(contest.form_fields) + 1 > MANY_FIELDS:
        extra.append(FORM_DISCIPLINE)
    if extra:
        verdict = Verdict((*verdict.findings, *extra))
    return verdict


# --- Saving and the lifecycle ------------------------------------------------------------------


class ContestRefused(Exception):
    """A save or a transition refused by the rules; ``verdict`` holds every reason."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(", ".join(verdict.rule_ids))
        self.verdict = verdict


class SlugTaken(Refusal):
    """Another contest already uses this address."""


def slug_taken() -> SlugTaken:
    return SlugTaken(
        "slug_taken",
        "Un autre jeu utilise déjà cette adresse.",
        "Another contest already uses this address.",
    )


class TransitionRefused(Refusal):
    """The contest cannot go from its status to the one asked for (or not yet)."""


def not_now(status: str, action: str) -> TransitionRefused:
    return TransitionRefused(
        "transition_refused",
        f"Impossible depuis l'état « {status} » ({action}).",
        f"Not possible from the status {status!r} ({action}).",
    )


CLOSING_EARLY = (
    "Le jeu ne peut pas être clos avant la date de clôture annoncée dans le règlement.",
    "The contest cannot be closed before the closing date its rules announce.",
)


TRANSITIONS = {
    "publish": ({ContestStatus.DRAFT}, None),
    "close": ({ContestStatus.SCHEDULED, ContestStatus.OPEN}, ContestStatus.CLOSED),
    "archive": ({ContestStatus.CLOSED, ContestStatus.DRAWN}, ContestStatus.ARCHIVED),
}


def _apply(row: Contest, contest: ContestSettings) -> None:
    for name, value in row_values(contest, published=row.status != ContestStatus.DRAFT).items():
        setattr(row, name, value)


def _replace_prizes(session: Session, contest_id: int, prizes: Sequence[Prize]) -> None:
    for old in session.exec(select(PrizeRow).where(PrizeRow.contest_id == contest_id)).all():
        session.delete(old)
    session.flush()
    for rank, prize in enumerate(prizes, start=1):
        session.add(
            PrizeRow(
                contest_id=contest_id,
                rank=rank,
                **{name: getattr(prize, name) for name in PRIZE_SETTINGS},
            )
        )


def _slug_free(session: Session, slug: str, contest_id: int | None) -> bool:
    taken = session.exec(select(Contest.id).where(Contest.slug == slug)).first()
    return taken is None or taken == contest_id


def audit(
    session: Session, organizer_id: int, contest_id: int | None, action: str, **detail: object
) -> None:
    session.add(
        AuditEvent(organizer_id=organizer_id, contest_id=contest_id, action=action, detail=detail)
    )


def input_of(row: Contest, prizes: Sequence[PrizeRow]) -> ContestSettings:
    """The configuration of a stored contest, as the form would send it back."""
    return ContestSettings(
        **settings_of_row(row.model_dump()),
        prizes=tuple(prize_of_row(p) for p in sorted(prizes, key=lambda p: p.rank)),
    )


def prizes_of(session: Session, contest_id: int) -> list[PrizeRow]:
    return list(
        session.exec(
            select(PrizeRow).where(PrizeRow.contest_id == contest_id).order_by(col(PrizeRow.rank))
        ).all()
    )


def create_contest(
    session: Session, organizer: Organizer, contest: ContestSettings, now: datetime
) -> Contest:
    """Saves a new draft. Drafts may be incomplete; only publishing is judged by the rules.

    Refuses (SlugTaken) an address another contest already uses.
    """
    assert organizer.id is not None
    if not _slug_free(session, contest.slug, None):
        raise slug_taken()
    row = Contest(organizer_id=organizer.id, slug=contest.slug, title=contest.title)
    row.status = ContestStatus.DRAFT
    _apply(row, contest)
    row.created_at = row.updated_at = now
    session.add(row)
    session.flush()
    assert row.id is not None
    _replace_prizes(session, row.id, contest.prizes)
    audit(session, organizer.id, row.id, "contest.created", slug=row.slug)
    session.commit()
    return row


def duplicate_contest(
    session: Session, organizer: Organizer, row: Contest, now: datetime
) -> Contest:
    """A new draft with ``row``'s configuration and prizes, titled as a copy, at a free
    address. Its dates are cleared: a copy made months later must be dated again rather than
    published with dates already past (or a cut-off before its offer)."""
    assert row.id is not None and organizer.id is not None
    settings = input_of(row, prizes_of(session, row.id))
    suffix = " (copie)" if row.language == "fr" else " (copy)"
    base = f"{row.slug[:52]}-{'copie' if row.language == 'fr' else 'copy'}"
    slug, number = base, 1
    while not _slug_free(session, slug, None):
        number += 1
        slug = f"{base}-{number}"
    copy = replace(
        settings,
        title=settings.title[: 200 - len(suffix)] + suffix,
        slug=slug,
        offered_at=None,
        opens_at=None,
        closes_at=None,
        draw_at=None,
        client_cutoff_at=None,
    )
    duplicate = create_contest(session, organizer, copy, now)
    audit(session, organizer.id, duplicate.id, "contest.duplicated", source=row.slug)
    session.commit()
    session.refresh(duplicate)
    return duplicate


def update_contest(
    session: Session,
    organizer: Organizer,
    row: Contest,
    contest: ContestSettings,
    now: datetime,
    reason: str = "",
) -> Contest:
    """Saves a changed configuration.

    A draft changes freely. A published contest keeps its address, and a change is judged
    twice: the new configuration must pass the rules (ContestRefused otherwise), and the
    change itself must not hurt participants (ALL-RULES-LOCK-1). An allowed change freezes a
    new rules version; its reason is required and kept.
    """
    assert organizer.id is not None and row.id is not None
    published = row.status != ContestStatus.DRAFT
    contest = moments_as_stored(contest, input_of(row, ()))
    if published:
        contest = replace(contest, slug=row.slug)
        before = facts_of(input_of(row, prizes_of(session, row.id)), organizer)
        after = replace(facts_of(contest, organizer), offered_at=row.offered_at)
        verdict = Verdict(
            (
                *evaluate_change(before, after, now).findings,
                *judge(contest, organizer, now).findings,
            )
        )
        if not verdict.ok:
            raise ContestRefused(verdict)
        if not reason.strip():
            raise ConfigErrors(
                {
                    "reason": (
                        "Indiquez la raison de la modification : "
                        "elle est publiée avec le règlement.",
                        "Give the reason for the change: it is published with the rules.",
                    )
                }
            )
    elif not _slug_free(session, contest.slug, row.id):
        raise slug_taken()
    _apply(row, contest)
    if published and row.draw_beacon is not None:
        _announce_again(row, now)
    row.updated_at = now
    session.add(row)
    _replace_prizes(session, row.id, contest.prizes)
    audit(session, organizer.id, row.id, "contest.updated", reason=reason.strip())
    if published:
        _audit_override(session, organizer.id, row)
    session.flush()
    if published:
        freeze_rules(session, row, now, reason.strip())
    session.commit()
    return row


def moments_as_stored(contest: ContestSettings, stored: ContestSettings) -> ContestSettings:
    """The dates sent back as the form showed them (to the millisecond) keep their stored
    value: a date stored with microseconds (the moment a contest was published, say) is not
    changed by saving the form that shows it."""
    kept = {
        name: getattr(stored, name)
        for name, spec in SETTINGS.items()
        if spec.kind is Kind.MOMENT
        and shown_as_stored(getattr(contest, name), getattr(stored, name))
    }
    return replace(contest, **kept) if kept else contest


def _audit_override(session: Session, organizer_id: int, row: Contest) -> None:
    """A published contest that sends platform invitations in the EU on its organizer's legal
    override (EU-REFER-NOSEND-1) leaves the reason in the audit log."""
    eu = set(row.jurisdictions) & EU_MEMBER_STATES
    if row.platform_invitations and eu and override_given(row.invitations_override_reason):
        audit(
            session,
            organizer_id,
            row.id,
            "contest.invitations_override",
            rule="EU-REFER-NOSEND-1",
            reason=row.invitations_override_reason.strip(),
        )


def _announce_again(row: Contest, now: datetime) -> None:
    """A postponed draw announces the value of its new date (the new rules version says so)
    while it is still to come: announced earlier, a value could exist before the draw, and the
    announced moment never moves back."""
    assert row.draw_beacon is not None
    before = Announcement.from_json(row.draw_beacon)
    after = announce(row.randomness, row.randomness_detail, row.draw_at)
    if after is not None and after.source == before.source and before.at < after.at > now:
        row.draw_beacon = replace(after, name=before.name).to_json()


def freeze_rules(session: Session, row: Contest, now: datetime, reason: str) -> RulesVersion | None:
    """Stores the rules text as published now, unless this exact text is already stored."""
    assert row.id is not None
    view = load_contest(session.connection(), row.slug)
    if view is None:
        return None
    version = rules_version(view)
    exists = session.exec(
        select(RulesVersion).where(
            RulesVersion.contest_id == row.id, RulesVersion.version == version
        )
    ).first()
    if exists is not None:
        return None
    pdf = rulespdf.of_contest(view, version, now)
    frozen = RulesVersion(
        contest_id=row.id,
        version=version,
        text=rules_text(view),
        reason=reason,
        published_at=now,
        pdf=pdf,
        pdf_sha256=rulespdf.sha256(pdf),
    )
    session.add(frozen)
    return frozen


def publish_contest(session: Session, organizer: Organizer, row: Contest, now: datetime) -> Contest:
    """Publishes a draft: it becomes visible, and open once its opening date comes.

    Refuses (ContestRefused, with every failing rule) while any refuse-level rule fails; the
    moment of publication becomes the date the contest was offered (FR-CLIENTS-1 compares the
    client cut-off with it) unless an earlier one was set.
    """
    assert organizer.id is not None and row.id is not None
    if row.status != ContestStatus.DRAFT:
        raise not_now(row.status, "publish")
    contest = input_of(row, prizes_of(session, row.id))
    offered = min(contest.offered_at, now) if contest.offered_at else now
    verdict = judge(replace(contest, offered_at=offered), organizer, now)
    if not verdict.ok:
        raise ContestRefused(verdict)
    row.offered_at = offered
    if row.draw_secret is None:  # ALL-DRAW-COMMIT-1: commit before the pool even exists
        row.draw_secret = new_secret()
        row.draw_commitment = commitment(row.draw_secret)
    # ALL-DRAW-COMMIT-1: the public value is announced before it exists (in the rules).
    announcement = announce(row.randomness, row.randomness_detail, row.draw_at)
    row.draw_beacon = None if announcement is None else announcement.to_json()
    row.status = (
        ContestStatus.OPEN
        if row.opens_at is None or row.opens_at <= now
        else ContestStatus.SCHEDULED
    )
    row.updated_at = now
    session.add(row)
    session.flush()
    # FR-CLIENTS-1: the clients it admits, committed before anyone enters (on the rules page).
    facts = facts_of(replace(contest, offered_at=offered), organizer)
    commit_client_set(session.connection(), row.id, organizer.id, facts, now)
    # Instant win: the winning moments drawn and committed to before anyone enters.
    published_view = load_contest(session.connection(), row.slug)
    if published_view is not None:
        instantwin.fix_moments(session.connection(), published_view, now)
    freeze_rules(session, row, now, PUBLICATION)
    audit(session, organizer.id, row.id, "contest.published", status=row.status)
    _audit_override(session, organizer.id, row)
    session.commit()
    return row


def transition(
    session: Session, organizer: Organizer, row: Contest, action: str, now: datetime
) -> Contest:
    """Closes or archives a contest; refuses (TransitionRefused) any other move.

    Closing before the closing date in the rules is refused: it would shorten the contest to
    the participants' detriment (ALL-RULES-LOCK-1).
    """
    assert organizer.id is not None
    allowed, target = TRANSITIONS.get(action, (set(), None))
    if row.status not in allowed or target is None:
        raise not_now(row.status, action)
    if action == "close" and row.closes_at is not None and row.closes_at > now:
        raise TransitionRefused("closing_early", *CLOSING_EARLY, rule_id="ALL-RULES-LOCK-1")
    row.status = target
    row.updated_at = now
    session.add(row)
    audit(session, organizer.id, row.id, f"contest.{action}")
    session.commit()
    return row
