"""The FR pack: applies when the contest runs in France (the EU pack applies too).

France's other rules live where they must hold more widely: FR-NOPURCHASE-1, FR-CLIENTS-1,
FR-CLIENTS-2 and the entry part of FR-MINORS-1 in the ALL pack; FR-RULES-1 and the
configuration part of FR-MINORS-1 in the EU pack.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from rules.facts import ContestFacts
from rules.model import Breach, Localized, breach, refuse
from rules.official import is_missing
from rules.registry import Pack

PACK = Pack("FR")


@PACK.config(
    "FR-COSTS-1",
    jurisdiction="FR",
    title="Participation costs",
    message_fr="Le canal « {channel} » est surtaxé : participer en ligne ne doit rien coûter "
    "d'autre que l'accès à internet.",
    message_en='The channel "{channel}" is premium-rate: entering online must cost nothing '
    "beyond internet access.",
    source="CSI L320-1 (avance financière); ex-C. conso. L121-36-1 — "
    "http://www.laloidujeu.fr/lois-et-textes/",
    variants=(
        refuse(
            "reimbursement",
            "Remboursement des frais de participation annoncé : indiquez {what}.",
            "Reimbursement of participation costs offered: state {what}.",
        ),
    ),
)
def no_premium_rate(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses premium-rate or paid entry channels: the CSI still counts a financial
    advance, even a refunded one, as a sacrifice. A reimbursement, when offered, must say
    where to ask, by when and what is paid back (the catalogue's optional clause).

    Differs from the catalogue: FR-NOPURCHASE-1 refuses the same channels on every contest.
    """
    for channel in contest.paid_channels:
        yield breach("entry_channels", channel=channel)
    if not contest.cost_reimbursement:
        return
    terms = (
        ("reimbursement_address", contest.reimbursement_address,
         Localized("où la demander", "where to ask for it")),
        ("reimbursement_days", contest.reimbursement_days,
         Localized("le délai pour la demander", "by when to ask for it")),
        ("reimbursement_basis", contest.reimbursement_basis,
         Localized("ce qui est remboursé, et sur quelle base", "what is paid back, on what basis")),
    )  # fmt: skip
    for field, value, what in terms:
        if is_missing(value):
            yield breach(field, "reimbursement", what=what)


@PACK.config(
    "FR-LANG-1",
    jurisdiction="FR",
    title="French language",
    message_fr="Un jeu destiné à la France doit être proposé en français (loi Toubon) ; "
    "d'autres langues peuvent s'y ajouter.",
    message_en="A contest aimed at France must be offered in French (Loi Toubon); other "
    "languages may sit alongside.",
    source="Loi n° 94-665 (Toubon) art. 2 — "
    "https://www.doctrine.fr/l/texts/lois/JORFTEXT000000349929",
)
def french_offered(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a French contest without a French locale: the offer and its advertising must
    be in French (Loi Toubon art. 2)."""
    if not any(language.startswith("fr") for language in contest.languages):
        yield breach("languages")
