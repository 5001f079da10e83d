"""The organizer's connections: the shop that creates winners' vouchers and the CRM that
receives consenting leads. Adding, changing, testing and removing them. No HTTP here.

One shop connection and one CRM connection per organizer. The settings each kind takes are the
connectors' own (contest.prizes.shops, contest.leads.crm); the secret ones (keys, signing
secrets) are sealed with the app's key (contest.secretbox) and only shown masked afterwards.
A change that leaves a secret blank keeps the stored one. Every change and test is audited
(which fields, never their values). Calls go through the installation's outbound policy
(contest.outbound), like the deliveries themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import tables
from contest.audit import audit
from contest.i18n import N_, gettext
from contest.leads import crm
from contest.outbound import OutboundRefused
from contest.prizes import shops
from contest.secretbox import SealBroken, SecretBox
from rules import Refusal


class Family(StrEnum):
    SHOP = "shop"
    CRM = "crm"


@dataclass(frozen=True)
class KindSpec:
    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    secrets: tuple[str, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


KIND_LABELS = {
    "woocommerce": "WooCommerce",
    "prestashop": "PrestaShop",
    "shopify": "Shopify",
    "webhook": N_("Signed webhook"),
    "brevo": "Brevo",
}


def _specs(
    settings: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
    secrets: Mapping[str, tuple[str, ...]],
) -> dict[str, KindSpec]:
    return {
        kind: KindSpec(KIND_LABELS.get(kind, kind), required, optional, tuple(secrets[kind]))
        for kind, (required, optional) in settings.items()
    }


KINDS: dict[Family, dict[str, KindSpec]] = {
    Family.SHOP: _specs(shops.CONNECTOR_SETTINGS, shops.SECRET_SETTINGS),
    Family.CRM: _specs(crm.CRM_SETTINGS, crm.CRM_SECRET_SETTINGS),
}

# How each setting is presented in the workspace: its label and, where useful, a hint.
FIELDS: dict[str, tuple[str, str]] = {
    "base_url": (N_("Shop address"), N_("For example https://shop.example.")),
    "shop_url": (N_("Shop address"), N_("For example https://my-shop.myshopify.com.")),
    "consumer_key": (N_("Consumer key"), N_("WooCommerce > Settings > Advanced > REST API.")),
    "consumer_secret": (N_("Consumer secret"), ""),
    "api_key": (N_("API key"), ""),
    "access_token": (
        N_("Admin API access token"),
        N_("From a custom app with the write_discounts and read_discounts scopes."),
    ),
    "api_version": (
        N_("API version"),
        N_("For example 2025-10; leave empty for the default (2025-10)."),
    ),
    "timezone": (N_("Shop time zone"), N_("For example Europe/Paris.")),
    "currency": (N_("Currency"), N_("For example EUR.")),
    "individual_use": (N_("Not combinable with other coupons"), N_("Yes by default.")),
    "language_ids": (N_("Shop language ids"), N_("For example 1,2.")),
    "url": (N_("Receiver address"), N_("An https:// address that accepts signed POSTs.")),
    "secret": (N_("Signing secret"), N_("At least 16 characters, shared with the receiver.")),
    "list_id": (N_("Brevo list id"), N_("The list new leads join.")),
}

# Settings answered yes or no: the form offers a choice, the connector reads "true"/"false".
YES_NO = frozenset({"individual_use"})


def as_choices(settings: Mapping[str, str]) -> dict[str, str]:
    """The settings as the form shows them: a yes/no one stored as any word the connector
    reads ("no", "0", "off"...) as the choice it means, so that saving keeps it."""
    words = {"1": "true", "yes": "true", "on": "true", "0": "false", "no": "false", "off": "false"}
    return {
        name: words.get(value.strip().lower(), value.strip().lower()) if name in YES_NO else value
        for name, value in settings.items()
    }


# A CRM's base_url is its API's address, not the shop's.
_CRM_FIELDS = {
    **FIELDS,
    "base_url": (
        N_("API address"),
        N_("Leave empty for Brevo's own API (https://api.brevo.com/v3)."),
    ),
}


def fields_of(family: Family) -> dict[str, tuple[str, str]]:
    """Each setting's label and hint, as a connection of ``family`` means it."""
    return _CRM_FIELDS if family is Family.CRM else FIELDS


NOT_FOUND = Refusal("not_found", "Aucune connexion de ce type.", "No such connection.")


class ConnectionInvalid(Refusal):
    """The settings are incomplete or not well formed; the message names the setting."""


def _invalid(message: str) -> ConnectionInvalid:
    return ConnectionInvalid("invalid", message, message)


@dataclass(frozen=True)
class ConnectionView:
    """A connection as the workspace and the API show it: secrets masked."""

    id: int
    family: Family
    kind: str
    settings: dict[str, str]
    secrets: dict[str, str]
    updated_at: datetime

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class TestOutcome:
    ok: bool
    message: str


def _table(family: Family) -> sa.Table:
    return tables.shopconnection if family is Family.SHOP else tables.crmconnection


def _mask(value: str) -> str:
    return "••••" + value[-4:] if len(value) >= 12 else "••••"


def _row(connection: Connection, family: Family, organizer_id: int) -> Any:
    table = _table(family)
    return connection.execute(
        sa.select(
            table.c.id, table.c.kind, table.c.settings, table.c.sealed, table.c.updated_at
        ).where(table.c.organizer_id == organizer_id)
    ).first()


def _view(box: SecretBox, family: Family, row: Any) -> ConnectionView:
    spec = KINDS[family].get(row.kind)
    secret_names = spec.secrets if spec else ()
    try:
        opened = box.open(row.sealed)
    except SealBroken:
        opened = {}
    plain = {k: str(v) for k, v in (row.settings or {}).items() if k not in secret_names}
    secrets = {name: _mask(opened.get(name) or "") for name in secret_names}
    return ConnectionView(row.id, family, row.kind, plain, secrets, row.updated_at)


def connection_of(
    connection: Connection, box: SecretBox, family: Family, organizer_id: int
) -> ConnectionView | None:
    """The organizer's connection of this family, secrets masked; None when there is none."""
    row = _row(connection, family, organizer_id)
    return None if row is None else _view(box, family, row)


def connection_settings(
    connection: Connection, box: SecretBox, family: Family, organizer_id: int
) -> tuple[str, dict[str, str]] | None:
    """The kind and the full settings (secrets opened) the delivery calls with; None when
    there is no connection. Raises SealBroken when the secrets cannot be opened."""
    row = _row(connection, family, organizer_id)
    if row is None:
        return None
    settings = {k: str(v) for k, v in (row.settings or {}).items()}
    return row.kind, {**settings, **box.open(row.sealed)}


def spec_of(family: Family, kind: str) -> KindSpec:
    """The settings a kind takes; ConnectionInvalid for a kind the family does not have."""
    spec = KINDS[family].get(kind)
    if spec is None:
        raise _invalid(
            f"Unknown {family.value} connection kind {kind!r}: choose "
            + ", ".join(KINDS[family])
            + "."
        )
    return spec


def validate(family: Family, kind: str, settings: Mapping[str, str]) -> None:
    """Raises ConnectionInvalid naming what is wrong; the message never holds a secret."""
    spec = spec_of(family, kind)
    missing = [name for name in spec.required if not (settings.get(name) or "").strip()]
    if missing:  # named as the form labels them, in both languages
        labels = [fields_of(family).get(name, (name, ""))[0] for name in missing]
        raise ConnectionInvalid(
            "invalid",
            "À remplir : " + ", ".join(gettext("fr", label) for label in labels) + ".",
            "To fill in: " + ", ".join(labels) + ".",
        )
    try:
        if family is Family.SHOP:
            with httpx.Client() as unused:  # the connector checks its settings when made
                shops.connector_from_settings(kind, settings, unused)
        else:
            crm.validate_crm_settings(kind, settings)
    except ValueError as exc:  # ShopConfigurationError is one
        raise _invalid(str(exc)) from None


def save_connection(
    connection: Connection,
    box: SecretBox,
    family: Family,
    organizer_id: int,
    kind: str,
    values: Mapping[str, str],
    now: datetime,
    connection_id: int | None = None,
) -> ConnectionView:
    """Creates (``connection_id`` None) or changes the organizer's connection.

    Only the settings in ``values`` change; a secret sent empty keeps the stored one. Unknown
    settings, a missing required one or a malformed one are refused (ConnectionInvalid).
    Creating when one exists is refused with ``exists`` (409); changing another organizer's,
    with ``not_found``.
    """
    table = _table(family)
    current = _row(connection, family, organizer_id)
    if connection_id is None and current is not None:
        raise Refusal(
            "exists",
            "Une connexion existe déjà : modifiez-la ou supprimez-la d'abord.",
            "A connection already exists: change it or remove it first.",
        )
    if connection_id is not None and (current is None or current.id != connection_id):
        raise NOT_FOUND
    spec = spec_of(family, kind)
    unknown = sorted(set(values) - set(spec.fields))
    if unknown:
        raise _invalid(f"Unknown setting {', '.join(unknown)} for {spec.label}.")
    kept: dict[str, str] = {}
    if current is not None and current.kind == kind:
        kept = {k: str(v) for k, v in (current.settings or {}).items()}
        try:
            kept |= box.open(current.sealed)
        except SealBroken:
            pass  # the secrets must be typed again: validation says which are missing
    merged = dict(kept)
    for name, value in values.items():
        if value.strip() or name not in spec.secrets:
            merged[name] = value.strip()
    merged = {name: value for name, value in merged.items() if value and name in spec.fields}
    validate(family, kind, merged)
    changed = sorted(name for name in spec.fields if merged.get(name) != kept.get(name))
    row_values = {
        "kind": kind,
        "settings": {k: v for k, v in merged.items() if k not in spec.secrets},
        "sealed": box.seal({k: v for k, v in merged.items() if k in spec.secrets}),
        "updated_at": now,
    }
    if current is None:
        connection.execute(sa.insert(table).values(organizer_id=organizer_id, **row_values))
    else:
        connection.execute(sa.update(table).where(table.c.id == current.id).values(**row_values))
    audit(
        connection,
        organizer_id,
        "connection.saved",
        {"family": family.value, "kind": kind, "fields": changed},
        now,
    )
    saved = connection_of(connection, box, family, organizer_id)
    assert saved is not None
    return saved


def remove_connection(
    connection: Connection, family: Family, organizer_id: int, connection_id: int, now: datetime
) -> None:
    """Removes the connection: vouchers then wait to be imported by CSV, leads are no longer
    pushed. Refused with ``not_found`` for anything but the organizer's own."""
    table = _table(family)
    row = _row(connection, family, organizer_id)
    if row is None or row.id != connection_id:
        raise NOT_FOUND
    connection.execute(sa.delete(table).where(table.c.id == row.id))
    detail = {"family": family.value, "kind": row.kind}
    audit(connection, organizer_id, "connection.removed", detail, now)


def try_connection(
    engine: Engine,
    box: SecretBox,
    family: Family,
    organizer_id: int,
    connection_id: int,
    client: Callable[[], httpx.Client],
    now: datetime,
) -> TestOutcome:
    """Makes a harmless real call with the stored settings (reads the shop's coupons, pings
    the webhook, reads the CRM account) and says what came back. Audited."""
    with engine.connect() as connection:
        row = _row(connection, family, organizer_id)
        if row is None or row.id != connection_id:
            raise NOT_FOUND
        try:
            found = connection_settings(connection, box, family, organizer_id)
        except SealBroken as exc:
            found = None
            broken = TestOutcome(False, f"{exc}: type the secrets again.")
    outcome = broken if found is None else _call(family, *found, client)
    with engine.begin() as connection:
        audit(
            connection,
            organizer_id,
            "connection.tested",
            {"family": family.value, "kind": row.kind, "ok": outcome.ok},
            now,
        )
    return outcome


def _call(
    family: Family, kind: str, settings: Mapping[str, str], client: Callable[[], httpx.Client]
) -> TestOutcome:
    try:
        with client() as http:
            if family is Family.SHOP:
                message = shops.connector_from_settings(kind, settings, http).check()
            else:
                message = crm.check_crm(kind, settings, http)
    except (shops.ShopError, crm.CrmRetryable, crm.CrmRefused, OutboundRefused, ValueError) as exc:
        return TestOutcome(False, str(exc))
    except httpx.HTTPError as exc:
        return TestOutcome(False, f"{type(exc).__name__}: {exc}")
    return TestOutcome(True, message)
