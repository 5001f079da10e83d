"""The outbox's sender as the app and ``contest worker`` both run it: e-mails, shop vouchers,
CRM events and the nightly maintenance, through the installation's outbound policy."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest.clock import SYSTEM_CLOCK, Clock
from contest.connections import Family, connection_settings
from contest.leads.crm import CrmDelivery
from contest.leads.subscriptions import unsubscribe_token, unsubscribe_url
from contest.mail import Delivery, MessageBuilder, Sender
from contest.maintenance import Maintenance
from contest.outbound import connector_client
from contest.prizes.fulfilment import ShopDelivery
from contest.secretbox import SecretBox
from contest.sendingdomains import DkimKeys
from contest.settings import Settings
from contest.templating import Templates
from contest.tokens import Signer


def build_sender(
    settings: Settings,
    engine: Engine,
    templates: Templates,
    signer: Signer,
    clock: Clock = SYSTEM_CLOCK,
) -> Sender:
    box, outbound = SecretBox(settings.secret_keys), connector_client(settings)

    def shop_of(connection: Connection, organizer_id: int) -> tuple[str, dict[str, str]] | None:
        return connection_settings(connection, box, Family.SHOP, organizer_id)

    def crm_of(connection: Connection, organizer_id: int) -> tuple[str, dict[str, str]] | None:
        return connection_settings(connection, box, Family.CRM, organizer_id)

    return Sender(
        engine,
        MessageBuilder(settings, engine, templates, signer),
        Delivery(settings, keys=DkimKeys(engine, box)),
        shop=ShopDelivery(engine, shop_of, outbound, clock=clock.now),
        crm=CrmDelivery(
            engine,
            crm_of,
            outbound,
            preferences=lambda organizer_id, person_id: unsubscribe_url(
                settings.base_url, unsubscribe_token(signer, organizer_id, person_id)
            ),
        ),
        clock=clock.now,
        maintenance=Maintenance(engine, settings.secret_keys[0].reveal().encode()),
    )
