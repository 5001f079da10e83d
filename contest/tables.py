"""Every table as a typed SQLAlchemy ``Table``, for queries written with SQLAlchemy Core.

``tables.entry.c.status`` instead of a look-up by name: a typo fails at import, and a reader
can jump to the model that declares the columns (``contest.models``, ``viral.models``).
"""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa
from sqlmodel import SQLModel

from contest import models
from viral import models as viral_models


def _table(model: type[SQLModel]) -> sa.Table:
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]


apitoken = _table(models.ApiToken)
auditevent = _table(models.AuditEvent)
campaign = _table(models.Campaign)
campaignrecipient = _table(models.CampaignRecipient)
challengestate = _table(models.ChallengeState)
client = _table(models.Client)
clientset = _table(models.ClientSet)
clientversion = _table(models.ClientVersion)
consentchain = _table(models.ConsentChain)
consentrecord = _table(models.ConsentRecord)
contactevent = _table(models.ContactEvent)
contest = _table(models.Contest)
crmconnection = _table(models.CrmConnection)
datarequest = _table(models.DataRequest)
drawplacement = _table(models.DrawPlacementRow)
drawpoolchunk = _table(models.DrawPoolChunk)
drawrecord = _table(models.DrawRecordRow)
entry = _table(models.Entry)
funnelcount = _table(models.FunnelCount)
invitation = viral_models.invitation
invitesuppression = viral_models.invitesuppression

linkclick = viral_models.linkclick
member = _table(models.Member)
organizer = _table(models.Organizer)
organizersession = _table(models.OrganizerSession)
outboxmessage = _table(models.OutboxMessage)
instantmoment = _table(models.InstantMoment)
poolfreeze = _table(models.PoolFreeze)
person = _table(models.Person)
prize = _table(models.Prize)
prizeaward = _table(models.PrizeAward)
purgelog = _table(models.PurgeLog)
ratelimit = _table(models.RateLimitHit)
referral = viral_models.referral
rulesversion = _table(models.RulesVersion)
shopconnection = _table(models.ShopConnection)
spentchallenge = _table(models.SpentChallenge)
sourcelink = viral_models.sourcelink
sendingdomain = _table(models.SendingDomain)
