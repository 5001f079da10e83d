"""The one source of the current time, injected wherever "now" matters.

Deadlines, token expiry, rate-limit windows, retention and the demo's dates all read the
same clock, so that a test (or a demo) can hold time still or move it, and no code path can
disagree with another about what "now" is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that shows ``instant`` until it is moved (tests, reproducible demos)."""

    instant: datetime

    def __post_init__(self) -> None:
        if self.instant.tzinfo is None:
            raise ValueError("a clock's instant must be timezone-aware")

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> datetime:
        self.instant += delta
        return self.instant


SYSTEM_CLOCK = SystemClock()
