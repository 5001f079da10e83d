"""The bounce mailbox: a Maildir (``CONTEST_BOUNCE_MAILDIR``) where the mail server delivers
what comes back to the sending address, read by the worker's once-a-minute duty.

Each message is handled once, whichever worker reads it, by atomic renames within the folder:

1. waiting in ``new/``;
2. claimed: renamed into ``cur/`` with an empty info (``NAME:2,``) by one worker (a worker
   whose rename fails knows another took it), its time set to the claim's;
3. then deleted once applied (a bounce or a complaint; what it changed is in the database), or
   kept as read (``NAME:2,S``) when it is no report at all (an auto-reply, a person's answer),
   for someone to read in a mail client; or renamed back into ``new/`` when applying it failed
   (the database away), for the next pass.

A claim left by a worker that died mid-way is taken back into ``new/`` after
:data:`CLAIM_LEASE`. Applying a report twice changes nothing, so the rare message read by
two workers (one slower than the lease) is harmless.
"""

from __future__ import annotations

import logging
import mailbox
import os
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from contest.bounces.handling import handle_raw
from contest.bounces.reports import MAX_REPORT_BYTES
from contest.settings import bounce_maildir_from_env

log = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=10)
BATCH = 500  # messages per pass: the minute's other duties still run


class BounceMailbox:
    """The worker's duty: applies the reports waiting in the bounce Maildir; returns how many
    messages it took. ``folder`` None: ``CONTEST_BOUNCE_MAILDIR``, read at each pass (unset,
    the duty does nothing)."""

    def __init__(self, engine: Engine, folder: Path | None = None, batch: int = BATCH) -> None:
        self.engine = engine
        self.folder = folder
        self.batch = batch

    def __call__(self, now: datetime) -> int:
        folder = self.folder or bounce_maildir_from_env()
        if folder is None:
            return 0
        return read_maildir(self.engine, folder, now, self.batch)


def read_maildir(engine: Engine, folder: Path, now: datetime, batch: int = BATCH) -> int:
    """One pass over the Maildir (created when missing): stale claims back, then up to
    ``batch`` waiting messages, oldest first. Returns how many were claimed."""
    colon = mailbox.Maildir(folder, create=True).colon
    new, cur = folder / "new", folder / "cur"
    _take_back_stale_claims(new, cur, colon, now)
    taken = handled = 0
    for name in sorted(n for n in os.listdir(new) if not n.startswith("."))[:batch]:
        base = name.split(colon, 1)[0]
        claimed = cur / f"{base}{colon}2,"
        try:
            os.rename(new / name, claimed)
            os.utime(claimed, (now.timestamp(), now.timestamp()))
        except FileNotFoundError:  # another worker was quicker
            continue
        taken += 1
        try:
            with claimed.open("rb") as message:
                raw = message.read(MAX_REPORT_BYTES)
            outcome = handle_raw(engine, raw, now, door="mailbox")
        except FileNotFoundError:  # taken back as stale by another worker: it is theirs now
            continue
        except Exception as exc:  # the database away: the next pass tries again
            # The type only: a database error's text would carry the addresses it was given.
            log.warning("bounce mailbox: a message was not applied (%s)", type(exc).__name__)
            _rename(claimed, new / base)
            continue
        if outcome.report:
            claimed.unlink(missing_ok=True)
            handled += 1
        else:
            _rename(claimed, cur / f"{base}{colon}2,S")
    if taken:
        log.info("bounce mailbox: %d message(s) read, %d report(s) applied", taken, handled)
    return taken


def _take_back_stale_claims(new: Path, cur: Path, colon: str, now: datetime) -> None:
    """Claims older than the lease (their worker died) go back to ``new/``."""
    stale_before = (now - CLAIM_LEASE).timestamp()
    for name in os.listdir(cur):
        base, _, info = name.partition(colon)
        if info != "2,":
            continue
        try:
            stale = (cur / name).stat().st_mtime < stale_before
        except FileNotFoundError:
            continue
        if stale:
            _rename(cur / name, new / base)


def _rename(source: Path, target: Path) -> None:
    try:
        os.rename(source, target)
    except FileNotFoundError:  # someone else moved it first
        pass
