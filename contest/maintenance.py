"""What the sender loop does about once a minute besides sending, whichever process runs it."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine

from contest import campaigns, proofofwork, reminders, sessions
from contest.bounces.maildir import BounceMailbox
from contest.draw.drawing import freeze_closed
from contest.leads import consents
from contest.leads.privacy import RetentionJob
from contest.prizes import claims
from contest.transactions import writing

log = logging.getLogger(__name__)


class Maintenance:
    """Everything the sender loop does about once a minute besides sending: the pools of
    contests that closed are frozen and published, prizes unclaimed
    past their deadline go to alternates, new consent records are sealed into the chain, the
    one reminder to confirm, the referrers' daily news, the "last days" e-mails and the results
    go out, entrants are told of changes to the rules, campaigns queue their next batch, and
    the retention purge runs (at most hourly), ended workspace sessions are forgotten, and so
    are the spent proofs of work whose challenge expired. One duty failing never stops the
    others."""

    def __init__(self, engine: Engine, suppression_key: bytes) -> None:

        self.duties = (
            lambda now: freeze_closed(engine, now),  # the pool of a contest that just closed
            lambda now: claims.pass_all_unclaimed(engine, now),
            lambda now: consents.seal(engine, now),
            BounceMailbox(engine),  # before the mails: none to an address just refused
            lambda now: reminders.remind_unconfirmed(engine, now),
            lambda now: reminders.tell_referrers(engine, now),
            lambda now: reminders.tell_last_days(engine, now),
            lambda now: reminders.tell_results(engine, now),
            lambda now: reminders.tell_rules_changes(engine, now),
            lambda now: campaigns.send_due(engine, now),
            RetentionJob(engine, suppression_key),
            lambda now: writing(engine, sessions.forget_ended, now),
            lambda now: writing(engine, proofofwork.purge_spent, now),
        )

    def __call__(self, now: datetime) -> None:
        for duty in self.duties:
            try:
                duty(now)
            except Exception:
                log.exception("maintenance duty failed; the others went on")
