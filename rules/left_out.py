"""Catalogue rules with no check in this package, and why.

Most are not about a configuration, an entry or a draw pool, but about what the engine
records, sends or renders: they are implemented and tested there (contest/, viral/).
"""

from __future__ import annotations

LEFT_OUT: tuple[tuple[str, str], ...] = (
    (
        "ALL-DRAW-COMMIT-1",
        "How the draw is run (beacon commitment, re-runnable record): the draw module.",
    ),
    ("ALL-DRAW-PRIVACY-1", "What the published draw record contains: the draw module."),
    ("ALL-DRAW-RANDOM-1", "Which random source the draw uses: the draw module (ruff S311)."),
    ("ALL-DRAW-RECORD-1", "The signed draw record: the draw module."),
    (
        "ALL-DRAW-WEIGHTED-1",
        "The sampling algorithm and weights: the draw module; purchases never change a "
        "weight (ALL-NOPURCHASE-2).",
    ),
    (
        "ALL-REFER-INVITE-1",
        "Per-invitation constraints (one per address, suppression list, rate limit, hashed "
        "address) are checked when sending: viral/. Turning invitations on is judged by "
        "EU-REFER-NOSEND-1 and FR-CLIENTS-2.",
    ),
    ("EU-ACCOUNT-1", "Record of processing and audit log: records, not a decision."),
    ("EU-CONSENT-PROOF-1", "The consent evidence ledger: a record the engine keeps."),
    ("EU-COOKIE-1", "Attribution without cookies: the HTTP layer."),
    ("EU-RIGHTS-1", "Access, export and erasure requests: the engine's request handling."),
    (
        "EU-WINNERS-PUBLISH-1",
        "How winners are published: rendering of the results page.",
    ),
    ("EU-WITHDRAW-1", "Unsubscribe and suppression: the mail module, at send time."),
    (
        "FR-DEPOSIT-1",
        "Deposit with a commissaire de justice is optional: nothing to refuse. The contest "
        "records the officer, reference and date and prints them in the rules; the rules' "
        "text is served at /c/{slug}/rules.txt, its SHA-256 being the rules version.",
    ),
    ("FR-DRAW-BAILIFF-1", "Optional bailiff verification: the draw export."),
    (
        "FR-EMAIL-OPTIN-1",
        "The consent or soft opt-in basis is checked per recipient and channel at send time "
        "(mail module); channel-specific opt-ins are enforced by EU-CONSENT-SPECIFIC-1.",
    ),
    (
        "US-CANSPAM-1",
        "Checked at send time (mail module); the organizer's postal address it needs is "
        "already required by FR-RULES-1 and US-RULES-1.",
    ),
)
