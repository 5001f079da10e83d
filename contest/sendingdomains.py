"""The domains e-mails are sent from: their DKIM keys and the DNS records that vouch for them.
No HTTP here.

1. An organizer names the address its e-mails should come from (``concours@shop.example``).
   The app makes an RSA-2048 key for that domain under a dated selector (``contest202611``),
   the private half sealed at rest with the app's key (:mod:`contest.secretbox`).
2. The workspace shows the three records to publish: DKIM (``TXT`` at
   ``{selector}._domainkey.{domain}``: ``v=DKIM1; k=rsa; p=…``), SPF (``TXT`` at the domain:
   ``v=spf1 … ~all``, authorizing the installation's SMTP relay) and DMARC (``TXT`` at
   ``_dmarc.{domain}``: ``v=DMARC1; p=none; rua=mailto:…``).
3. "Check the records" reads them through a :class:`TxtLookup` (DNS with ``dnspython``, the
   servers of ``CONTEST_DNS_SERVERS`` or the system's) and says of each: found and matching,
   found but different, missing (or unknown, when DNS did not answer). The domain is verified
   while its DKIM record carries the key; a later check that no longer finds it withdraws that.
4. A verified organizer's e-mails are sent From its address and signed with its key
   (:class:`DkimKeys`, used by :class:`contest.mail.Delivery`). Until then they leave from the
   platform's address (``CONTEST_MAIL_FROM``) under the organizer's name, as before.

The platform's own domain (that of ``CONTEST_MAIL_FROM``) is a row without an organizer:
``contest sending-domain`` makes its key and prints its records, and every message From it is
signed with that key.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit

import dkim
import dns.exception
import dns.nameserver
import dns.resolver
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import tables
from contest.audit import audit
from contest.secretbox import SealBroken, SecretBox
from contest.settings import Settings
from rules import Refusal

log = logging.getLogger(__name__)

KEY_BITS = 2048
DNS_TIMEOUT = 5.0  # seconds for one record, all servers tried
NOT_FOUND = Refusal(
    "not_found",
    "Aucun domaine d'envoi : indiquez d'abord l'adresse d'envoi.",
    "No sending domain: give the sending address first.",
)

CHANGED = Refusal(
    "changed",
    "Le domaine d'envoi a changé pendant la vérification : vérifiez à nouveau.",
    "The sending domain changed during the check: check again.",
)


class SenderAddressInvalid(Refusal):
    """The sending address is not one the app can sign for; the message says why."""


class RecordKind(StrEnum):
    DKIM = "dkim"
    SPF = "spf"
    DMARC = "dmarc"


class RecordStatus(StrEnum):
    MATCH = "match"  # found, and it says what it should
    DIFFERENT = "different"  # found, but it says something else
    MISSING = "missing"  # nothing published there
    UNKNOWN = "unknown"  # DNS did not answer: nothing can be said
    UNCHECKED = "unchecked"  # never checked


@dataclass(frozen=True)
class DnsRecord:
    """A record to publish: a TXT value at a name, and what the last check found there."""

    kind: RecordKind
    name: str
    value: str
    status: RecordStatus = RecordStatus.UNCHECKED
    found: tuple[str, ...] = ()

    type: str = "TXT"


@dataclass(frozen=True)
class SendingDomain:
    """A sending domain as the workspace and the API show it (never the private key)."""

    id: int
    organizer_id: int | None
    address: str
    domain: str
    selector: str
    public_key: str
    report_to: str  # where the DMARC record asks for aggregate reports
    created_at: datetime
    verified_at: datetime | None
    checked_at: datetime | None
    last_check: Mapping[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def dkim_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    def records(self, relay: str | None) -> tuple[DnsRecord, ...]:
        """The three records to publish, each with what the last check found."""
        wanted = (
            (RecordKind.DKIM, self.dkim_name, dkim_record(self.public_key)),
            (RecordKind.SPF, self.domain, spf_record(relay)),
            (RecordKind.DMARC, f"_dmarc.{self.domain}", dmarc_record(self.report_to)),
        )
        shown = []
        for kind, name, value in wanted:
            checked = self.last_check.get(kind.value) or {}
            status = RecordStatus(checked.get("status", RecordStatus.UNCHECKED))
            found = tuple(str(text) for text in checked.get("found", ()))
            shown.append(DnsRecord(kind, name, value, status, found))
        return tuple(shown)


@dataclass(frozen=True)
class DkimKey:
    """What signs a message: the d= domain, the s= selector and the private key (PEM)."""

    domain: str
    selector: str
    private_pem: bytes

    def __repr__(self) -> str:
        return f"DkimKey({self.domain!r}, {self.selector!r}, **********)"


# --- The records -------------------------------------------------------------------------


def dkim_record(public_key: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_key}"


def spf_mechanism(relay: str | None) -> str:
    """What authorizes the installation's SMTP relay: its address, or its host's address
    records; with no relay configured, the domain's own mail servers."""
    if not relay:
        return "mx"
    try:
        address = ipaddress.ip_address(relay)
    except ValueError:
        return f"a:{relay}"
    return f"ip{address.version}:{address}"


def spf_record(relay: str | None) -> str:
    return f"v=spf1 {spf_mechanism(relay)} ~all"


def dmarc_record(report_to: str) -> str:
    return f"v=DMARC1; p=none; rua=mailto:{report_to}"


def relay_of(settings: Settings) -> str | None:
    """The SMTP relay's host (``CONTEST_SMTP_URL``), which the SPF record must authorize."""
    if settings.smtp_url is None:
        return None
    return urlsplit(settings.smtp_url.reveal()).hostname


def _tags(text: str) -> dict[str, str]:
    """A DKIM or DMARC record's tags (``k=v; k=v``), white space removed from the values."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        name, equals, value = part.partition("=")
        if equals:
            tags.setdefault(name.strip().lower(), "".join(value.split()))
    return tags


def _judge(kind: RecordKind, found: Sequence[str], public_key: str, relay: str | None) -> str:
    if kind is RecordKind.DKIM:
        if not found:
            return RecordStatus.MISSING
        ours = [
            text
            for text in found
            if (tags := _tags(text)).get("p") == public_key
            and tags.get("k", "rsa") == "rsa"
            and tags.get("v", "DKIM1") == "DKIM1"
        ]
        return RecordStatus.MATCH if ours else RecordStatus.DIFFERENT
    if kind is RecordKind.SPF:
        spf = [text for text in found if text.lower().split()[:1] == ["v=spf1"]]
        if not spf:
            return RecordStatus.MISSING
        # One SPF record only (two make SPF fail), and it names the relay.
        mechanisms = {term.lstrip("+").lower() for term in spf[0].split()[1:]}
        named = spf_mechanism(relay).lower() in mechanisms
        return RecordStatus.MATCH if len(spf) == 1 and named else RecordStatus.DIFFERENT
    if not found:
        return RecordStatus.MISSING
    dmarc = [text for text in found if _tags(text).get("v") == "DMARC1"]
    valid = len(dmarc) == 1 and _tags(dmarc[0]).get("p") in {"none", "quarantine", "reject"}
    return RecordStatus.MATCH if valid else RecordStatus.DIFFERENT


# --- Reading DNS -------------------------------------------------------------------------


class DnsUnavailable(Exception):
    """DNS gave no answer (a timeout, a server failure): nothing can be said of the record."""


class TxtLookup(Protocol):
    def __call__(self, name: str) -> list[str]:
        """The TXT records at ``name``, each one's strings joined; [] when there are none.
        Raises DnsUnavailable when DNS does not answer."""
        ...


class DnsLookup:
    """TXT records through ``dnspython``: the given servers (``(host, port)``), or the
    system's (``/etc/resolv.conf``) when none are given. Never cached: a check reads afresh."""

    def __init__(
        self, servers: Sequence[tuple[str, int]] = (), timeout: float = DNS_TIMEOUT
    ) -> None:
        self.servers = tuple(servers)
        self.timeout = timeout

    def _resolver(self) -> dns.resolver.Resolver:
        resolver = dns.resolver.Resolver(configure=not self.servers)
        if self.servers:
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(host, port) for host, port in self.servers
            ]
        resolver.lifetime = self.timeout
        return resolver

    def __call__(self, name: str) -> list[str]:
        try:
            answer = self._resolver().resolve(name.rstrip(".") + ".", "TXT", search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:  # timeout, no server answered, SERVFAIL
            raise DnsUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


# --- The keys ----------------------------------------------------------------------------


def new_key() -> tuple[bytes, str]:
    """A new RSA-2048 key: its private half (PKCS#1 PEM, as dkimpy reads it) and the public
    half as the DKIM record's ``p=`` (base64 of the DER SubjectPublicKeyInfo)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(public).decode("ascii")


def selector_for(now: datetime) -> str:
    """A dated selector: a new key of another month never collides with the one published."""
    return f"contest{now:%Y%m}"


# The headers a signature covers when present: who, what, when, the MIME structure, and the
# one-click unsubscription (RFC 8058 §4: List-Unsubscribe and List-Unsubscribe-Post MUST be
# signed).
SIGNED_HEADERS = (
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "auto-submitted",
)


def dkim_signature(raw: bytes, key: DkimKey) -> bytes:
    """The ``DKIM-Signature`` header (relaxed/relaxed, rsa-sha256) for the message ``raw``, to
    be put before its first line; it covers the :data:`SIGNED_HEADERS` present."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    present = {
        line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        for line in head.split(b"\r\n")
        if line[:1] not in (b" ", b"\t") and b":" in line
    }
    signature: bytes = dkim.sign(
        raw,
        key.selector.encode("ascii"),
        key.domain.encode("ascii"),
        key.private_pem,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=[
            *(name.encode("ascii") for name in SIGNED_HEADERS if name in present),
            b"from",  # once more: a second From added on the way breaks the signature
        ],
    )
    return signature


def sending_address(text: str) -> tuple[str, str]:
    """``(address, domain)`` of a sending address, its domain in ASCII (IDNA); refused
    (SenderAddressInvalid) when it is not an address on a public domain name, or when its
    part before the @ is not ASCII (it would need SMTPUTF8 from every receiver)."""
    try:
        checked = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise SenderAddressInvalid(
            "invalid",
            # The validator's reason is in English only: the French message goes without it.
            "Une adresse e-mail sur votre domaine, par ex. concours@votre-boutique.fr.",
            f"An e-mail address on your domain, e.g. contest@your-shop.example ({exc}).",
        ) from None
    domain = checked.ascii_domain.lower()
    return f"{checked.local_part}@{domain}", domain


# --- Stored domains ----------------------------------------------------------------------


def _scope(organizer_id: int | None) -> sa.ColumnElement[bool]:
    column = tables.sendingdomain.c.organizer_id
    return column.is_(None) if organizer_id is None else column == organizer_id


def _row(connection: Connection, organizer_id: int | None, domain: str | None = None) -> Any:
    table = tables.sendingdomain
    query = sa.select(table).where(_scope(organizer_id))
    if domain is not None:
        query = query.where(table.c.domain == domain)
    return connection.execute(query.order_by(table.c.id.desc()).limit(1)).first()


def _report_to(connection: Connection, organizer_id: int | None, address: str) -> str:
    if organizer_id is None:
        return address
    organizer = tables.organizer
    row = connection.execute(
        sa.select(organizer.c.reply_to, organizer.c.contact_email, organizer.c.email).where(
            organizer.c.id == organizer_id
        )
    ).first()
    if row is None:
        return address
    return str(row.reply_to or row.contact_email or row.email)


def _view(connection: Connection, row: Any) -> SendingDomain:
    return SendingDomain(
        id=row.id,
        organizer_id=row.organizer_id,
        address=row.address,
        domain=row.domain,
        selector=row.selector,
        public_key=row.public_key,
        report_to=_report_to(connection, row.organizer_id, row.address),
        created_at=row.created_at,
        verified_at=row.verified_at,
        checked_at=row.checked_at,
        last_check=dict(row.last_check or {}),
    )


def sending_domain_of(connection: Connection, organizer_id: int | None) -> SendingDomain | None:
    """The organizer's sending domain (``None``: the platform's), or None when none is set."""
    row = _row(connection, organizer_id)
    return None if row is None else _view(connection, row)


def set_sending_address(
    connection: Connection,
    box: SecretBox,
    organizer_id: int | None,
    text: str,
    now: datetime,
) -> SendingDomain:
    """Sets the address e-mails are sent From (``organizer_id`` None: the platform's).

    Another address on the same domain keeps the key and the verification; a new domain gets
    a new key under a new selector, and must be checked again before e-mails leave From it.
    Refused (SenderAddressInvalid) for anything but an address on a public domain name.
    Audited (the domain, never a key).
    """
    address, domain = sending_address(text)
    table = tables.sendingdomain
    current = _row(connection, organizer_id)
    if current is not None and current.domain == domain:
        connection.execute(sa.update(table).where(table.c.id == current.id).values(address=address))
    else:
        private, public = new_key()
        values = {
            "address": address,
            "domain": domain,
            "selector": selector_for(now),
            "public_key": public,
            "sealed_key": box.seal({"private_key": private.decode("ascii")}),
            "created_at": now,
            "verified_at": None,
            "checked_at": None,
            "last_check": {},
        }
        if current is None:
            connection.execute(sa.insert(table).values(organizer_id=organizer_id, **values))
        else:
            connection.execute(sa.update(table).where(table.c.id == current.id).values(**values))
    if organizer_id is not None:
        audit(connection, organizer_id, "sending_domain.saved", {"domain": domain}, now)
    saved = sending_domain_of(connection, organizer_id)
    assert saved is not None
    return saved


def read_records(
    domain: SendingDomain, lookup: TxtLookup, relay: str | None
) -> dict[str, dict[str, Any]]:
    """Reads the three published records; for each, its status and what was found."""
    results: dict[str, dict[str, Any]] = {}
    for record in domain.records(relay):
        try:
            found = lookup(record.name)
        except DnsUnavailable as exc:
            log.info("DNS lookup of %s failed: %s", record.name, exc)
            results[record.kind.value] = {"status": RecordStatus.UNKNOWN.value, "found": []}
            continue
        status = _judge(record.kind, found, domain.public_key, relay)
        results[record.kind.value] = {"status": str(status), "found": found[:5]}
    return results


def check_sending_domain(
    engine: Engine,
    organizer_id: int | None,
    lookup: TxtLookup,
    relay: str | None,
    now: datetime,
) -> SendingDomain:
    """Reads the published records and keeps what was found. The domain is verified when
    its DKIM record carries the key, and no longer verified when the record is missing or
    different; a DNS that does not answer changes nothing. Refused (``not_found``) with no
    sending domain. Audited.

    DNS is read outside any transaction: a slow answer holds no database lock.
    """
    with engine.connect() as connection:
        domain = sending_domain_of(connection, organizer_id)
    if domain is None:
        raise NOT_FOUND
    results = read_records(domain, lookup, relay)
    dkim_status = results[RecordKind.DKIM.value]["status"]
    verified_at = domain.verified_at
    if dkim_status == RecordStatus.MATCH:
        verified_at = verified_at or now
    elif dkim_status != RecordStatus.UNKNOWN:
        verified_at = None
    table = tables.sendingdomain
    with engine.begin() as connection:
        changed = connection.execute(
            sa.update(table)
            .where(table.c.id == domain.id, table.c.public_key == domain.public_key)
            .values(last_check=results, checked_at=now, verified_at=verified_at)
        ).rowcount
        if not changed:  # another key was made meanwhile: what was read says nothing of it
            raise CHANGED
        if organizer_id is not None:
            detail = {"domain": domain.domain, "verified": verified_at is not None}
            audit(connection, organizer_id, "sending_domain.checked", detail, now)
        checked = sending_domain_of(connection, organizer_id)
    assert checked is not None
    return checked


def verified_address(connection: Connection, organizer_id: int) -> str | None:
    """The address the organizer's e-mails are sent From, once its domain is verified."""
    table = tables.sendingdomain
    return connection.execute(
        sa.select(table.c.address).where(
            table.c.organizer_id == organizer_id, table.c.verified_at.is_not(None)
        )
    ).scalar_one_or_none()


def signing_key(connection: Connection, box: SecretBox, domain: str) -> DkimKey | None:
    """The key that signs a message From ``domain``: the platform's, or a verified
    organizer's (its record is published: any such key verifies). None when there is none, or
    when its seal cannot be opened with the app's keys any more."""
    table = tables.sendingdomain
    row = connection.execute(
        sa.select(table.c.domain, table.c.selector, table.c.sealed_key)
        .where(
            table.c.domain == domain.lower(),
            sa.or_(table.c.organizer_id.is_(None), table.c.verified_at.is_not(None)),
        )
        # The platform's first, then the most recently verified.
        .order_by(table.c.organizer_id.is_(None).desc(), table.c.verified_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    try:
        private = box.open(row.sealed_key)["private_key"]
    except (SealBroken, KeyError):
        log.warning("the DKIM key of %s cannot be opened: messages go unsigned", row.domain)
        return None
    return DkimKey(row.domain, row.selector, private.encode("ascii"))


class DkimKeys:
    """The delivery's look-up of the key for a From domain (:func:`signing_key`), kept for
    ``ttl`` seconds: a worker sends thousands of messages From the same few domains, and a key
    made or verified meanwhile is in use within the minute."""

    def __init__(self, engine: Engine, box: SecretBox, ttl: float = 30.0) -> None:
        self.engine = engine
        self.box = box
        self.ttl = ttl
        self._kept: dict[str, tuple[float, DkimKey | None]] = {}

    def __call__(self, domain: str) -> DkimKey | None:
        moment = time.monotonic()
        kept = self._kept.get(domain)
        if kept is not None and moment - kept[0] < self.ttl:
            return kept[1]
        with self.engine.connect() as connection:
            key = signing_key(connection, self.box, domain)
        self._kept[domain] = (moment, key)
        return key


KeyLookup = Callable[[str], DkimKey | None]

__all__ = [
    "DkimKey",
    "DkimKeys",
    "DnsLookup",
    "DnsRecord",
    "DnsUnavailable",
    "KeyLookup",
    "RecordKind",
    "RecordStatus",
    "SenderAddressInvalid",
    "SendingDomain",
    "TxtLookup",
    "check_sending_domain",
    "dkim_signature",
    "selector_for",
    "sending_domain_of",
    "set_sending_address",
    "signing_key",
    "verified_address",
]
