"""The ALL pack: rules that apply to every contest, whatever its jurisdictions.

Some carry a national id (FR-NOPURCHASE-1, FR-CLIENTS-1, FR-MINORS-1 at entry, DE-DOI-1): the
catalogue applies them as product policy everywhere, and the eligibility checks must hold for
any contest the engine runs, so they are registered here rather than in their country's pack.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from rules.ages import age_on, digital_consent_age, minimum_age_for
from rules.changes import detriments, extensions
from rules.facts import AUDIENCES, ContestFacts, PersonFacts
from rules.model import Breach, Localized, breach, refuse, warn
from rules.registry import ALL, EU, EU_MEMBER_STATES, PACK_ORDER, Pack
from rules.texts import PROSPECT_SENTENCE_EN, PROSPECT_SENTENCE_FR

PACK = Pack(ALL)

FLORIDA = "https://instalawyer.io/laws/florida-statutes/849094-game-promotion-in"


def _florida(subsection: str = "") -> str:
    return f"Fla. Stat. 849.094{subsection} — {FLORIDA}"


SEED_001 = (
    "Seed 001; US practice (Marden-Kane) — "
    "https://www.mardenkane.com/articles/5837/no-purchase-necessary-for-running-a-sweepstakes/"
)
CSI_L320_1 = (
    "CSI L320-1; C. conso. L121-20 — https://www.legifrance.gouv.fr/affichCode.do?"
    "idSectionTA=LEGISCTA000039169684&cidTexte=LEGITEXT000025503132&dateTexte=20200109"
)
PRODUCT_POLICY = "Product policy (no catalogue entry)"
SHORT_VOUCHER_DAYS = 90


# --- Contest legality ---------------------------------------------------------------------


@PACK.config(
    "ALL-JURISDICTION-1",
    jurisdiction="ALL",
    title="A contest declares where it runs",
    message_fr="Indiquez au moins un pays où le jeu est organisé (par exemple FR) : "
    "les règles applicables en dépendent.",
    message_en="Declare at least one country where the contest runs (for example FR): "
    "the rules that apply depend on it.",
    source=f"{PRODUCT_POLICY}: rule packs are chosen from the declared jurisdictions",
    variants=(
        warn(
            "no_pack",
            "Aucune règle propre à {code} n'est connue : faites vérifier le droit local.",
            "No rules are known for {code}: have local law checked.",
        ),
    ),
)
def declared_jurisdiction(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a contest that declares no jurisdiction, and warns for a jurisdiction that has
    no pack of its own (only the ALL pack, plus EU for a member state, will cover it).

    Differs from the catalogue: product policy, not a catalogue rule. The FR, EU and US packs
    are chosen from the declared jurisdictions, so without one only the ALL pack would apply.
    """
    if not contest.jurisdictions:
        yield breach("jurisdictions")
    for code in sorted(contest.jurisdictions - set(PACK_ORDER) - EU_MEMBER_STATES):
        yield breach("jurisdictions", "no_pack", code=code)


@PACK.config(
    "FR-NOPURCHASE-1",
    jurisdiction="FR",
    title="No purchase, payment or financial advance to enter",
    message_fr="Un jeu ouvert aux prospects ne peut exiger aucun achat ni paiement.",
    message_en="A contest open to prospects cannot require any purchase or payment.",
    source=CSI_L320_1,
    variants=(
        refuse(
            "client_purchase",
            "Aucun jeu ne peut exiger d'achat pour participer, même réservé aux clients : "
            "l'éligibilité vient des commandes passées avant la date limite.",
            "No contest may require a purchase to enter, even a client-only one: eligibility "
            "comes from orders placed before the cutoff.",
        ),
        refuse(
            "paid_channel",
            "Le canal de participation « {channel} » est payant : un jeu ne peut exiger "
            "aucun paiement.",
            'The entry channel "{channel}" costs money: a contest cannot require any payment.',
        ),
    ),
)
def no_purchase(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a purchase condition and any paid entry channel (premium-rate SMS or call).

    CSI L320-1 bans public games of chance with a financial sacrifice, even a refundable
    advance; the product sidesteps the doubt about "fair" purchase-linked lotteries under
    C. conso. L121-20 by never allowing one.

    Differs from the catalogue: registered in the ALL pack (the catalogue applies it as
    product policy to every contest, and it is also US lottery law). A purchase condition is
    refused on client-only contests too, under the "client_purchase" variant, since the
    catalogue's configuration has no "purchase required" option at all.
    """
    if contest.requires_purchase:
        yield breach("requires_purchase", "client_purchase" if contest.client_only else "")
    for channel in contest.paid_channels:
        yield breach("entry_channels", "paid_channel", channel=channel)


@PACK.config(
    "ALL-NOPURCHASE-2",
    jurisdiction="ALL",
    title="Purchases never add chances",
    message_fr="Les chances supplémentaires ne peuvent pas dépendre d'un achat.",
    message_en="Extra chances cannot depend on a purchase.",
    source=_florida("(2)(e)") + "; CSI L320-1",
)
def no_purchase_bonus(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses bonus chances tied to a purchase, an order, an amount or a subscription, on
    every audience including client-only contests: a paid path to better odds brings back
    consideration (US) and the financial sacrifice (FR)."""
    if contest.purchase_bonus:
        yield breach("purchase_bonus")


# --- Dates ---------------------------------------------------------------------------------


@PACK.config(
    "ALL-DATES-1",
    jurisdiction="ALL",
    title="Dates follow each other",
    message_fr="La date d'ouverture ({opens_at}) doit précéder la date de clôture ({closes_at}).",
    message_en="The opening date ({opens_at}) must come before the closing date ({closes_at}).",
    source=f"{PRODUCT_POLICY}; see FR-RULES-1 and US-RULES-1",
    variants=(
        refuse(
            "draw_before_close",
            "Le tirage ({draw_at}) ne peut pas avoir lieu avant la clôture ({closes_at}).",
            "The draw ({draw_at}) cannot take place before the closing ({closes_at}).",
        ),
    ),
)
def dates_in_order(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses an opening at or after the closing, and a draw before the closing
    (opens_at < closes_at <= draw_at).

    Differs from the catalogue: product policy. Missing dates are reported by FR-RULES-1 and
    US-RULES-1; this rule only orders the dates that are set.
    """
    opens, closes, draw = contest.opens_at, contest.closes_at, contest.draw_at
    if opens is not None and closes is not None and opens >= closes:
        yield breach("closes_at", opens_at=opens, closes_at=closes)
    if closes is not None and draw is not None and draw < closes:
        yield breach("draw_at", "draw_before_close", draw_at=draw, closes_at=closes)


@PACK.entry(
    "ALL-DATES-1",
    recheck_at_draw=False,
    jurisdiction="ALL",
    title="Entries only while the contest is open",
    message_fr="Ce jeu ouvre le {opens_at}.",
    message_en="This contest opens on {opens_at}.",
    source=f"{PRODUCT_POLICY}; see FR-RULES-1 and US-RULES-1",
    variants=(
        refuse(
            "closed",
            "Ce jeu est clos depuis le {closes_at}.",
            "This contest closed on {closes_at}.",
        ),
        refuse(
            "unscheduled",
            "Ce jeu n'a pas encore de date d'ouverture.",
            "This contest has no opening date yet.",
        ),
    ),
)
def entry_window(contest: ContestFacts, person: PersonFacts, now: datetime) -> Iterator[Breach]:
    """Refuses an entry before ``opens_at`` or at or after ``closes_at``: the rules state the
    start and end, and entries outside them would not be treated equally.

    Differs from the catalogue: product policy; not re-checked at draw time (the draw comes
    after the closing by definition).
    """
    if contest.opens_at is None:
        yield breach(None, "unscheduled")
    elif now < contest.opens_at:
        yield breach(None, opens_at=contest.opens_at)
    elif contest.closes_at is not None and now >= contest.closes_at:
        yield breach(None, "closed", closes_at=contest.closes_at)


# --- Client-only contests ------------------------------------------------------------------


@PACK.config(
    "FR-CLIENTS-1",
    jurisdiction="FR",
    title="Client-only contests: clients from before the offer",
    message_fr="Un jeu réservé aux clients exige une date limite d'éligibilité fixée au plus "
    "tard à sa première diffusion.",
    message_en="A client-only contest needs an eligibility cutoff no later than its first "
    "publication.",
    source=SEED_001,
    variants=(
        refuse(
            "cutoff_after_offer",
            "La date limite d'éligibilité ({cutoff}) ne peut pas être postérieure à la "
            "première diffusion du jeu ({offered_at}).",
            "The eligibility cutoff ({cutoff}) cannot be later than the contest's first "
            "publication ({offered_at}).",
        ),
        refuse(
            "no_segment_rule",
            "Précisez le segment de clients : un segment ou un nombre minimal de commandes.",
            "Define the client segment: a segment or a minimum number of orders.",
        ),
        refuse(
            "unknown_audience",
            "Public « {audience} » inconnu : choisissez tout le monde, les clients ou un "
            "segment de clients.",
            'Unknown audience "{audience}": choose everyone, clients or a client segment.',
        ),
    ),
)
def client_cutoff(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a client-only contest without a cutoff, or with a cutoff after the offer, and
    a segment contest without a segment rule. A purchase made before the offer was not made
    to enter, so there is no financial sacrifice and no purchase inducement; anyone who
    became a client later might have bought to enter.

    A contest not yet offered (``offered_at`` unset) will be offered when published, so its
    cutoff must not be later than ``now``.

    Differs from the catalogue: registered in the ALL pack (US practice says the same, and
    the entry check needs the cutoff whatever the jurisdiction). The client data source and
    the snapshot hash are the engine's; the ban on moving the cutoff once offered is enforced
    by ALL-RULES-LOCK-1 (variant "cutoff_moved").
    """
    if contest.audience not in AUDIENCES:
        yield breach("audience", "unknown_audience", audience=contest.audience)
    if not contest.client_only:
        return
    offer = contest.offered_at or now
    if contest.client_cutoff_at is None:
        yield breach("client_cutoff_at")
    elif contest.client_cutoff_at > offer:
        yield breach(
            "client_cutoff_at",
            "cutoff_after_offer",
            cutoff=contest.client_cutoff_at,
            offered_at=offer,
        )
    if contest.audience == "segment" and not contest.segment and contest.segment_min_orders <= 0:
        yield breach("segment", "no_segment_rule")


@PACK.entry(
    "FR-CLIENTS-1",
    jurisdiction="FR",
    title="Client-only contests: clients from before the offer",
    message_fr="Ce jeu est réservé aux personnes déjà clientes avant le {cutoff}.",
    message_en="This contest is reserved to people who were already clients before {cutoff}.",
    source=SEED_001,
    variants=(
        refuse(
            "prospect",
            "Ce jeu est réservé aux personnes déjà clientes avant le {cutoff}. "
            + PROSPECT_SENTENCE_FR,
            "This contest is reserved to people who were already clients before {cutoff}. "
            + PROSPECT_SENTENCE_EN,
        ),
        refuse(
            "segment",
            "Ce jeu est réservé à un groupe de clients dont vous ne faites pas partie.",
            "This contest is reserved to a group of clients you are not part of.",
        ),
        refuse(
            "no_cutoff",
            "Ce jeu réservé aux clients n'a pas de date limite d'éligibilité : il ne peut "
            "accepter aucune participation.",
            "This client-only contest has no eligibility cutoff: it cannot take any entry.",
        ),
    ),
)
def client_before_cutoff(
    contest: ContestFacts, person: PersonFacts, now: datetime
) -> Iterator[Breach]:
    """Refuses, on a client-only contest, anyone who was not a client strictly before the
    cutoff (``client_cutoff_at``, else ``offered_at``); a prospect also reads the fixed
    FR-CLIENTS-2 sentence, never a call to buy. On a segment contest the client must also
    have ``segment_min_orders`` orders or belong to ``segment`` (either suffices).

    The engine passes ``orders_count`` and ``segments`` as they stood at the cutoff.

    Differs from the catalogue: registered in the ALL pack, like the configuration check.
    Any audience other than "everyone" is treated as client-only (fail closed).
    """
    if not contest.client_only:
        return
    cutoff = contest.eligibility_cutoff
    if cutoff is None:
        yield breach(None, "no_cutoff")
    elif person.client_since is None:
        yield breach(None, "prospect", cutoff=cutoff)
    elif person.client_since >= cutoff:
        yield breach(None, cutoff=cutoff)
    elif contest.audience == "segment" and not _in_segment(contest, person):
        yield breach(None, "segment")


def _in_segment(contest: ContestFacts, person: PersonFacts) -> bool:
    by_orders = contest.segment_min_orders > 0 and person.orders_count >= contest.segment_min_orders
    by_membership = contest.segment is not None and contest.segment in person.segments
    has_criterion = contest.segment_min_orders > 0 or contest.segment is not None
    return by_orders or by_membership or not has_criterion


@PACK.config(
    "FR-CLIENTS-2",
    jurisdiction="FR",
    title="What prospects may be told about client-only contests",
    message_fr="Un jeu réservé aux clients ne peut pas être promu auprès des prospects : "
    "désactivez {feature}.",
    message_en="A client-only contest cannot be promoted to prospects: turn off {feature}.",
    source=SEED_001,
)
def client_only_not_promoted(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses referral bonuses, platform invitations and partner or source links on a
    client-only contest: each would advertise the contest to prospects, who may only be told
    the fixed sentence (PROSPECT_SENTENCE_FR / PROSPECT_SENTENCE_EN).

    Differs from the catalogue: registered in the ALL pack (ALL-REFER-BONUS-1 repeats it as
    product policy). Prospect sends linking to the contest are the mail module's to block.
    """
    if not contest.client_only:
        return
    if contest.referral_bonus > 0:
        yield breach(
            "referral_bonus", feature=Localized("le bonus de parrainage", "the referral bonus")
        )
    if contest.platform_invitations:
        yield breach(
            "platform_invitations",
            feature=Localized(
                "les invitations envoyées par la plateforme", "platform-sent invitations"
            ),
        )
    if contest.partner_links:
        yield breach(
            "partner_links",
            feature=Localized("les liens partenaires et de source", "partner and source links"),
        )


# --- Eligibility at entry --------------------------------------------------------------------


@PACK.entry(
    "FR-MINORS-1",
    jurisdiction="FR",
    title="Minimum age",
    message_fr="Ce jeu est réservé aux personnes âgées d'au moins {age} ans.",
    message_en="This contest is open to people aged {age} or over.",
    source="GDPR Art. 8; Loi Informatique et Libertés art. 45 — "
    "https://fliphtml5.com/laus/rexq/OSP_Cyber_Academy/111",
    variants=(
        refuse(
            "unknown_age",
            "Indiquez votre date de naissance ou confirmez avoir au moins {age} ans.",
            "Give your date of birth or confirm that you are {age} or over.",
        ),
        refuse(
            "consent_age",
            "Avant {consent} ans, on ne peut pas accepter seul de recevoir des offres : "
            "décochez ces cases pour participer.",
            "Under {consent}, you cannot agree to receive offers on your own: untick those "
            "boxes to take part.",
        ),
    ),
)
def old_enough(contest: ContestFacts, person: PersonFacts, now: datetime) -> Iterator[Breach]:
    """Refuses anyone younger than ``min_age`` on the day of the check (UTC date of ``now``),
    and anyone who gave neither a date of birth nor the "I am N or over" attestation; in the
    EU, refuses a marketing or partners box ticked by someone under the territory's digital
    age of consent (GDPR Art. 8), who may still enter without it.

    Differs from the catalogue: the entry check is registered in the ALL pack so that the
    organizer's minimum age holds everywhere; the configuration check (FR-MINORS-1, EU pack)
    requires the minimum age.
    """
    if contest.min_age is None:
        return
    if person.birth_date is not None:
        age = age_on(person.birth_date, now.date())
        consent_age = digital_consent_age(contest)
        if age < contest.min_age:
            yield breach("birth_date", age=contest.min_age)
        elif person.marketing_consent and consent_age is not None and age < consent_age:
            yield breach("consents", "consent_age", consent=consent_age)
    elif not person.age_attested:
        yield breach(
            "birth_date", "unknown_age", age=minimum_age_for(contest, person.country, person.region)
        )


@PACK.entry(
    "ALL-ELIGIBILITY-1",
    jurisdiction="ALL",
    title="Exclusions and entry limits, applied consistently",
    message_fr="Le personnel de l'organisateur et les personnes associées à l'organisation du "
    "jeu ne peuvent pas y participer.",
    message_en="The organizer's staff and people involved in running the contest cannot take part.",
    source=_florida("(2)(b)"),
    variants=(
        refuse(
            "excluded_domain",
            "Les adresses du domaine {domain} sont exclues de ce jeu.",
            "Addresses at {domain} are excluded from this contest.",
        ),
        refuse(
            "territory",
            "Ce jeu n'est pas ouvert aux résidents de ce pays ({country}).",
            "This contest is not open to residents of this country ({country}).",
        ),
        refuse(
            "duplicate",
            "Vous participez déjà à ce jeu : une participation par personne.",
            "You have already entered this contest: one entry per person.",
        ),
    ),
)
def not_excluded(contest: ContestFacts, person: PersonFacts, now: datetime) -> Iterator[Breach]:
    """Refuses staff, excluded e-mail domains, residents of a country the contest does not
    declare, and a second entry by the same (normalised) e-mail: exclusions and limits stated
    in the rules must apply to everyone, and none may be arbitrary.

    A person who did not give a country is not refused here (the form may not ask for one).
    At draw time, ``already_entered`` is ignored: the pool's own deduplication applies.
    """
    if person.is_staff:
        yield breach(None)
    if person.email_domain in contest.excluded_email_domains:
        yield breach("email", "excluded_domain", domain=person.email_domain)
    if person.country is not None and not _country_allowed(contest, person.country):
        yield breach("country", "territory", country=person.country)
    if person.already_entered:
        yield breach("email", "duplicate")


def _country_allowed(contest: ContestFacts, country: str) -> bool:
    if country in contest.jurisdictions:
        return True
    return EU in contest.jurisdictions and country in EU_MEMBER_STATES


# --- Prizes ----------------------------------------------------------------------------------


@PACK.config(
    "ALL-PRIZE-DESC-1",
    jurisdiction="ALL",
    title="Prize and voucher description and conditions",
    message_fr="Lot {rank} : indiquez {what}.",
    message_en="Prize {rank}: state {what}.",
    source="UCPD Annex I no. 20 and 31 (EC guidance) — https://webgate.ec.europa.eu/ucp/public/"
    "index.cfm?event=public.guidance.browse&article=article-41&elemID=73",
    variants=(
        refuse(
            "voucher_validity",
            "Bon d'achat du lot {rank} : indiquez sa durée de validité.",
            "Voucher prize {rank}: state how long it is valid.",
        ),
        warn(
            "short_validity",
            "Bon d'achat du lot {rank} : une validité de {days} jours est courte ; prévoyez "
            "au moins " + str(SHORT_VOUCHER_DAYS) + " jours.",
            "Voucher prize {rank}: {days} days of validity is short; allow at least "
            + str(SHORT_VOUCHER_DAYS)
            + " days.",
        ),
        warn(
            "min_order",
            "Bon d'achat du lot {rank} : un minimum de commande de {amount} {currency} oblige "
            "le gagnant à dépenser ; préférez un bon utilisable sans minimum.",
            "Voucher prize {rank}: a minimum order of {amount} {currency} makes the winner "
            "spend money; prefer a voucher usable with no minimum.",
        ),
    ),
)
def prizes_described(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a prize without nature, quantity or unit value, and a voucher without a
    validity period: people must not be confused about what they can win. Warns about a
    voucher with a minimum order (the winner would have to pay to benefit from the prize)
    or valid for less than 90 days.

    Differs from the catalogue: the 90-day "short validity" threshold is ours. Shop, shipping
    and "not exchangeable for cash" wording is generated by the rules page, not checked here.
    """
    for index, prize in enumerate(contest.prizes):
        where = f"prizes[{index}]"
        if not prize.description.strip():
            yield breach(
                f"{where}.description", rank=prize.rank, what=Localized("sa nature", "what it is")
            )
        if prize.quantity < 1:
            yield breach(
                f"{where}.quantity",
                rank=prize.rank,
                what=Localized("sa quantité (au moins 1)", "its quantity (at least 1)"),
            )
        if prize.unit_value is None or prize.unit_value <= 0:
            yield breach(
                f"{where}.unit_value",
                rank=prize.rank,
                what=Localized("sa valeur commerciale unitaire", "its unit retail value"),
            )
        if not prize.is_voucher:
            continue
        days = prize.voucher_validity_days
        if days is None or days <= 0:
            yield breach(f"{where}.voucher_validity_days", "voucher_validity", rank=prize.rank)
        elif days < SHORT_VOUCHER_DAYS:
            yield breach(
                f"{where}.voucher_validity_days", "short_validity", rank=prize.rank, days=days
            )
        if prize.voucher_min_order is not None and prize.voucher_min_order > 0:
            yield breach(
                f"{where}.voucher_min_order",
                "min_order",
                rank=prize.rank,
                amount=prize.voucher_min_order,
                currency=prize.currency,
            )


@PACK.config(
    "ALL-DRAW-ORDER-1",
    jurisdiction="ALL",
    title="Prize order stated in the rules",
    message_fr="Numérotez les lots 1, 2, 3… sans doublon ni trou : le premier tiré reçoit "
    "le lot 1.",
    message_en="Number the prizes 1, 2, 3… with no duplicate or gap: the first drawn wins prize 1.",
    source="Product practice (Gleam) — https://gleam.io/docs/competitions/drawing-winners",
)
def prize_order(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses prize ranks that are not exactly 1..n: the rules state that the first drawn
    gets prize 1 and so on, which needs one prize line per rank.

    Differs from the catalogue: only the configuration part is a rule here; alternates,
    redraws and draw-once are the draw module's.
    """
    ranks = sorted(prize.rank for prize in contest.prizes)
    if ranks != list(range(1, len(ranks) + 1)):
        yield breach("prizes")


# --- Referral --------------------------------------------------------------------------------


@PACK.config(
    "ALL-REFER-BONUS-1",
    jurisdiction="ALL",
    title="Referral bonus mechanics",
    message_fr="Un bonus de parrainage exige un plafond positif par participant, annoncé dans "
    "le règlement.",
    message_en="A referral bonus needs a positive cap per participant, stated in the rules.",
    source="Thompson Coburn, refer-a-friend pitfalls — https://www.thompsoncoburn.com/insights/"
    "blogs/sweepstakes-law/post/2012-07-13/5-pitfalls-of-refer-a-friend-sweepstakes-options-",
    variants=(
        refuse(
            "negative",
            "Le bonus de parrainage est un nombre entier de chances, positif ou nul.",
            "The referral bonus is a whole number of chances, zero or more.",
        ),
    ),
)
def referral_bonus_capped(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a referral bonus without a positive cap, and a negative bonus: uncapped bonus
    chances drown the base entry and reward farming.

    Crediting only confirmed, distinct, eligible referrals is the viral module's job.
    """
    if contest.referral_bonus < 0:
        yield breach("referral_bonus", "negative")
    elif contest.referral_bonus > 0 and (contest.referral_cap is None or contest.referral_cap <= 0):
        yield breach("referral_cap")


# --- Double opt-in and the draw ---------------------------------------------------------------


DOI_SOURCE = (
    "BGH I ZR 164/09 — https://betriebs-berater.ruw.de/wirtschaftsrecht/urteile/"
    "Zulaessigkeit-von-Werbeanrufen---Double-opt-in-Verfahren-18828"
)


@PACK.config(
    "DE-DOI-1",
    jurisdiction="DE",
    title="Double opt-in",
    message_fr="La double confirmation par e-mail (double opt-in) ne peut pas être désactivée.",
    message_en="E-mail double opt-in cannot be turned off.",
    source=DOI_SOURCE,
)
def double_opt_in_on(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses turning double opt-in off: a confirmed click is the proof of consent German
    courts expect, and the product uses it everywhere.

    Differs from the catalogue: a German rule applied in the ALL pack (the catalogue makes it
    the product default everywhere).
    """
    if not contest.double_opt_in:
        yield breach("double_opt_in")


@PACK.draw(
    "DE-DOI-1",
    jurisdiction="DE",
    title="Only confirmed entries are drawn",
    message_fr="Participation non confirmée : seules les participations confirmées par e-mail "
    "comptent pour le tirage.",
    message_en="Unconfirmed entry: only entries confirmed by e-mail count for the draw.",
    source=DOI_SOURCE,
)
def confirmed_entry(contest: ContestFacts, person: PersonFacts, now: datetime) -> Iterator[Breach]:
    """Refuses an unconfirmed entry at draw time: the rules say only confirmed entries count,
    and an unconfirmed address may not belong to the person who typed it."""
    if not person.confirmed:
        yield breach(None)


@PACK.draw(
    "ALL-DRAW-POOL-1",
    jurisdiction="ALL",
    title="Draw only after the closing",
    message_fr="Le tirage ne peut avoir lieu qu'après la clôture du jeu, le {closes_at}.",
    message_en="The draw can only take place after the contest closes, on {closes_at}.",
    source=_florida("(2)(a)-(b)"),
    variants=(
        refuse(
            "before_draw_at",
            "Le tirage est annoncé pour le {draw_at} : il ne peut pas avoir lieu avant.",
            "The draw is announced for {draw_at}: it cannot take place earlier.",
        ),
        refuse(
            "unscheduled",
            "Ce jeu n'a pas de date de clôture : il ne peut pas être tiré au sort.",
            "This contest has no closing date: it cannot be drawn.",
        ),
    ),
)
def drawn_after_close(
    contest: ContestFacts, person: PersonFacts, now: datetime
) -> Iterator[Breach]:
    """Refuses drawing before the closing or before the announced draw date: an entry could
    still arrive, and the rules said when the draw happens.

    Differs from the catalogue: the pool's hash, counts and exclusion reasons are recorded by
    the draw module; this rule only checks the moment, once per pool entry.
    """
    if contest.closes_at is None:
        yield breach(None, "unscheduled")
    elif now < contest.closes_at:
        yield breach(None, closes_at=contest.closes_at)
    elif contest.draw_at is not None and now < contest.draw_at:
        yield breach(None, "before_draw_at", draw_at=contest.draw_at)


# --- Changes after opening ----------------------------------------------------------------------


@PACK.change(
    "ALL-RULES-LOCK-1",
    jurisdiction="ALL",
    title="Rules frozen once the contest opens",
    message_fr="Le règlement d'un jeu ouvert ne peut pas être modifié au détriment des "
    "participants : {change}.",
    message_en="The rules of an open contest cannot be changed to participants' detriment: "
    "{change}.",
    source="Fla. Stat. 849.094(3) — https://flsenate.gov/Session/Bill/2005/335/BillText/c1/HTML",
    variants=(
        warn(
            "extended",
            "Modification d'un jeu ouvert ({change}) : informez les participants et publiez "
            "une nouvelle version du règlement.",
            "Change to an open contest ({change}): tell the entrants and publish a new version "
            "of the rules.",
        ),
        refuse(
            "cutoff_moved",
            "La date limite d'éligibilité des clients ne peut plus changer une fois le jeu "
            "diffusé.",
            "The client eligibility cutoff cannot change once the contest has been offered.",
        ),
    ),
)
def rules_locked(before: ContestFacts, after: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Once ``opens_at`` has passed, refuses any change that reduces prizes (removed, fewer,
    cheaper, different, shorter-lived or with a higher minimum order), lowers referral chances,
    postpones the opening or brings the closing forward, shortens the claim deadline, narrows
    eligibility, removes an entry channel or changes the draw method. Florida forbids changing
    filed rules; everywhere, changing the terms after people entered is unfair. Postponing the
    closing or the draw is only warned about: it needs a notice to entrants.

    Differs from the catalogue: extending the dates (UNCERTAIN there) is allowed with a
    warning. The rules version, mandatory reason and audit record are the engine's. This rule
    also enforces FR-CLIENTS-1's ban on moving the eligibility cutoff once the contest has
    been offered (``offered_at`` passed), under the "cutoff_moved" variant.
    """
    offered = before.offered_at is not None and before.offered_at <= now
    client_only = before.client_only or after.client_only
    if offered and client_only and before.eligibility_cutoff != after.eligibility_cutoff:
        yield breach("client_cutoff_at", "cutoff_moved")
    if before.opens_at is None or now < before.opens_at:
        return
    for change in detriments(before, after):
        yield breach(change.field, change=change.what)
    for change in extensions(before, after):
        yield breach(change.field, "extended", change=change.what)
