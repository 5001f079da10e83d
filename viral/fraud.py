"""Anti-fraud signals for referrals: explainable reason codes, never a silent removal.

A referral earns its bonus only when no signal holds it back. ``SELF_REFERRAL`` always withholds
the bonus (it is the same person); the other signals send the referral to the organizer's
review queue, where a person clears or confirms it. A shared IP address alone never
disqualifies anyone: an ``IP_BURST`` is only a signal when many referral entries come from one
network in a short time.
"""

from __future__ import annotations

from dataclasses import dataclass

from disposable_email_domains import blocklist

SELF_REFERRAL = "SELF_REFERRAL"
DISPOSABLE_DOMAIN = "DISPOSABLE_DOMAIN"
IP_BURST = "IP_BURST"
REFERRAL_RING = "REFERRAL_RING"
UNCONFIRMED = "UNCONFIRMED"

# Plain words for the referrer's page and the organizer's queue.
EXPLANATIONS = {
    SELF_REFERRAL: (
        "C'est la même adresse que la vôtre : on ne peut pas se parrainer soi-même.",
        "It is the same address as yours: nobody can refer themselves.",
    ),
    DISPOSABLE_DOMAIN: (
        "L'adresse utilisée est une adresse jetable ; la participation est vérifiée.",
        "The address used is a disposable one; the entry is being checked.",
    ),
    IP_BURST: (
        "Beaucoup de participations sont arrivées en peu de temps du même réseau ; "
        "elles sont vérifiées.",
        "Many entries came from the same network in a short time; they are being checked.",
    ),
    REFERRAL_RING: (
        "Vous et cette personne vous êtes parrainés mutuellement ; c'est vérifié.",
        "You and this person referred each other; this is being checked.",
    ),
    UNCONFIRMED: (
        "La personne invitée n'a pas encore confirmé sa participation.",
        "The invited person has not confirmed their entry yet.",
    ),
}

BURST_WINDOW_MINUTES = 60
BURST_THRESHOLD = 5  # referral entries from one network within the window


@dataclass(frozen=True)
class Signals:
    same_person: bool
    disposable: bool
    burst: bool
    ring: bool

    @property
    def reasons(self) -> list[str]:
        found = []
        if self.same_person:
            found.append(SELF_REFERRAL)
        if self.disposable:
            found.append(DISPOSABLE_DOMAIN)
        if self.burst:
            found.append(IP_BURST)
        if self.ring:
            found.append(REFERRAL_RING)
        return found

    @property
    def needs_review(self) -> bool:
        return not self.same_person and (self.disposable or self.burst or self.ring)


def is_disposable(email_key: str) -> bool:
    domain = email_key.rpartition("@")[2].lower()
    return domain in blocklist


def explain(reason: str, language: str) -> str:
    french, english = EXPLANATIONS.get(reason, (reason, reason))
    return french if language == "fr" else english
