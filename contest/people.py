"""Who a person is: the identity key of an e-mail address.

One person per organizer and identity key. The key folds what does not change the mailbox
(case, surrounding spaces, plus-tags, dots in Gmail local parts), so that ``Ann+promo@Gmail.com``
and ``a.nn@gmail.com`` are one person for de-duplication and self-referral checks
(ALL-ELIGIBILITY-1, ALL-REFER-BONUS-1). Mail still goes to the address as typed.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


class InvalidEmail(ValueError):
    """The address is not a deliverable-looking e-mail address."""


def clean_email(raw: str) -> str:
    """The address as it should be stored and mailed to; raises InvalidEmail."""
    candidate = raw.strip()
    if not candidate or len(candidate) > 254:
        raise InvalidEmail(candidate)
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return result.normalized


def email_key(address: str) -> str:
    """The identity key of an address already cleaned by :func:`clean_email`."""
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    local = local.lower().split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def mask_email(address: str) -> str:
    """``ann@example.org`` -> ``a**@example.org``: enough to recognise, not to harvest."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 2)}@{domain}"
