"""The EU pack: applies when the contest runs in an EU member state (FR, DE, ...) or "EU".

It also holds FR-RULES-1 and the configuration part of FR-MINORS-1: the catalogue gives
them as FR/EU rules (German law has the same rules list, GDPR Art. 8 sets the consent age).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import datetime

from rules.ages import digital_consent_age
from rules.facts import CONSENT_PURPOSES, PARTNERS, ContestFacts
from rules.model import Breach, Localized, Severity, breach, refuse, warn
from rules.official import FR_RULES_FIELDS, is_missing, missing_fields
from rules.registry import EU, Pack

PACK = Pack(EU)

ADULT_AGE = 18
SUGGESTED_RETENTION_MONTHS = 12
MAX_EXTRA_FIELDS = 4
ELIGIBILITY_FIELDS = frozenset(
    {"email", "birth_date", "age_attestation", "country", "region", "rules_acceptance"}
)
SPECIAL_CATEGORY_FIELDS = frozenset(
    {
        "health",
        "religion",
        "religious_beliefs",
        "philosophical_beliefs",
        "political_opinion",
        "political_opinions",
        "ethnic_origin",
        "racial_origin",
        "sexual_orientation",
        "sex_life",
        "trade_union",
        "trade_union_membership",
        "biometric",
        "genetic",
    }
)
# The special categories of GDPR Art. 9 (and what reveals them), as the words of a question
# name them in French or English: regular expressions matched at a word's start, on the text in
# lower case without accents. Words with an everyday second sense are left out ("enceinte", a
# speaker; "cancer", a star sign; "l'ADN de la marque") or narrowed ("politique de retour").
SENSITIVE_TOPICS = tuple(
    (Localized(fr, en), re.compile(r"\b(?:" + "|".join(words) + ")"))
    for fr, en, words in (
        ("santé", "health", (
            r"sante\b", r"health\b", "maladi", "malade", "illness", "disease", "medic",
            "handicap", "disabilit", "grossesse", "pregnan", "allergi", "allergy", "diabet",
            "depression", "therap",
        )),
        ("religion ou convictions", "religion or beliefs", (
            "religi", "croyance", "belief", r"faith\b", "eglise", "church", "mosque",
            "synagog", "atheis", "athee", "convictions philosophiques",
        )),
        ("opinions politiques", "political opinions", (
            r"politiques?\b(?! d)", "political", "politics", "politici", "partisan",
            "vote for", "voted for", "pour qui vot",
        )),
        ("orientation ou vie sexuelle", "sexual orientation or sex life", (
            "sexu", "homosex", "heterosex", "bisex", r"gays?\b", "lesbi", "lgbt",
        )),
        ("origine ethnique", "ethnic origin", ("ethni", "racia")),
        ("appartenance syndicale", "trade union membership", (
            "syndica", "syndique", "trade union", "labou?r union",
        )),
        ("données génétiques ou biométriques", "genetic or biometric data", (
            "genetic", "genetiq", "biometri", "empreinte digitale", "fingerprint",
        )),
    )
)  # fmt: skip
INVERTED_WORDING = (
    "décoch",
    "decoch",
    "uncheck",
    "untick",
    "un-tick",
    "si vous ne souhaitez pas",
    "si vous ne voulez pas",
    "ne pas recevoir",
    "if you do not want",
    "if you don't want",
    "if you do not wish",
    "if you don't wish",
    "not to receive",
)
ALREADY_WON = re.compile(
    r"\b(?:(?:vous avez|tu as) (?:bien )?(?:gagn[ée]|remport[ée])"
    r"|(?:vous [êe]tes|tu es) (?:le |la |l'|un |une )?(?:heureux |heureuse |grand |grande )?"
    r"gagnante?"
    r"|you(?:'ve| have)? (?:just )?won\b(?!'t)|you(?:'re| are) (?:the|a|our) (?:lucky )?winner)",
    re.IGNORECASE,
)
LANGUAGE_NAMES = {"fr": Localized("français", "French"), "en": Localized("anglais", "English")}


def _plain(text: str) -> str:
    return text.replace("’", "'").lower()


# --- Official rules and minors ------------------------------------------------------------


@PACK.config(
    "FR-RULES-1",
    jurisdiction="FR",
    title="Clear, free, always-available rules before entry",
    message_fr="Le règlement est incomplet : il manque {field}.",
    message_en="The rules are incomplete: {field} is missing.",
    source="C. conso. L121-1, L121-20 (fairness) — "
    "https://legalplanet.pro/depot-facultatif-du-reglement-de-jeu-chez-un-huissier",
)
def rules_complete(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses publishing while the official rules lack the organizer's name or address,
    the opening or closing date, the prizes, how and when winners are drawn, how they are
    notified, the claim deadline or the personal-data notice: fairness requires clear
    information before entry. One finding per missing field, naming it.

    Differs from the catalogue: the French message reads "il manque {field}" instead of
    "{champ} manquant" so that it agrees with every field name. Each prize's value is checked
    by ALL-PRIZE-DESC-1; eligibility by FR-MINORS-1 and FR-CLIENTS-1; the controller contact
    by EU-INFO-1. Registered in the EU pack, so German contests get it too (§6 TMG has a
    similar list).
    """
    for name, label in missing_fields(contest, FR_RULES_FIELDS):
        yield breach(name, field=label)


@PACK.config(
    "FR-MINORS-1",
    jurisdiction="FR",
    title="Minimum age",
    message_fr="Indiquez l'âge minimum de participation (18 ans par défaut).",
    message_en="Set the minimum age to enter (18 by default).",
    source="GDPR Art. 8; Loi Informatique et Libertés art. 45 — "
    "https://fliphtml5.com/laus/rexq/OSP_Cyber_Academy/111",
    variants=(
        warn(
            "parental",
            "Âge minimum de {age} ans : le règlement doit prévoir une autorisation parentale, "
            "vérifiée avant la remise du lot.",
            "Minimum age {age}: the rules must require parental authorisation, checked "
            "before the prize is handed over.",
        ),
        warn(
            "digital_consent",
            "Âge minimum de {age} ans avec des cases marketing : une personne de moins de "
            "{consent} ans qui les coche ne pourra pas participer sans les décocher.",
            "Minimum age {age} with marketing boxes: a person under {consent} who ticks them "
            "cannot enter without unticking them.",
        ),
        refuse(
            "digital_consent_unknown",
            "Âge minimum de {age} ans avec des cases marketing, sans date de naissance : avant "
            "{consent} ans on ne consent pas seul. Relevez l'âge minimum à {consent} ans, "
            "demandez la date de naissance ou retirez ces cases.",
            "Minimum age {age} with marketing boxes and no date of birth asked: under {consent} "
            "nobody consents alone. Raise the minimum age to {consent}, ask the date of birth, "
            "or remove those boxes.",
        ),
    ),
)
def minimum_age_set(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a contest without a minimum age. Warns below 18 (French practice: minors need
    parental authorisation, verified before the prize is handed over). Below the digital age
    of consent of its territories (GDPR Art. 8: FR 15, BE 13, DE and by default 16) with
    marketing boxes offered: refuses when the form does not ask the date of birth (nobody can
    tell who may tick them), warns when it does (the entry refuses a box ticked too young).

    Differs from the catalogue: the parental clause and the winner-proof step are warnings,
    since the facts cannot show whether they are in place.
    """
    if contest.min_age is None:
        yield breach("min_age")
        return
    if contest.min_age < ADULT_AGE:
        yield breach("min_age", "parental", age=contest.min_age)
    consent_age = digital_consent_age(contest) or 0
    if contest.min_age < consent_age and contest.consent_fields:
        variant = (
            "digital_consent"
            if "birth_date" in contest.form_fields
            else ("digital_consent_unknown")
        )
        yield breach("min_age", variant, age=contest.min_age, consent=consent_age)


# --- Information and retention ----------------------------------------------------------------


@PACK.config(
    "EU-INFO-1",
    jurisdiction="EU",
    title="Information at the point of collection (GDPR Art. 13)",
    message_fr="Information sur les données incomplète : indiquez {item}.",
    message_en="Data-protection information incomplete: give {item}.",
    source="GDPR Art. 13 — https://gdprhub.eu/index.php?title=Article_13_GDPR&oldid=20196",
)
def collection_notice(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses publishing until the controller's contact and the retention period are set:
    GDPR Art. 13 requires both when the data are collected.

    Differs from the catalogue: the controller's identity is FR-RULES-1's organizer name, the
    notice text FR-RULES-1's privacy notice, and the recipients are the partners named in the
    partner consent (EU-CONSENT-SPECIFIC-1); they are not reported twice.
    """
    if is_missing(contest.organizer_contact):
        yield breach(
            "organizer_contact",
            item=Localized(
                "le contact du responsable de traitement", "the data controller's contact"
            ),
        )
    if is_missing(contest.retention_months):
        yield breach(
            "retention_months",
            item=Localized("la durée de conservation des données", "how long data are kept"),
        )


@PACK.config(
    "EU-RETENTION-1",
    jurisdiction="EU",
    title="Retention limits",
    severity=Severity.WARN,
    message_fr="Conservation de {months} mois : pour les données du seul jeu, nous conseillons "
    "12 mois au plus après le jeu.",
    message_en="Retention of {months} months: for contest-only data we suggest at most "
    "12 months after the contest.",
    source="GDPR Art. 5(1)(e); CNIL délibération 2021-131 — https://www.faceaurisque.com/"
    "base-reglementaire/deliberation-n-2021-131-du-23-septembre-2021-portant-adoption-dun-"
    "referentiel-relatif-aux-traitements-de-donnees-a-caractere-personnel-mis-en-oeuvre-aux-"
    "fins-de-gestion-des-activites-commercial",
)
def retention_limited(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Warns when contest data are kept more than 12 months (storage limitation).

    Differs from the catalogue: the 12-month figure is the catalogue's own proposal
    (UNCERTAIN), so it is a warning. A missing period is refused by EU-INFO-1; the purge job
    and the three-year prospect limit are the engine's.
    """
    months = contest.retention_months
    if months is not None and months > SUGGESTED_RETENTION_MONTHS:
        yield breach("retention_months", months=months)


# --- Consent ----------------------------------------------------------------------------------


@PACK.config(
    "EU-CONSENT-FREE-1",
    jurisdiction="EU",
    title="Entry never depends on marketing consent",
    message_fr="Le consentement marketing doit rester facultatif : la participation ne peut "
    "pas en dépendre.",
    message_en="Marketing consent must stay optional: entry cannot depend on it.",
    source="GDPR Art. 4(11), 7(4); EDPB 05/2020 — "
    "https://gdprhub.eu/index.php?oldid=18101&title=Article_7_GDPR",
    variants=(
        refuse(
            "bonus",
            "Aucune chance supplémentaire ne peut récompenser le consentement marketing.",
            "No extra chance may reward marketing consent.",
        ),
        refuse(
            "bundled_rules",
            "Les cases de consentement doivent être séparées de l'acceptation du règlement.",
            "Consent boxes must be separate from accepting the rules.",
        ),
    ),
)
def consent_optional(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a required consent box, extra chances for opting in, and consent mixed into
    the acceptance of the rules: consent is not free when refusing it costs access or
    chances (GDPR Art. 7(4), EDPB 05/2020).

    Refusing the opt-in bonus is the catalogue's strict reading (UNCERTAIN there; OLG
    Frankfurt allowed coupling).
    """
    for index, consent in enumerate(contest.consent_fields):
        if consent.required:
            yield breach(f"consent_fields[{index}].required")
    if contest.opt_in_bonus:
        yield breach("opt_in_bonus", "bonus")
    if not contest.rules_acceptance_separate:
        yield breach("rules_acceptance_separate", "bundled_rules")


@PACK.config(
    "EU-CONSENT-ACTIVE-1",
    jurisdiction="EU",
    title="No pre-ticked boxes; participating is not consenting",
    message_fr="Les cases de consentement doivent être décochées par défaut.",
    message_en="Consent boxes must start unticked.",
    source="CJEU C-673/17 Planet49 — http://curia.europa.eu/juris/document/document.jsf?"
    "text=&docid=218462&pageIndex=0&doclang=EN&mode=req&dir=&occ=first&part=1&cid=1388757",
    variants=(
        refuse(
            "inverted",
            "Le libellé « {label} » est inversé : cocher doit vouloir dire oui, pas non.",
            'The label "{label}" is inverted: ticking must mean yes, not no.',
        ),
    ),
)
def consent_active(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a pre-ticked consent box and an inverted label ("uncheck if you do not
    want..."): a pre-ticked box or a silence is not an active, specific indication (Planet49).
    """
    for index, consent in enumerate(contest.consent_fields):
        if consent.pre_ticked:
            yield breach(f"consent_fields[{index}].pre_ticked")
        labels = _plain(consent.label_fr) + "\n" + _plain(consent.label_en)
        if any(marker in labels for marker in INVERTED_WORDING):
            yield breach(
                f"consent_fields[{index}]",
                "inverted",
                label=Localized(consent.label_fr, consent.label_en),
            )


@PACK.config(
    "EU-CONSENT-SPECIFIC-1",
    jurisdiction="EU",
    title="One consent per purpose, channel and recipient; partners named",
    message_fr="La case « {label} » regroupe plusieurs finalités : proposez une case par "
    "finalité, canal et destinataire.",
    message_en='The box "{label}" bundles several purposes: offer one box per purpose, channel '
    "and recipient.",
    source="CNIL, transmission de données à des partenaires (2018) — http://cnil.fr/fr/la-"
    "prospection-vers-les-particuliers-b-c-quelles-regles-pour-transmettre-des-donnees-des-"
    "partenaires",
    variants=(
        refuse(
            "unknown",
            "Finalité « {purpose} » non reconnue : une case par finalité (e-mail, SMS ou "
            "partenaires).",
            'Unknown purpose "{purpose}": one box per purpose (e-mail, SMS or partners).',
        ),
        refuse(
            "no_partners",
            "Nommez les partenaires destinataires avant de proposer la transmission à des "
            "partenaires.",
            "Name the partners before offering to pass data to partners.",
        ),
    ),
)
def consent_specific(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a box that bundles purposes (e-mail with SMS, or the organizer with partners,
    including partners attached to an organizer box), an unknown purpose, and a partners box
    that names no partner: consent must be specific, and partners identifiable from the form
    (CNIL; Canal+ was fined for unnamed partners).

    Differs from the catalogue: FR-EMAIL-OPTIN-1's channel-specific opt-ins are enforced here
    (a purpose naming both e-mail and SMS is a bundle). Partner-list versioning and notices
    are the engine's.
    """
    for index, consent in enumerate(contest.consent_fields):
        purposes = consent.purposes
        where = f"consent_fields[{index}]"
        if not purposes or purposes - CONSENT_PURPOSES:
            yield breach(f"{where}.purpose", "unknown", purpose=consent.purpose)
        elif len(purposes) > 1 or (consent.partners and PARTNERS not in purposes):
            yield breach(f"{where}.purpose", label=Localized(consent.label_fr, consent.label_en))
        elif PARTNERS in purposes and not any(name.strip() for name in consent.partners):
            yield breach(f"{where}.partners", "no_partners")


@PACK.config(
    "EU-CONSENT-DESIGN-1",
    jurisdiction="EU",
    title="Complete, legible consent text; no dark patterns",
    message_fr="Une case de consentement n'a pas de libellé en {language} : le texte doit être "
    "complet et lisible.",
    message_en="A consent box has no {language} label: the text must be complete and legible.",
    source="CNIL SAN-2023-025 (TAGADAMEDIA) — "
    "https://www.legifrance.gouv.fr/cnil/id/CNILTEXT000049051422",
)
def consent_legible(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a consent box with no label in one of the contest's languages (both French
    and English when none is declared): a box the person cannot read is not informed.

    Differs from the catalogue: equal prominence of "accept" and "refuse" is a rendering
    property (one component, one style) that the facts cannot express; only the completeness
    of the text is checked here.
    """
    languages = [lang for lang in LANGUAGE_NAMES if _speaks(contest, lang)]
    for index, consent in enumerate(contest.consent_fields):
        for lang in languages:
            if not getattr(consent, f"label_{lang}").strip():
                yield breach(f"consent_fields[{index}].label_{lang}", language=LANGUAGE_NAMES[lang])


def _speaks(contest: ContestFacts, lang: str) -> bool:
    return not contest.languages or any(code.startswith(lang) for code in contest.languages)


@PACK.config(
    "EU-MINIMIZE-1",
    jurisdiction="EU",
    title="Collect only what the contest needs",
    severity=Severity.WARN,
    message_fr="Le champ « {name} » est obligatoire alors que le jeu n'en a pas besoin : "
    "rendez-le facultatif ou demandez-le aux seuls gagnants.",
    message_en='The field "{name}" is mandatory though the contest does not need it: make it '
    "optional or ask winners only.",
    source="GDPR Art. 5(1)(c) — https://projekt29.de/4-goldene-regeln-fuer-gewinnspiele-zur-"
    "adressgewinnung-fuer-werbezwecke",
    variants=(
        warn(
            "too_many",
            "Le formulaire demande {count} champs en plus de l'e-mail : quatre au plus.",
            "The form asks for {count} fields besides the e-mail: four at most.",
        ),
        refuse(
            "special_category",
            "Le champ « {name} » relève des données sensibles : il ne peut pas être demandé.",
            'The field "{name}" is special-category data: it cannot be asked for.',
        ),
        warn(
            "sensitive_question",
            "La question « {question} » semble porter sur des données sensibles ({topic}) : "
            "un jeu n'en a pas besoin, retirez-la ou reformulez-la.",
            'The question "{question}" seems to ask for sensitive data ({topic}): a contest '
            "does not need it, remove or rephrase it.",
        ),
    ),
)
def data_minimised(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses special-category fields (health, religion, ...). Warns for every mandatory
    field beyond the e-mail and the eligibility fields (birth date or age attestation,
    country, state), and when more than four fields are asked besides the e-mail: an entry
    needs no more (GDPR Art. 5(1)(c)); name and address are asked of winners only.

    Qualifying questions: warns for one whose words (the question, its answers, in either
    language) name a special category of GDPR Art. 9 (health, religion, politics, sexual
    orientation, ethnic origin, union membership, genetic or biometric data), and for one
    that must be answered to enter, as for a mandatory field: qualifying a lead is not what
    the contest needs.

    Differs from the catalogue: the four-field limit is product policy (seed 004). A question
    about a special category is a warning, not a refusal: its wording is free text, and words
    can mislead ("a healthy breakfast" is no health data).
    """
    asked = dict.fromkeys([*contest.form_fields, *contest.mandatory_fields])
    for name in asked:
        if name.lower() in SPECIAL_CATEGORY_FIELDS:
            yield breach(name, "special_category", name=name)
    for name in dict.fromkeys(contest.mandatory_fields):
        if name.lower() not in ELIGIBILITY_FIELDS | SPECIAL_CATEGORY_FIELDS:
            yield breach(name, name=name)
    extra = [name for name in dict.fromkeys(contest.form_fields) if name != "email"]
    if len(extra) > MAX_EXTRA_FIELDS:
        yield breach("form_fields", "too_many", count=len(extra))
    for index, question in enumerate(contest.questions):
        topic = _sensitive_topic((question.question, *question.texts))
        if topic is not None:
            yield breach(
                f"questions[{index}]", "sensitive_question", question=question.question, topic=topic
            )
        elif question.required:
            yield breach(f"questions[{index}]", name=question.question)


def _sensitive_topic(texts: tuple[str, ...]) -> Localized | None:
    """The first special category the texts name, if any."""
    decomposed = unicodedata.normalize("NFKD", _plain(" \n ".join(texts)))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return next((topic for topic, words in SENSITIVE_TOPICS if words.search(plain)), None)


# --- Referral and prizes ------------------------------------------------------------------------


@PACK.config(
    "EU-REFER-NOSEND-1",
    jurisdiction="EU",
    title="The platform never e-mails addresses typed by referrers",
    message_fr="L'envoi d'invitations par la plateforme à des adresses saisies par un "
    "participant n'est pas autorisé dans l'UE.",
    message_en="Platform-sent invitations to addresses typed by a participant are not allowed "
    "in the EU.",
    source="BGH I ZR 208/12; CPCE L34-5 — https://gindat.de/en/news/detail/bgh-tell-a-friend-"
    "werbung-im-internet-ist-rechtswidrig-urteil-vom-12092013-i-zr-20812.html",
)
def no_platform_invitations(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses platform-sent invitations on a contest open to EU residents unless the logged
    legal override is on: the BGH holds the site liable for "tell-a-friend" e-mails as its
    own spam, and under CPCE L34-5 the friend never consented. Referral is a share link.
    """
    if contest.platform_invitations and not contest.platform_invitations_override:
        yield breach("platform_invitations")


@PACK.config(
    "EU-PRIZE-AWARD-1",
    jurisdiction="EU",
    title="Prizes announced are awarded; no false 'you have won'",
    message_fr="Un jeu ne peut pas ouvrir sans lots : ajoutez au moins un lot.",
    message_en="A contest cannot open without prizes: add at least one prize.",
    source="UCPD Annex I no. 31; CJEU C-428/11 — https://webgate.ec.europa.eu/ucp/public/"
    "index.cfm?event=public.guidance.showArticle&elemID=51&ret=199",
    variants=(
        refuse(
            "already_won",
            "« {phrase} » laisse croire que la personne a déjà gagné : retirez cette formule.",
            '"{phrase}" suggests the person has already won: remove it.',
        ),
    ),
)
def prizes_awarded(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a contest without any prize, and a title, description or prize description, in
    either language, that says the person has won ("vous avez gagné", "vous avez remporté",
    "vous êtes l'heureux gagnant", "you have won", "you're a winner"): a false impression of
    winning is unfair in all circumstances (UCPD Annex I no. 31).

    Differs from the catalogue: e-mail templates are the mail module's to check; here only
    the contest's own texts are.
    """
    if not contest.prizes:
        yield breach("prizes")
    texts = [
        ("title", contest.title),
        ("description", contest.description),
        ("title_translation", contest.title_translation),
        ("description_translation", contest.description_translation),
    ]
    for index, prize in enumerate(contest.prizes):
        texts.append((f"prizes[{index}].description", prize.description))
        texts.append((f"prizes[{index}].description_translation", prize.description_translation))
    for name, text in texts:
        found = ALREADY_WON.search(text.replace("’", "'"))
        if found:
            yield breach(name, "already_won", phrase=found.group(0))
