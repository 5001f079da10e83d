"""The one shape of "refused": a code, the reason in French and English, and the rule behind it.

Every domain refusal (an entry, an invitation, a draw, an export) is a :class:`Refusal`, so the
web layer maps all of them to an answer in one place, and a refusal that comes from a legal
rule always names it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Refusal(Exception):
    """An operation refused with nothing done; ``code`` names why, ``rule_id`` the legal rule
    (catalogue id) when one is the reason."""

    code: str
    message_fr: str
    message_en: str
    rule_id: str | None = None

    def __str__(self) -> str:
        return self.message_en

    def message(self, language: str) -> str:
        return self.message_fr if language == "fr" else self.message_en
