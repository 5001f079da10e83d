"""Who a person is: the identity key of an e-mail address.

One person per organizer and identity key. The key folds what does not change the mailbox
(case, surrounding spaces, plus-tags, dots in Gmail local parts), so that ``Ann+promo@Gmail.com``
and ``a.nn@gmail.com`` are one person for de-duplication and self-referral checks
(ALL-ELIGIBILITY-1, ALL-REFER-BONUS-1). Mail still goes to the address as typed.
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
MAX_LENGTH = 254  # octets, as email_validator counts an address
# An address that email_validator reads without quoting, Unicode or a display name: a dot-atom
# of ASCII characters before the one @, ASCII host name characters after it.
_PLAIN = re.compile(
    r"([A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+(?:\.[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+)*)@([A-Za-z0-9.-]+)"
)
_RFC2142 = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


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


class EmailCleaner:
    """:func:`clean_email` for many addresses (a file's), with each domain checked once.

    ``cleaner(raw)`` returns what ``clean_email(raw)`` returns and raises what it raises. A
    plain address (an ASCII dot-atom, one ``@``, an ASCII host name) is read as email_validator
    reads it: the part before the ``@`` as written (lower case for the RFC 2142 names), the
    domain as email_validator normalises it, checked once per domain and kept (at most
    ``max_domains``, then the memory starts again). Any other address, an invalid one among
    them, goes through :func:`clean_email` itself, so that its message is the same.
    """

    def __init__(self, max_domains: int = 10_000) -> None:
        self._domains: dict[str, tuple[str, str] | None] = {}
        self._max_domains = max_domains

    def __call__(self, raw: str) -> str:
        candidate = raw.strip()
        plain = _PLAIN.fullmatch(candidate) if len(candidate) <= MAX_LENGTH else None
        if plain is not None:
            local, domain = plain.groups()
            known = self._domain(domain)
            if known is not None:
                if local.lower() in _RFC2142:
                    local = local.lower()
                normalized, ascii_domain = local + "@" + known[0], known[1]
                # email_validator's length check: as given, normalised, with the ASCII domain
                if (
                    len(candidate) <= MAX_LENGTH
                    and len(normalized.encode()) <= MAX_LENGTH
                    and len(local) + 1 + len(ascii_domain) <= MAX_LENGTH
                ):
                    return normalized
        return clean_email(raw)

    def _domain(self, domain: str) -> tuple[str, str] | None:
        """The domain as email_validator normalises it, and its ASCII form; None when it is
        refused (the address then goes the slow way, to be refused with its message)."""
        try:
            return self._domains[domain]
        except KeyError:
            pass
        try:
            probe = validate_email("a@" + domain, check_deliverability=False)
        except EmailNotValidError:
            known = None
        else:
            known = (probe.domain, probe.ascii_domain)
        if len(self._domains) >= self._max_domains:
            self._domains.clear()
        self._domains[domain] = known
        return known


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
