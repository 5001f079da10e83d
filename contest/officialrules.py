"""The official rules, generated from a contest's configuration (FR-RULES-1, US-RULES-1).

The text is built here, in both languages, as plain sections; the page only lays it out.
Its SHA-256 is the rules version an entry records as accepted, so any change to the
configuration that changes the text changes the version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.compliance import contest_facts
from contest.contests import ContestView
from contest.contests.fields import INSTANT_WIN, RANKING
from contest.i18n import N_, format_day, format_money, format_when, gettext
from rules import US_NO_PURCHASE_BLOCK


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...]


def official_rules(contest: ContestView, language: str) -> tuple[Section, ...]:
    contest = contest.in_language(language)

    def _(message: str, **params: object) -> str:
        return gettext(language, message, **params)

    def when(moment: datetime | None) -> str:
        return format_when(moment, language, contest.timezone) if moment else "—"

    organizer = contest.organizer_name or "—"
    form = contest.organizer_legal_form.strip()
    if form and organizer.casefold().split()[-1:] != [form.casefold()]:  # not "Boutique SAS SAS"
        organizer = f"{organizer} {form}"
    registered = (
        (_("Company number: %(number)s.", number=contest.organizer_company_number),)
        if contest.organizer_company_number
        else ()
    )
    sections = [
        Section(
            _("Organizer"),
            (
                _(
                    "The contest “%(title)s” is organized by %(organizer)s, %(address)s "
                    "(contact: %(contact)s).",
                    title=contest.title,
                    organizer=organizer,
                    address=contest.organizer_address or "—",
                    contact=contest.organizer_contact or "—",
                ),
                *registered,
            ),
        ),
        Section(
            _("Dates"),
            (
                _(
                    "Entries are accepted from %(opens)s until %(closes)s.",
                    opens=when(contest.opens_at),
                    closes=when(contest.closes_at),
                ),
            ),
        ),
    ]
    who = [
        _(
            "The contest is open to people aged %(age)s or over. Staff of the organizer and "
            "people involved in running the contest may not take part.",
            age=contest.min_age,
        ),
        _("One entry per person (same e-mail address); further entries are not counted."),
    ]
    if contest.excluded_email_domains:
        who.append(
            _(
                "Addresses at these domains, used by the organizer's staff, may not take part: "
                "%(domains)s.",
                domains=", ".join(contest.excluded_email_domains),
            )
        )
    if contest.clients_only and contest.client_cutoff_at is not None:
        who.insert(
            0,
            _(
                "This contest is reserved to people who were already clients of the organizer "
                "before %(cutoff)s. Becoming a client after that date does not give access.",
                cutoff=format_day(contest.client_cutoff_at, language, contest.timezone),
            ),
        )
    sections.append(Section(_("Who may take part"), tuple(who)))
    sections.append(
        Section(
            _("How to take part"),
            (
                _(
                    "Taking part is free and requires no purchase or payment of any kind. A "
                    "purchase does not increase the chances of winning."
                ),
                _(
                    "Fill in the form on the contest page and confirm your entry with the link "
                    "sent to your e-mail address. Only confirmed entries take part in the draw."
                ),
                _("Apart from your ordinary internet connection, taking part costs nothing."),
                *_other_channels(contest, _),
                *_reimbursement(contest, _),
            ),
        )
    )
    if contest.referral_bonus > 0:
        sections.append(
            Section(
                _("Referral"),
                (
                    _(
                        "Each confirmed participant receives a personal link to share. Every "
                        "new participant who enters through it and confirms gives the referrer "
                        "%(bonus)s extra chance(s), up to %(cap)s. Referring is never required.",
                        bonus=contest.referral_bonus,
                        cap=contest.referral_cap or 0,
                    ),
                ),
            )
        )
    prize_lines = []
    for prize in contest.prizes:
        value = (
            format_money(prize.unit_value, prize.currency, language)
            if prize.unit_value is not None
            else "—"
        )
        line = _(
            "Prize %(rank)s: %(description)s (%(quantity)s × %(value)s).",
            rank=prize.rank,
            description=prize.description,
            quantity=prize.quantity,
            value=value,
        )
        if prize.kind == "voucher":
            line += " " + _(
                "Voucher valid %(days)s days in the organizer's shop, not exchangeable for cash.",
                days=prize.voucher_validity_days or "—",
            )
        prize_lines.append(line)
    if contest.consolation.strip():
        prize_lines.append(
            _(
                "Every confirmed participant who is not drawn receives with the results, by "
                "e-mail: %(offer)s",
                offer=contest.consolation.strip(),
            )
        )
    sections.append(Section(_("Prizes"), tuple(prize_lines) or ("—",)))
    if contest.game == INSTANT_WIN:
        how_won = _instant_win(contest, _, when)
    elif contest.game == RANKING:
        how_won = (
            _(
                "The winners are the confirmed entries whose answer to the tie-breaker question "
                "“%(tiebreaker)s” is closest to the number of entries confirmed before the "
                "close, ranked on %(draw)s. Equal answers are ordered by the draw's seed (the "
                "secret committed at publication, the entries frozen at the close and the "
                "public value below), so that nobody chooses among them. %(method)s",
                tiebreaker=contest.tiebreaker,
                draw=when(contest.draw_at),
                method=contest.draw_method,
            ),
        )
    else:
        how_won = (
            _(
                "The winners are drawn at random on %(draw)s among the confirmed entries, "
                "each entry counting as many chances as it holds. %(method)s",
                draw=when(contest.draw_at),
                method=contest.draw_method,
            ),
        )
    if contest.question:
        how_won = (
            _(
                "Only entries with the right answer to the question “%(question)s” take part "
                "(answers offered: %(choices)s).",
                question=contest.question,
                choices=", ".join(contest.question_choices),
            ),
            *how_won,
        )
    sections.append(
        Section(
            _("Draw and winners"),
            (
                *how_won,
                *_randomness(contest, _, when),
                _(
                    "Winners are told by e-mail (%(how)s) and have %(days)s days to claim their "
                    "prize; an unclaimed prize goes to the next drawn alternate.",
                    how=contest.winner_notification or "—",
                    days=contest.claim_days or "—",
                ),
            ),
        )
    )
    if "US" in contest.jurisdictions:
        sections.append(Section(_("United States"), _united_states(contest, _, language)))
    if contest.deposit_officer.strip():
        deposit = _(
            "These rules were deposited with %(officer)s.", officer=contest.deposit_officer.strip()
        )
        if contest.deposit_reference.strip():
            deposit += " " + _("Reference: %(reference)s.", reference=contest.deposit_reference)
        if contest.deposit_at is not None:
            deposit += " " + _("Date of deposit: %(date)s.", date=when(contest.deposit_at))
        sections.append(Section(_("Deposit of the rules"), (deposit,)))
    sections.append(
        Section(
            _("Personal data"),
            (
                contest.privacy_notice or "—",
                *(
                    (
                        _(
                            "If you tick the partners' box, your e-mail address is shared with "
                            "these partners only, for their offers: %(names)s.",
                            names=", ".join(contest.partners),
                        ),
                    )
                    if contest.partners and any(c.purpose == "partners" for c in contest.consents)
                    else ()
                ),
                _(
                    "Your data are kept %(months)s months after the contest unless you agreed "
                    "to receive our news. You may access, correct or erase them, withdraw your "
                    "consent at any time, and complain to the CNIL.",
                    months=contest.retention_months or "—",
                ),
                *(
                    (
                        _(
                            "To exercise your rights, write to %(contact)s.",
                            contact=contest.organizer_privacy_contact,
                        ),
                    )
                    if contest.organizer_privacy_contact
                    else ()
                ),
            ),
        )
    )
    return tuple(sections)


CHANNELS = {
    "email": N_("by e-mail to %(contact)s"),
    "post": N_("by post to %(address)s"),
    "in_store": N_("in the organizer's shop, with the QR code shown there"),
}


def _other_channels(contest: ContestView, _: Callable[..., str]) -> tuple[str, ...]:
    """The free ways to enter the organizer runs besides the page (FR-COSTS-1): each one
    leads to the same entry, with the same confirmation."""
    ways = [
        _(CHANNELS[channel], contact=contest.organizer_contact or "—",
          address=contest.organizer_address or "—")
        for channel in contest.entry_channels
        if channel in CHANNELS
    ]  # fmt: skip
    if not ways:
        return ()
    return (
        _(
            "You may also enter %(ways)s, giving your e-mail address; the entry is confirmed "
            "the same way.",
            ways="; ".join(ways),
        ),
    )


def _reimbursement(contest: ContestView, _: Callable[..., str]) -> tuple[str, ...]:
    """FR-COSTS-1's optional clause: where, by when and on what basis costs are paid back."""
    if not contest.cost_reimbursement:
        return ()
    return (
        _(
            "The costs of taking part are reimbursed on request to %(address)s, within "
            "%(days)s days after the close, one request per person: %(basis)s",
            address=contest.reimbursement_address or "—",
            days=contest.reimbursement_days or "—",
            basis=contest.reimbursement_basis or "—",
        ),
    )


def _united_states(contest: ContestView, _: Callable[..., str], language: str) -> tuple[str, ...]:
    """The material terms US rules carry (US-RULES-1, US-LOTTERY-1, US-GEO-1, US-TAX-1)."""
    lines = [
        US_NO_PURCHASE_BLOCK,
        _(
            "Open to legal residents of the 50 United States and the District of Columbia "
            "aged %(age)s or over, or the age of majority in their state if it is higher "
            "(19 in Alabama, Delaware and Nebraska, 21 in Mississippi).",
            age=max(contest.min_age, 18),
        ),
    ]
    if contest.us_states_excluded:
        lines.append(
            _(
                "Void in %(states)s and where prohibited.",
                states=", ".join(sorted(contest.us_states_excluded)),
            )
        )
    lines.append(_("The odds of winning depend on the number of eligible entries received."))
    value = contest_facts(contest).usd_prize_value
    if value is not None:
        lines.append(
            _(
                "Approximate retail value of all prizes: %(value)s.",
                value=format_money(value, "USD", language),
            )
        )
    lines.append(
        _(
            "Winners pay any taxes on their prize. A winner of prizes worth $600 or more in a "
            "year gives the organizer a W-9 form when claiming."
        )
    )
    if contest.ccpa_covered and contest.ccpa_incentive_notice.strip():
        lines.append(
            _("Notice of Financial Incentive (California): %(notice)s",
              notice=contest.ccpa_incentive_notice.strip())
        )  # fmt: skip
    return tuple(lines)


def _instant_win(
    contest: ContestView, _: Callable[..., str], when: Callable[[datetime | None], str]
) -> tuple[str, ...]:
    """How an instant-win contest's winning moments were fixed and are won (contest.instantwin)."""
    units = sum(max(prize.quantity, 0) for prize in contest.prizes)
    spread = (
        _("spread day by day over the contest")
        if contest.instant_spread == "daily"
        else _("at random over the whole contest")
    )
    lines = [
        _(
            "Instant win: %(count)s winning moments, one per prize, were drawn %(spread)s from "
            "a secret value when the contest was published. The first entry confirmed at or "
            "after a moment wins its prize at once, the earliest moments giving the first "
            "prizes. An entry never confirmed wins nothing: its moment goes to the next "
            "confirmation. %(method)s",
            count=units,
            spread=spread,
            method=contest.draw_method,
        ),
        _(
            "The fingerprint (SHA-256) of the moments was published before anyone entered: "
            "%(commitment)s. The moments and the secret value are published after the close, "
            "with every confirmation's time, so that anyone can check that no moment moved "
            "and that each went to the first confirmation after it.",
            commitment=contest.instant_commitment or _("given at publication"),
        ),
    ]
    if contest.instant_leftover == "final_draw":
        lines.append(
            _(
                "A prize whose moment nobody reached is drawn at random on %(draw)s among the "
                "confirmed entries that won nothing.",
                draw=when(contest.draw_at),
            )
        )
    else:
        lines.append(_("A prize whose moment nobody reached before the close is not awarded."))
    return tuple(lines)


def _randomness(
    contest: ContestView, _: Callable[..., str], when: Callable[[datetime | None], str]
) -> tuple[str, ...]:
    """The public value the draw will mix in, announced before it exists (ALL-DRAW-COMMIT-1)."""
    announced = contest.announcement
    if announced is None:
        return ()
    if announced.source == "drand":
        text = _(
            "The draw mixes three things: the secret committed when the contest was published, "
            "the fingerprint of the entries frozen at the close, and the randomness of round "
            "%(round)s of the drand beacon (League of Entropy, quicknet chain), emitted on "
            "%(at)s. Nobody, the organizer included, can know that value before then.",
            round=announced.round,
            at=when(announced.at),
        )
    elif announced.source == "lottery":
        text = _(
            "The draw mixes three things: the secret committed when the contest was published, "
            "the fingerprint of the entries frozen at the close, and the result of this lottery "
            "draw: %(name)s. The draw takes place once that result is known, not before %(at)s.",
            name=announced.name,
            at=when(announced.at),
        )
    else:
        text = _(
            "The draw mixes three things: the secret committed when the contest was published, "
            "the fingerprint of the entries frozen at the close, and a value held by %(name)s, "
            "revealed at the draw on %(at)s.",
            name=announced.name,
            at=when(announced.at),
        )
    return (text,)


def rules_text(contest: ContestView) -> str:
    parts = []
    for language in contest.languages:
        for section in official_rules(contest, language):
            parts.append(section.title)
            parts.extend(section.paragraphs)
    return "\n".join(parts)


def rules_version(contest: ContestView) -> str:
    return hashlib.sha256(rules_text(contest).encode()).hexdigest()


# --- Versions as published -------------------------------------------------------------------

PUBLICATION = "publication"  # the reason of the first version


@dataclass(frozen=True)
class PublishedVersion:
    """The rules as they stood from ``published_at``: ``number`` 1 is the text published with
    the contest, each later one a change with its reason (ALL-RULES-LOCK-1)."""

    number: int
    version: str
    published_at: datetime
    reason: str
    text: str
    pdf_sha256: str | None = None  # None for a version stored before PDFs were kept

    @property
    def is_change(self) -> bool:
        return self.number > 1


def published_versions(connection: Connection, contest_id: int) -> list[PublishedVersion]:
    """Every published version of a contest's rules, the latest first."""
    table = tables.rulesversion
    rows = connection.execute(
        sa.select(
            table.c.version, table.c.published_at, table.c.reason, table.c.text, table.c.pdf_sha256
        )
        .where(table.c.contest_id == contest_id)
        .order_by(table.c.published_at, table.c.id)
    ).all()
    versions = [
        PublishedVersion(
            number, row.version, row.published_at, row.reason, row.text, row.pdf_sha256
        )
        for number, row in enumerate(rows, start=1)
    ]
    return versions[::-1]
