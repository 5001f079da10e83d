"""Reporting counters for the funnel (page views, form starts), batched in memory.

Counting every page view with its own write would put a transaction on the busiest read path.
Counts are added in memory and flushed every few seconds with one upsert per contest, day and
metric; a process that dies loses at most those few seconds of counts. They are figures for the
dashboard, never evidence.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter
from datetime import date

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from contest import tables

log = logging.getLogger(__name__)
METRICS = frozenset({"page_view", "form_start"})
SEEN_LIMIT = 100_000


class FunnelCounter:
    def __init__(self, engine: Engine, interval: float = 5.0) -> None:
        self._engine = engine
        self._interval = interval
        self._lock = threading.Lock()
        self._counts: Counter[tuple[int, date, str]] = Counter()
        self._seen: set[bytes] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def first_time(self, token: str) -> bool:
        """Whether this form token starts a form for the first time (in this process): a form
        start counts once per form shown, however often it is sent. The memory is bounded:
        past ``SEEN_LIMIT`` tokens it starts afresh (figures, never evidence)."""
        digest = hashlib.sha256(token.encode()).digest()[:16]
        with self._lock:
            if digest in self._seen:
                return False
            if len(self._seen) >= SEEN_LIMIT:
                self._seen.clear()
            self._seen.add(digest)
            return True

    def add(self, contest_id: int, day: date, metric: str) -> None:
        if metric in METRICS:
            with self._lock:
                self._counts[(contest_id, day, metric)] += 1

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return
        funnel = tables.funnelcount
        rows = [
            {"contest_id": c, "day": d, "metric": m, "count": n} for (c, d, m), n in counts.items()
        ]
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(funnel)
        statement = statement.on_conflict_do_update(
            index_elements=[funnel.c.contest_id, funnel.c.day, funnel.c.metric],
            set_={"count": funnel.c.count + statement.excluded["count"]},
        )
        try:
            with self._engine.begin() as connection:
                connection.execute(statement, rows)
        except sa.exc.SQLAlchemyError:
            log.warning("funnel counters could not be saved; %d kept for later", len(rows))
            with self._lock:
                self._counts.update(counts)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()
        self.flush()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="funnel-counter", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
