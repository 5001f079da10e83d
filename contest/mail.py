"""Turning outbox rows into e-mails and delivering them: SMTP, or .eml files in development.

With ``CONTEST_SMTP_URL`` unset, each message is written atomically as an ``.eml`` file under
``CONTEST_DATA_DIR/mail/``, named after its idempotency key, so a retried delivery overwrites
instead of duplicating.

Over SMTP delivery is at least once (see :mod:`contest.outbox`): a process killed after the
server accepted a message and before the row is marked sent sends it again after the lease.
Each message's Message-ID is therefore stable, derived from its outbox row
(``<outbox-{id}.{hash of the idempotency key}@{domain of CONTEST_BASE_URL}>``): every copy of
one row carries the same one, and receivers (and people) can tell a resent copy from a new one.
"""

from __future__ import annotations

import dataclasses
import email.policy
import hashlib
import logging
import os
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from jinja2 import TemplateError
from sqlalchemy import Engine

from contest import campaigns, outbox, roles, sendingdomains, tables
from contest.clock import SYSTEM_CLOCK
from contest.contests import ContestCache, ContestView, load_contest
from contest.draw.results import draw_result
from contest.i18n import gettext
from contest.leads.subscriptions import (
    ONE_CLICK,
    unsubscribe_headers,
    unsubscribe_token,
    unsubscribe_url,
)
from contest.members import invitation_key
from contest.outbox import OutboxItem, Undeliverable
from contest.prizes import claims
from contest.sendingdomains import KeyLookup
from contest.settings import Settings
from contest.templating import Templates
from contest.tokens import Purpose, Signer

log = logging.getLogger(__name__)


class HeaderClasses(HeaderRegistry):
    """The standard header classes, each made once.

    ``HeaderRegistry`` makes a new class for every header it parses (``type(...)`` at each
    look-up): building a message spent a tenth of its time there, and the collector more."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


HEADERS = HeaderClasses()
# The headers the builder writes itself (the MIME ones are set by the email package).
VERBATIM = frozenset(
    {
        "auto-submitted",
        "date",
        "from",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "message-id",
        "reply-to",
        "subject",
        "to",
    }
)
LONGEST_LINE = 998  # RFC 5322, CRLF aside


class MailPolicy(email.policy.EmailPolicy):
    """``email.policy.SMTP`` that keeps the builder's own headers as the text it gives when
    that text is printable ASCII on one line (addresses and names already encoded by
    ``formataddr``): it goes out as given, rather than parsed into a header object and folded
    again, which was a third of a message's making. Anything else (a subject with accents, a
    line break) is parsed as before: encoded words, and header injection refused. Reading a
    header back (``message["To"]``) still gives the parsed header."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if (
            isinstance(value, str)
            and name.lower() in VERBATIM
            and value.isascii()
            and value.isprintable()
            and len(name) + 2 + len(value) <= LONGEST_LINE
        ):
            return name, value
        return super().header_store_parse(name, value)


# SMTP line endings; long headers (List-Unsubscribe URLs) are never folded into encoded words.
MAIL_POLICY = MailPolicy(linesep="\r\n", max_line_length=LONGEST_LINE, header_factory=HEADERS)
# What the bodies are encoded under: 7-bit safe (quoted-printable or base64 for any text that
# is not plain ASCII) in lines of at most 78 characters, so that no relay has to convert them
# (which would break their DKIM signature) and no receiver needs 8BITMIME.
BODY_POLICY = MailPolicy(linesep="\r\n", cte_type="7bit", header_factory=HEADERS)
# With an address that is not ASCII (SMTPUTF8): headers in UTF-8.
INTERNATIONAL_POLICY = MAIL_POLICY.clone(utf8=True)


class HardBounce(Undeliverable):
    """The receiving server refused the address for good (a 5xx): never retried, and the
    address is marked undeliverable."""

    def __init__(self, recipient: str, code: int) -> None:
        super().__init__(f"address refused by the receiving server ({code})")
        self.recipient = recipient


class MessageBuilder:
    def __init__(self, settings: Settings, engine: Engine, templates: Templates, signer: Signer):
        self.settings = settings
        self.engine = engine
        self.templates = templates
        self.signer = signer
        self.contests = ContestCache(engine)
        self._campaign_texts: dict[tuple[int, str], campaigns.CampaignMessage] = {}
        # Each organizer's verified sending address, read once per batch of messages.
        self._own_addresses: dict[int, str | None] = {}

    def new_batch(self) -> None:
        """Forgets what was read for the previous batch (a domain verified since counts)."""
        self._own_addresses.clear()

    # template -> (token purpose, payload key, path of the confirmation link under /c/{slug}/)
    LINKS = {
        "confirm": (Purpose.CONFIRM, "entry", "confirm"),
        "interest_confirm": (Purpose.CONFIRM_INTEREST, "consent", "interest/confirm"),
    }

    def _context(self, item: OutboxItem) -> dict[str, object]:
        """The template's values; its links carry the message's language, so that a link
        opened in another browser shows the page in the language of the e-mail."""
        if item.template in {"win", "voucher"}:
            with self.engine.connect() as connection:
                contest = load_contest(connection, item.payload["slug"])
                award = claims.award(connection, int(item.payload["award"]))
            if contest is None or award is None:
                raise Undeliverable("contest or award gone")
            token = self.signer.sign(Purpose.CLAIM, award.id)
            base = f"{self.settings.base_url}/c/{contest.slug}"
            return {
                "contest": contest,
                "award": award,
                "claim_url": f"{base}/claim/{token}?lang={item.language}",
                "rules_url": f"{base}/rules?lang={item.language}",
            }
        if item.template == "invitation":
            with self.engine.connect() as connection:
                contest = load_contest(connection, item.payload["slug"])
            if contest is None:
                raise Undeliverable("contest gone")
            optout = self.signer.sign(Purpose.INVITE_OPTOUT, item.payload["hashed"])
            base = self.settings.base_url
            return {
                "contest": contest,
                "referrer_name": item.payload["referrer_name"],
                "invite_url": f"{base}/r/{item.payload['code']}",
                "optout_url": f"{base}/invite-optout/{optout}?lang={item.language}",
                "rules_url": f"{base}/c/{contest.slug}/rules?lang={item.language}",
            }
        if item.template == "friends_confirmed":
            return self._entrant(item) | {
                "friends": int(item.payload["friends"]),
                "chances": int(item.payload["chances"]),
            }
        if item.template in {"not_eligible", "already_entered"}:
            return self._truth(item)
        if item.template == "last_days":
            return self._last_days(item)
        if item.template == "results":
            return self._results(item)
        if item.template == "rules_changed":
            return self._rules_changed(item)
        if item.template == "campaign":
            return self._campaign(item)
        if item.template == "password_reset":
            token = self.signer.sign(
                Purpose.RESET,
                [item.payload["organizer"], item.payload["version"], item.payload.get("member", 0)],
            )
            return {
                "reset_url": f"{self.settings.base_url}/admin/password-reset/{token}"
                f"?lang={item.language}"
            }
        if item.template == "member_invitation":
            payload = item.payload
            key = invitation_key(item.recipient)
            token = self.signer.sign(Purpose.JOIN, [payload["member"], payload["version"], key])
            role = roles.LABELS[roles.Role(payload["role"])]
            return {
                "join_url": f"{self.settings.base_url}/admin/join/{token}?lang={item.language}",
                "inviter": payload["inviter"],
                "workspace": payload["workspace"],
                "role": gettext(item.language, role).lower(),
            }
        if item.template not in self.LINKS:
            raise Undeliverable(f"unknown template {item.template}")
        purpose, key, path = self.LINKS[item.template]
        contest = self.contests.get(item.payload["slug"])  # one read per contest, not per mail
        if contest is None:
            raise Undeliverable("contest gone")
        token = self.signer.sign(purpose, item.payload[key])
        base = f"{self.settings.base_url}/c/{contest.slug}"
        preferences = None
        if "person" in item.payload:  # the entry gave a marketing consent too
            person = unsubscribe_token(
                self.signer, contest.organizer_id, int(item.payload["person"])
            )
            preferences = f"{unsubscribe_url(self.settings.base_url, person)}?lang={item.language}"
        return {
            "contest": contest,
            "confirm_url": f"{base}/{path}/{token}?lang={item.language}",
            "rules_url": f"{base}/rules?lang={item.language}",
            "preferences_url": preferences,
            "reminder": bool(item.payload.get("reminder")),
        }

    def _last_days(self, item: OutboxItem) -> dict[str, object]:
        """A marketing e-mail: it carries the person's preferences link and the RFC 8058
        headers that withdraw the consent in one click."""
        links = self._entrant(item)
        organizer_id = links["contest"].organizer_id
        person = unsubscribe_token(self.signer, organizer_id, int(item.payload["person"]))
        return links | {
            "chances": int(item.payload["chances"]),
            "share_url": f"{self.settings.base_url}/r/{item.payload['code']}?lang={item.language}"
            if item.payload.get("code")
            else None,
            "unsubscribe_url": f"{unsubscribe_url(self.settings.base_url, person)}"
            f"?lang={item.language}",
            "list_unsubscribe": unsubscribe_headers(self.settings.base_url, person),
        }

    def _campaign(self, item: OutboxItem) -> dict[str, object]:
        """A campaign's message: the organizer's text, the contest's tracked link, and for a
        real recipient (not a test) the preferences link and the one-click headers."""
        key = (int(item.payload["campaign"]), item.language)
        text = self._campaign_texts.get(key)
        if text is None:
            with self.engine.connect() as connection:
                text = campaigns.message_of(connection, *key)
            if text is not None and text.final:  # a started campaign's text never changes
                if len(self._campaign_texts) > 1000:
                    self._campaign_texts.clear()
                self._campaign_texts[key] = text
        contest = self.contests.get(text.contest_slug) if text is not None else None
        if text is None or contest is None:
            raise Undeliverable("campaign or contest gone")
        base = self.settings.base_url
        context: dict[str, object] = {
            "contest": contest,
            "message": text,
            "link_url": f"{base}/s/{text.link_code}?lang={item.language}",
            "rules_url": f"{base}/c/{contest.slug}/rules?lang={item.language}",
            "test": item.payload.get("person") is None,
            "as_client": bool(item.payload.get("client")),
            "unsubscribe_url": None,
        }
        if item.payload.get("person") is not None:
            person = unsubscribe_token(self.signer, text.organizer_id, int(item.payload["person"]))
            context["unsubscribe_url"] = f"{unsubscribe_url(base, person)}?lang={item.language}"
            context["list_unsubscribe"] = unsubscribe_headers(base, person)
        return context

    def _results(self, item: OutboxItem) -> dict[str, object]:
        with self.engine.connect() as connection:
            contest = load_contest(connection, item.payload["slug"])
            result = draw_result(connection, contest) if contest is not None else None
        if contest is None or result is None:
            raise Undeliverable("contest or draw gone")
        ticket = item.payload["entry"]
        own = self.signer.sign(Purpose.ME, ticket)
        base = f"{self.settings.base_url}/c/{contest.slug}"
        return {
            "contest": contest,
            "result": result,
            "ticket": ticket,
            "won": [winner.rank for winner in result.record.winners if winner.ticket == ticket],
            "page_url": f"{base}?lang={item.language}",
            "record_url": f"{base}/draw.json",
            "own_url": f"{base}/me/{own}?lang={item.language}",
            "rules_url": f"{base}/rules?lang={item.language}",
        }

    def _entrant(self, item: OutboxItem) -> dict[str, Any]:
        """What every mail to an entrant carries: the contest (from the snapshot cache), the
        entrant's own page and the rules, in the mail's language."""
        contest = self.contests.get(item.payload["slug"])
        if contest is None:
            raise Undeliverable("contest gone")
        own = self.signer.sign(Purpose.ME, item.payload["entry"])
        base = f"{self.settings.base_url}/c/{contest.slug}"
        return {
            "contest": contest,
            "own_url": f"{base}/me/{own}?lang={item.language}",
            "rules_url": f"{base}/rules?lang={item.language}",
        }

    def _rules_changed(self, item: OutboxItem) -> dict[str, object]:
        """A transactional notice: the rules the entrant accepted have changed, and why."""
        links = self._entrant(item)
        base = f"{self.settings.base_url}/c/{links['contest'].slug}"
        return links | {
            "reason": item.payload["reason"],
            "versions_url": f"{base}/rules/versions?lang={item.language}",
        }

    def _sender(self, contest: object) -> str:
        """The organizer's own address once its sending domain is verified
        (contest.sendingdomains); until then the platform's, under the organization's name
        when it gave one."""
        name = getattr(contest, "organizer_sender_name", "") or getattr(
            contest, "organizer_name", ""
        )
        organizer_id = getattr(contest, "organizer_id", None)
        own = None
        if isinstance(organizer_id, int):
            if organizer_id in self._own_addresses:
                own = self._own_addresses[organizer_id]
            else:
                with self.engine.connect() as connection:
                    own = sendingdomains.verified_address(connection, organizer_id)
                self._own_addresses[organizer_id] = own
        if not name:
            return own or self.settings.mail_from
        return formataddr((name, own or parseaddr(self.settings.mail_from)[1]))

    def _truth(self, item: OutboxItem) -> dict[str, object]:
        """What the page did not say, so as not to tell a stranger about the address: that it
        cannot take part in a client-only contest (with why, which for a prospect ends with the
        one sentence prospects may read, and a way to hear of client-only contests), or that it
        had already entered."""
        contest = self.contests.get(item.payload["slug"])
        if contest is None:
            raise Undeliverable("contest gone")
        base = f"{self.settings.base_url}/c/{contest.slug}"
        values: dict[str, object] = {
            "contest": contest,
            "rules_url": f"{base}/rules?lang={item.language}",
        }
        if item.template == "already_entered":
            own = self.signer.sign(Purpose.ME, item.payload["entry"])
            return {**values, "own_url": f"{base}/me/{own}?lang={item.language}"}
        token = self.signer.sign(Purpose.INTEREST, [contest.slug, item.recipient])
        return {
            **values,
            # The refusal of a prospect ends with the fixed FR-CLIENTS-2 sentence; a client
            # outside the contest's segment is not told to become one.
            "reason": item.payload["reason"],
            "interest_url": f"{base}/interest?token={token}&lang={item.language}",
        }

    def build(self, item: OutboxItem) -> EmailMessage:
        """Renders ``mail/{template}.*`` with a freshly signed link."""
        context = {**self._context(item), "base_url": self.settings.base_url}
        name = f"mail/{item.template}"
        language = item.language
        contest = context.get("contest")
        french: dict[str, Any] | None = None
        if isinstance(contest, ContestView):  # its texts in the language of the message
            context["contest"] = contest.in_language(language)
            if language != "fr" and "FR" in contest.jurisdictions:
                # FR-LANG-1: a contest aimed at France writes in French; another language
                # comes alongside, never instead. Its values are the French ones (links,
                # a campaign's French text), as for a message sent in French.
                french = {
                    **self._context(dataclasses.replace(item, language="fr")),
                    "base_url": self.settings.base_url,
                    "contest": contest.in_language("fr"),
                }
        message = EmailMessage(policy=BODY_POLICY)
        subject = self.templates.render(language, f"{name}.subject.txt", **context).strip()
        if french is not None:
            subject += " / " + self.templates.render("fr", f"{name}.subject.txt", **french).strip()
        message["Subject"] = subject
        message["From"] = self._sender(context.get("contest"))
        reply_to = getattr(context.get("contest"), "organizer_reply_to", "")
        if reply_to:
            message["Reply-To"] = reply_to
        message["To"] = item.recipient
        message["Date"] = format_datetime(SYSTEM_CLOCK.now())
        message["Message-ID"] = message_id(item, _id_domain(self.settings))
        message["Auto-Submitted"] = "auto-generated"
        if "optout_url" in context:
            message["List-Unsubscribe"] = f"<{context['optout_url']}>"
            message["List-Unsubscribe-Post"] = ONE_CLICK
        headers = context.get("list_unsubscribe")
        if isinstance(headers, dict):  # a marketing e-mail to a known person
            for header, value in headers.items():
                message[header] = value
        text = self.templates.render(language, f"{name}.txt", **context)
        html = self.templates.render(language, f"{name}.html", **context)
        if french is not None:
            text, html = _with_french(
                text,
                html,
                self.templates.render("fr", f"{name}.txt", **french),
                self.templates.render("fr", f"{name}.html", **french),
            )
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        one_mime_version(message)
        message.policy = MAIL_POLICY  # the bodies are encoded: long headers are not folded
        return message


def _with_french(text: str, html: str, french_text: str, french_html: str) -> tuple[str, str]:
    """The message followed by its French version: the text after a separator line, before
    the signature (mail readers grey out what follows "-- "); the HTML's body in a
    ``lang="fr"`` block before the end of the first one's."""
    text = text.rstrip().rpartition("\n-- \n")[0] or text.rstrip()
    text = f"{text}\n\n---------- En français ----------\n\n{french_text}"
    start = french_html.find(">", french_html.find("<body")) + 1
    inner = french_html[start : french_html.rfind("</body>")]
    block = f'<hr><div lang="fr">{inner}</div>'
    end = html.rfind("</body>")
    return text, html[:end] + block + html[end:] if end >= 0 else html + block


def message_id(item: OutboxItem, domain: str) -> str:
    """The same for every copy of one outbox row, so a copy sent again can be recognised."""
    digest = hashlib.sha256(item.idempotency_key.encode()).hexdigest()[:32]
    return f"<outbox-{item.id}.{digest}@{domain}>"


def _id_domain(settings: Settings) -> str:
    """The domain of CONTEST_BASE_URL (an IPv6 address as a literal)."""
    domain = settings.mail_domain
    return settings.address_domain if ":" in domain else domain


def one_mime_version(message: EmailMessage) -> None:
    """Leaves ``MIME-Version`` on the message alone: ``add_alternative`` makes its parts as
    whole messages, each with its own (RFC 2045 puts it in the top-level header only)."""
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]


class SmtpUtf8Missing(Undeliverable):
    """An address is not ASCII and the SMTP server does not take such addresses (it offers
    no SMTPUTF8): the message cannot go through this server, so it is not retried."""

    def __init__(self, address: str) -> None:
        super().__init__(
            f"the address {address!r} is not ASCII and the SMTP server does not offer SMTPUTF8"
        )


# An SMTP session is kept for the next message if it comes within this many seconds.
REUSE_FOR = 10.0
# Seconds to wait for the relay: to connect, and for each of its answers.
SMTP_TIMEOUT = 30.0
# What says the relay itself is unreachable or hung, rather than refusing one message.
RELAY_DOWN = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)


class Delivery:
    """Sends one message; raises on failure (the caller schedules the retry).

    The message is flattened once, and those bytes are what is signed (DKIM, with the key of
    the From domain when the installation has one: ``keys``, see contest.sendingdomains) and
    what is written or sent, so that the signature verifies on exactly what arrives. Over
    SMTP: the greeting names the host of CONTEST_BASE_URL; an address that is not ASCII is
    sent with SMTPUTF8 (refused, SmtpUtf8Missing, by a server without it); 8-bit bytes with
    BODY=8BITMIME.
    """

    def __init__(self, settings: Settings, keys: KeyLookup | None = None) -> None:
        self.settings = settings
        self.keys = keys
        self._client: smtplib.SMTP | None = None
        self._used_at = 0.0

    def __call__(self, message: EmailMessage, key: str) -> None:
        sender, recipients = _envelope(message)
        international = not all(address.isascii() for address in (sender, *recipients))
        raw = self.wire_bytes(message, international)
        if self.settings.smtp_url is None:
            self._write_eml(raw, key)
        else:
            self._send_smtp(sender, recipients, raw, international)

    def wire_bytes(self, message: EmailMessage, international: bool = False) -> bytes:
        """The message as it goes out (CRLF line ends), signed when a key is found."""
        raw = message.as_bytes(policy=INTERNATIONAL_POLICY if international else MAIL_POLICY)
        domain = parseaddr(_first_stored(message, "From"))[1].rpartition("@")[2].lower()
        found = self.keys(domain) if self.keys is not None and domain else None
        if found is None:
            return raw
        return sendingdomains.dkim_signature(raw, found) + raw

    def _write_eml(self, raw: bytes, key: str) -> None:
        folder = self.settings.mail_dir
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(key.encode()).hexdigest()[:24]
        # A message written again (a retry) replaces its first file. The small index maps the
        # key to that file, so finding it costs one read, not a scan of the whole folder.
        index = folder / ".index"
        index.mkdir(exist_ok=True)
        try:
            target = folder / (index / name).read_text()
        except FileNotFoundError:
            stamp = SYSTEM_CLOCK.now().strftime("%Y%m%dT%H%M%S%f")  # names sort in sending order
            target = folder / f"{stamp}-{name}.eml"
        temporary = folder / f".{name}.tmp"
        temporary.write_bytes(raw)
        os.replace(temporary, target)
        (index / name).write_text(target.name)

    def _send_smtp(
        self, sender: str, recipients: list[str], raw: bytes, international: bool
    ) -> None:
        kept = self._client is not None and time.monotonic() - self._used_at <= REUSE_FOR
        try:
            self._send_on(self._session(), sender, recipients, raw, international)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            self._drop()  # no QUIT: a hung server would make it wait a second timeout
            if not kept:  # a new session failed: the relay is down or hung, not an idle hang-up
                raise
            # The server hung up a session kept from an earlier message: once more on a new one.
            self._send_on(self._session(), sender, recipients, raw, international)

    def _session(self) -> smtplib.SMTP:
        """The open SMTP session, kept between messages sent in a row (a campaign sends
        thousands), opened afresh after ``REUSE_FOR`` seconds of quiet."""
        now = time.monotonic()
        if self._client is not None and now - self._used_at > REUSE_FOR:
            self.close()
        if self._client is None:
            self._client = self._connect()
        self._used_at = now
        return self._client

    def _connect(self) -> smtplib.SMTP:
        assert self.settings.smtp_url is not None
        url = urlsplit(self.settings.smtp_url.reveal())
        host = url.hostname or "localhost"
        greeting = self.settings.address_domain  # never the machine's own name (localhost)
        if url.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host,
                url.port or 465,
                local_hostname=greeting,
                timeout=SMTP_TIMEOUT,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(
                host, url.port or 25, local_hostname=greeting, timeout=SMTP_TIMEOUT
            )
        try:
            client.ehlo()
            if url.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
        except BaseException:
            client.close()
            raise
        return client

    def _drop(self) -> None:
        """Forgets the SMTP session, closing its socket without a word to the server."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def close(self) -> None:
        """Ends the SMTP session, if one is open."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()

    def _send_on(
        self,
        client: smtplib.SMTP,
        sender: str,
        recipients: list[str],
        raw: bytes,
        international: bool,
    ) -> None:
        options = []
        if international:
            if not client.has_extn("smtputf8"):
                raise SmtpUtf8Missing(next(a for a in (sender, *recipients) if not a.isascii()))
            options.append("SMTPUTF8")
        if not raw.isascii() and client.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        try:
            client.sendmail(sender, recipients, raw, mail_options=options)
        except smtplib.SMTPRecipientsRefused as refused:
            for recipient, (code, _text) in refused.recipients.items():
                if code >= 500:
                    raise HardBounce(recipient, code) from refused
            raise
        except smtplib.SMTPResponseException:
            self.close()  # the session's state is unknown after a refusal mid-message
            raise


def _envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """MAIL FROM (the Sender, else the From address) and RCPT TO (every To and Cc address)."""
    sender = parseaddr(_first_stored(message, "Sender", "From"))[1]
    fields = _stored(message, "To") + _stored(message, "Cc")
    return sender, [address for _name, address in getaddresses(fields) if address]


def _first_stored(message: EmailMessage, *names: str) -> str:
    """The first non-empty value among the headers ``names``, in that order, or ""."""
    return next((value for name in names for value in _stored(message, name) if value), "")


def _stored(message: EmailMessage, name: str) -> list[str]:
    """The values of the header ``name`` as text, read as stored: ``message[name]`` would parse
    each again (:class:`MailPolicy` keeps the builder's ASCII headers as given)."""
    wanted = name.lower()
    return [str(value) for key, value in message.raw_items() if key.lower() == wanted]


def forget_copies(folder: Path, address: str) -> int:
    """Deletes the copies of the messages sent to ``address`` kept as ``.eml`` files under the
    data folder (mail written to files when no SMTP server is set): an erasure reaches them
    too. Returns how many were deleted."""
    wanted = address.strip().lower()
    deleted = 0
    if not wanted or not folder.is_dir():
        return 0
    gone: set[str] = set()
    for path in folder.glob("*.eml"):
        with path.open("rb") as handle:
            head = email.message_from_binary_file(handle, policy=email.policy.default)
        recipients = {found.lower() for _, found in getaddresses([str(head.get("To", ""))])}
        if wanted in recipients:
            path.unlink(missing_ok=True)
            gone.add(path.name)
            deleted += 1
    index = folder / ".index"
    if gone and index.is_dir():  # a retry of such a message starts a new file
        for entry in index.iterdir():
            if entry.read_text() in gone:
                entry.unlink(missing_ok=True)
    return deleted


class Sender:
    """The sender loop: claims due outbox rows, builds, delivers, records the outcome."""

    def __init__(
        self,
        engine: Engine,
        builder: MessageBuilder,
        deliver: Callable[[EmailMessage, str], None],
        clock: Callable[[], datetime] = SYSTEM_CLOCK.now,
        shop: Callable[[OutboxItem], None] | None = None,
        maintenance: Callable[[datetime], object] | None = None,
        crm: Callable[[OutboxItem], None] | None = None,
    ) -> None:
        self.engine = engine
        self.builder = builder
        self.deliver = deliver
        self.clock = clock
        self.handlers = {k: v for k, v in (("shop", shop), ("crm", crm)) if v is not None}
        self.maintenance = maintenance
        self.wake = threading.Event()

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Delivers what is due now; returns how many messages were sent.

        Once ``stop`` is set, the message being sent is finished and recorded, and the rest of
        the batch handed back: stopping never leaves a sent message unrecorded, to be sent
        again, nor claimed messages waiting for their lease.
        """
        try:
            return self._run(stop)
        finally:
            close = getattr(self.deliver, "close", None)
            if close is not None:  # the SMTP session kept for the messages of this run
                close()

    def _run(self, stop: threading.Event | None) -> int:
        sent = 0
        # Once the relay is found down or hung, the e-mails left in this run wait for their
        # next attempt without trying it again: one timeout per run, not one per message
        # (shop and CRM calls, and stopping, would wait behind them).
        relay_down: str | None = None
        while stop is None or not stop.is_set():
            items = outbox.claim_due(self.engine, self.clock())
            if not items:
                return sent
            self.builder.new_batch()
            for index, item in enumerate(items):
                stopping = stop is not None and stop.is_set()
                if stopping or not outbox.may_start(item, self.clock()):
                    # Stopping, or a slow batch: hand the rest back rather than send past the
                    # lease, when another worker may already have taken the row.
                    outbox.release(self.engine, items[index:])
                    break
                if item.kind == "email" and relay_down is not None:
                    outbox.mark_failed(self.engine, item, self.clock(), relay_down)
                    continue
                try:
                    if item.kind != "email":
                        handler = self.handlers.get(item.kind)
                        if handler is None:
                            raise Undeliverable(f"no {item.kind} delivery in this process")
                        handler(item)
                    else:
                        message = self._built(item)
                        self.deliver(message, item.idempotency_key)
                except HardBounce as exc:
                    mark_undeliverable(self.engine, exc.recipient)
                    outbox.mark_failed(
                        self.engine,
                        OutboxItem(**{**item.__dict__, "attempts": outbox.MAX_ATTEMPTS}),
                        self.clock(),
                        str(exc),
                    )
                except Undeliverable as exc:
                    outbox.mark_failed(
                        self.engine,
                        OutboxItem(**{**item.__dict__, "attempts": outbox.MAX_ATTEMPTS}),
                        self.clock(),
                        str(exc),
                    )
                except Exception as exc:  # network, SMTP refusal, full disk...
                    log.warning(
                        "delivery of outbox message %s failed: %s", item.id, type(exc).__name__
                    )
                    outbox.mark_failed(
                        self.engine, item, self.clock(), f"{type(exc).__name__}: {exc}"
                    )
                    if item.kind == "email" and isinstance(exc, RELAY_DOWN):
                        relay_down = (
                            f"not tried: the mail relay was unreachable ({type(exc).__name__})"
                        )
                else:
                    # An invited friend's address is kept only until the message is sent.
                    scrub = item.template == "invitation"
                    outbox.mark_sent(self.engine, item, self.clock(), scrub_recipient=scrub)
                    sent += 1
        return sent

    def _built(self, item: OutboxItem) -> EmailMessage:
        """The message of ``item``; Undeliverable (never retried) when it can never be built,
        e.g. a header that would carry a line break: retrying gives the same error forever.
        The error's text is not kept: it may quote an address or a name."""
        try:
            return self.builder.build(item)
        except (ValueError, TemplateError) as exc:
            raise Undeliverable(f"the message cannot be built ({type(exc).__name__})") from exc

    def run_forever(self, stop: threading.Event, interval: float = 1.0) -> None:
        next_maintenance = 0.0
        while not stop.is_set():
            try:
                if self.maintenance is not None and time.monotonic() >= next_maintenance:
                    next_maintenance = time.monotonic() + 60
                    self.maintenance(self.clock())
                self.run_once(stop)
            except Exception:
                log.exception("sender loop error; retrying")
                time.sleep(interval)
            self.wake.wait(interval)
            self.wake.clear()


def mark_undeliverable(engine: Engine, address: str) -> None:
    """Marks every person with this address undeliverable (a hard bounce)."""
    person = tables.person
    with engine.begin() as connection:
        connection.execute(
            sa.update(person)
            .where(sa.func.lower(person.c.email) == address.lower())
            .values(undeliverable=True)
        )


def start_sender_thread(sender: Sender) -> tuple[threading.Thread, threading.Event]:
    """The sender loop in a thread, until the event returned is set.

    A process shutting down sets it, wakes the sender, and joins the thread: the message being
    sent is then recorded (see :meth:`Sender.run_once`) instead of cut off mid-way.
    """
    stop = threading.Event()
    thread = threading.Thread(
        target=sender.run_forever, args=(stop,), name="mail-sender", daemon=True
    )
    thread.start()
    return thread, stop


__all__ = ["Delivery", "MessageBuilder", "Sender", "Undeliverable", "start_sender_thread"]
