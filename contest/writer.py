"""The entry writer: concurrent entries grouped into one transaction, each answered after commit.

A request hands its checked form to the writer and waits. One thread takes every entry waiting
at that moment, runs :func:`contest.entries.enter_contest` for each inside its own savepoint
(a refusal undoes only that entry), commits once, and only then answers each request. The
cost of a transaction is shared by the whole group, so the path keeps its speed under load
while a 2xx answer still means the entry is in the database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from contest import tables
from contest.contests import ContestView
from contest.eligibility import EntryRefused
from contest.entries import (
    Counted,
    Deferred,
    EntryContext,
    EntryOutcome,
    enter_contest,
    prepare_group,
)
from contest.forms import EntryForm
from contest.storage import busy, worth_retrying, write_options

log = logging.getLogger(__name__)
# A group the database aborted (deadlock, serialization failure) runs again at most this
# often, the n-th time after n pauses of this many seconds.
RERUNS = 3
RERUN_PAUSE = 0.02


@dataclass
class _Job:
    contest: ContestView
    form: EntryForm
    context: EntryContext
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[EntryOutcome]


class WriterStopped(RuntimeError):
    """The writer is shutting down and takes no more entries."""


class EntryWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 128,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="entry-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finishes every entry already handed over, then stops."""
        self._stopping = True
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)

    async def submit(
        self, contest: ContestView, form: EntryForm, context: EntryContext
    ) -> EntryOutcome:
        if self._stopping:
            raise WriterStopped()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[EntryOutcome] = loop.create_future()
        self._queue.put(_Job(contest, form, context, loop, future))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            stop_after = False
            while len(jobs) < self._max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop_after = True
                    break
                jobs.append(job)
            self._process(jobs)
            if stop_after:
                return

    def _process(self, jobs: list[_Job]) -> None:
        results = self._run_group(jobs)
        if self._on_commit is not None and any(r[1] is not None for r in results):
            self._on_commit()
        for job, outcome, error in results:
            job.loop.call_soon_threadsafe(_settle, job.future, outcome, error)

    def _run_group(self, jobs: list[_Job]) -> list[_Result]:
        """One transaction for the group; savepoints only when the quick path meets an error.

        ``enter_contest`` raises its refusals before writing anything, so the quick path needs
        no savepoint per entry. An unexpected error (say a unique key taken by another process
        since our read) rolls the group back and replays it with one savepoint per entry.

        The database's own refusals concern the whole group: a deadlock or a serialization
        failure runs it again, after a pause that lets the other party go ahead (without it,
        the rerun can take the same rows back before the other session wakes, and meet the
        same deadlock), at most ``RERUNS`` times; a lock held beyond the lock timeout fails
        every entry of the group at once (each request then asks its participant to try again
        in a moment), rather than making each entry wait for the same lock in turn. A failed
        group leaves nothing written.
        """
        careful, reruns = False, 0
        while True:
            try:
                return self._transaction(jobs, careful=careful)
            except _Replay as replay:
                error = replay.__cause__
                if error is None or not busy(error):  # replay with a savepoint per entry
                    careful = True
                    continue
            except Exception as exc:  # the commit failed: no entry of the group was kept
                error = exc
            if not worth_retrying(error) or reruns == RERUNS:
                return _failed(jobs, error)
            reruns += 1
            careful = True
            time.sleep(RERUN_PAUSE * reruns)

    def _transaction(self, jobs: list[_Job], careful: bool) -> list[_Result]:
        results: list[_Result] = []
        with self._engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                fresh = _refresh_contests(connection, {job.contest.id for job in jobs})
                contests = [
                    _with_fresh_state(job.contest, fresh.get(job.contest.id)) for job in jobs
                ]
                deferred = Deferred()
                counts: list[Counted | None] = [None] * len(jobs)
                if not careful:
                    try:
                        deferred.lookups, counted = prepare_group(
                            connection,
                            [
                                (c, job.form, job.context)
                                for c, job in zip(contests, jobs, strict=True)
                            ],
                        )
                    except Exception as exc:
                        raise _Replay() from exc
                    counts = list(counted)
                for job, contest, count in zip(jobs, contests, counts, strict=True):
                    if careful:
                        results.append((job, *_enter_one(connection, contest, job)))
                        continue
                    try:
                        outcome = enter_contest(
                            connection, contest, job.form, job.context, deferred, count
                        )
                    except EntryRefused as refusal:
                        results.append((job, None, refusal))
                    except Exception as exc:
                        raise _Replay() from exc
                    else:
                        results.append((job, outcome, None))
                try:
                    deferred.flush(connection)
                except Exception as exc:
                    raise _Replay() from exc
        return results


class _Replay(Exception):
    """The quick path hit an error: replay the group with a savepoint per entry."""


_Result = tuple[_Job, EntryOutcome | None, BaseException | None]


def _enter_one(
    connection: Any, contest: ContestView, job: _Job
) -> tuple[EntryOutcome | None, BaseException | None]:
    for attempt in range(2):
        savepoint = connection.begin_nested()
        try:
            outcome = enter_contest(connection, contest, job.form, job.context)
        except EntryRefused as refusal:
            savepoint.rollback()
            return None, refusal
        except IntegrityError as exc:
            # Another process wrote the same person or entry since our read: read again.
            savepoint.rollback()
            if attempt:
                return None, exc
            continue
        except Exception as exc:
            savepoint.rollback()
            if busy(exc):  # the database's refusal: the whole group waits or runs again
                raise
            log.exception("entry failed")
            return None, exc
        savepoint.commit()
        return outcome, None
    raise AssertionError("unreachable")


def _failed(jobs: list[_Job], error: BaseException) -> list[_Result]:
    if busy(error):
        log.warning("entry group of %d refused by the database: %s", len(jobs), error)
    else:
        log.error("entry group of %d failed to commit", len(jobs), exc_info=error)
    return [(job, None, error) for job in jobs]


_CONTEST_STATES = sa.select(
    tables.contest.c.id,
    tables.contest.c.status,
    tables.contest.c.opens_at,
    tables.contest.c.closes_at,
).where(tables.contest.c.id.in_(sa.bindparam("ids", expanding=True)))


def _refresh_contests(connection: Any, ids: set[int]) -> dict[int, Any]:
    rows = connection.execute(_CONTEST_STATES, {"ids": sorted(ids)})
    return {row.id: row for row in rows}


def _with_fresh_state(view: ContestView, row: Any) -> ContestView:
    if row is None:
        return dataclasses.replace(view, status="archived")
    if (row.status, row.opens_at, row.closes_at) == (view.status, view.opens_at, view.closes_at):
        return view
    return dataclasses.replace(
        view, status=row.status, opens_at=row.opens_at, closes_at=row.closes_at
    )


def _settle(
    future: asyncio.Future[EntryOutcome],
    outcome: EntryOutcome | None,
    error: BaseException | None,
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert outcome is not None
        future.set_result(outcome)
