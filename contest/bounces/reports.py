"""Reading a returned message: a bounce, a complaint, or nothing to act on. Pure: the raw
bytes in, a report out; the standard library's ``email`` package only, no database, no clock.

What a message can be
    :class:`DeliveryReport`, a delivery status notification (DSN, RFC 3464): a
    ``multipart/report`` holding a ``message/delivery-status`` part (RFC 6533's
    ``message/global-delivery-status`` too), whose first block is about the message and each
    next block about one recipient (``Final-Recipient``, ``Original-Recipient``, ``Action``,
    ``Status``, ``Diagnostic-Code``), then the original message (``message/rfc822``) or its
    headers only (``text/rfc822-headers``).
    :class:`Complaint`, an abuse feedback report (ARF, RFC 5965): a ``multipart/report`` holding
    a ``message/feedback-report`` part (``Feedback-Type``, ``Original-Rcpt-To``...), then the
    message complained about, often with its recipient's address blanked by the provider.
    :class:`NotAReport`: anything else (an auto-reply, a person's answer, a read receipt).

    The report part is looked for in the whole MIME tree, so a report forwarded as an
    attachment is read too. Either report carries the Message-ID of the original when its
    headers came back, which tells which message, hence which outbox row, it is about.

When an address is undeliverable
    A recipient whose ``Action`` is ``failed`` with a permanent ``Status`` (5.x.x): the address
    is refused for good. ``delayed``, a transient status (4.x.x, also for a ``failed`` message
    given up after days of retries), ``delivered``, ``relayed`` and ``expanded`` say nothing of
    the address. Nor does a permanent failure whose status (RFC 3463) blames the message or
    its sender rather than the mailbox: security or policy (X.7.x, where a receiver refusing
    the sending server as spam answers), content (X.6.x), mailbox full (X.2.2), message too
    long or too big (X.2.3, X.3.4), mail system full (X.3.1), delivery time expired (X.4.7).
    Marking every recipient of a blocked server undeliverable would lose them all for good.
    Without a ``Status``, the SMTP reply in ``Diagnostic-Code`` (``smtp; 550 5.1.1 ...``)
    stands for it.
"""

from __future__ import annotations

import base64
import email
import email.policy
import quopri
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr

# What is read of a returned message at most: the report comes before the original message.
MAX_REPORT_BYTES = 1024 * 1024
STATUS_PARTS = frozenset({"message/delivery-status", "message/global-delivery-status"})
FEEDBACK_PARTS = frozenset({"message/feedback-report"})
REPORT_PARTS = STATUS_PARTS | FEEDBACK_PARTS
ORIGINAL_PARTS = frozenset(
    {
        "message/rfc822",
        "text/rfc822-headers",
        "message/rfc822-headers",  # not registered, but sent by some servers
        "message/global",
        "message/global-headers",
    }
)
# Permanent failures that blame the message or its sender, not the address (see the module).
NOT_THE_ADDRESS_SUBJECTS = frozenset({"6", "7"})
NOT_THE_ADDRESS_DETAILS = frozenset({("2", "2"), ("2", "3"), ("3", "1"), ("3", "4"), ("4", "7")})
ENHANCED_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
SMTP_REPLY = re.compile(r"\b([245])\d\d\b")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient's block of a DSN."""

    address: str  # the address the message was sent to (Original-Recipient, or Final-Recipient)
    action: str  # failed, delayed, delivered, relayed or expanded (lowercase)
    status: str  # the enhanced status code, ``5.1.1``; "" when none could be read

    @property
    def undeliverable(self) -> bool:
        """Refused for good because of the address itself (see the module's docstring)."""
        if self.action != "failed" or not self.status.startswith("5."):
            return False
        _, subject, detail = self.status.split(".")
        return (
            subject not in NOT_THE_ADDRESS_SUBJECTS
            and (subject, detail) not in NOT_THE_ADDRESS_DETAILS
        )


@dataclass(frozen=True)
class DeliveryReport:
    """A delivery status notification (RFC 3464)."""

    recipients: tuple[RecipientStatus, ...]
    original_message_id: str  # ``<...>`` as the original carried it; "" when not returned

    @property
    def undeliverable(self) -> tuple[str, ...]:
        """The addresses refused for good, each once."""
        return tuple(dict.fromkeys(r.address for r in self.recipients if r.undeliverable))


@dataclass(frozen=True)
class Complaint:
    """A feedback report (ARF, RFC 5965): someone marked the message as spam (``abuse``)."""

    feedback_type: str  # abuse, fraud, virus, other, not-spam... (lowercase)
    recipients: tuple[str, ...]  # Original-Rcpt-To, else the original's To (often blanked)
    original_message_id: str

    @property
    def abuse(self) -> bool:
        """A complaint about unwanted mail: the one kind that speaks for the recipient."""
        return self.feedback_type == "abuse"


@dataclass(frozen=True)
class NotAReport:
    """Nothing to act on, and why."""

    reason: str


Report = DeliveryReport | Complaint | NotAReport


def parse_report(raw: bytes) -> Report:
    """What the message is. Never raises: a message that cannot be read is not a report."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        return _report_of(message)
    except Exception as exc:  # a malformed message must not stop the ones after it
        return NotAReport(f"unreadable message ({type(exc).__name__})")


def _report_of(message: Message) -> Report:
    for part in message.walk():
        payload = part.get_payload() if part.is_multipart() else None
        if not isinstance(payload, list):
            continue
        children = [child for child in payload if isinstance(child, Message)]
        found = next((c for c in children if c.get_content_type() in REPORT_PARTS), None)
        if found is None:
            continue
        original = next((c for c in children if c.get_content_type() in ORIGINAL_PARTS), None)
        headers = _original_headers(original) if original is not None else None
        message_id = _message_id(headers) if headers is not None else ""
        if found.get_content_type() in STATUS_PARTS:
            return _delivery_report(found, message_id)
        return _complaint(found, headers, message_id)
    return NotAReport("no delivery status or feedback report in the message")


# --- Delivery status notifications ------------------------------------------------------------


def _delivery_report(part: Message, message_id: str) -> Report:
    blocks = _field_blocks(part)
    recipients = tuple(
        status
        for block in blocks  # the first is about the message: it names no recipient
        if (status := _recipient_status(block)) is not None
    )
    if not recipients:
        return NotAReport("a delivery status naming no recipient")
    return DeliveryReport(recipients, message_id)


def _field_blocks(part: Message) -> list[Message]:
    """The DSN's blocks of fields. The ``email`` package parses ``message/delivery-status``
    into one message per block; other shapes (the global type, an encoded part) are split on
    their blank lines here."""
    payload = part.get_payload()
    if isinstance(payload, list) and len(payload) > 1:
        return [block for block in payload if isinstance(block, Message)]
    text = _text_of(part).strip()
    parser = HeaderParser(policy=email.policy.compat32)
    return [parser.parsestr(block.strip() + "\n") for block in BLANK_LINE.split(text) if block]


def _recipient_status(block: Message) -> RecipientStatus | None:
    address = _typed_address(block.get("Original-Recipient")) or _typed_address(
        block.get("Final-Recipient")
    )
    if not address:
        return None
    action = _field(block, "Action").lower().split(" ", 1)[0]
    status = _status(_field(block, "Status")) or _status_of_reply(_field(block, "Diagnostic-Code"))
    return RecipientStatus(address, action, status)


def _typed_address(value: object) -> str:
    """``rfc822; ann@example.org`` (or ``utf-8;`` for RFC 6533): the address; "" for any
    other address type or something that is not an address."""
    if value is None:
        return ""
    kind, semicolon, rest = _clean(value).partition(";")
    if semicolon and kind.strip().lower() not in {"rfc822", "utf-8"}:
        return ""
    return _address(rest if semicolon else kind)


def _status(value: str) -> str:
    match = ENHANCED_STATUS.match(value.strip())
    return ".".join(match.groups()) if match else ""


def _status_of_reply(diagnostic: str) -> str:
    """From ``smtp; 550 5.1.1 <ann@...>: user unknown``: the enhanced code, or the reply's
    class alone (``5.0.0``) when the server gave none."""
    kind, _, reply = diagnostic.partition(";")
    if kind.strip().lower() != "smtp":
        return ""
    enhanced = ENHANCED_STATUS.search(reply)
    if enhanced:
        return ".".join(enhanced.groups())
    basic = SMTP_REPLY.search(reply)
    return f"{basic.group(1)}.0.0" if basic else ""


# --- Feedback reports -------------------------------------------------------------------------


def _complaint(part: Message, original: Message | None, message_id: str) -> Report:
    fields = HeaderParser(policy=email.policy.compat32).parsestr(_text_of(part).strip() + "\n")
    feedback_type = _field(fields, "Feedback-Type").lower().split(" ", 1)[0]
    if not feedback_type:
        return NotAReport("a feedback report without its Feedback-Type")
    named = [*fields.get_all("Original-Rcpt-To", []), *fields.get_all("Removal-Recipient", [])]
    recipients = [_address(_clean(value)) for value in named]
    if not any(recipients) and original is not None:
        to = [_clean(value) for value in original.get_all("To", [])]
        recipients = [_address(address) for _, address in getaddresses(to)]
    found = tuple(dict.fromkeys(address for address in recipients if address))
    return Complaint(feedback_type, found, message_id)


# --- Shared -----------------------------------------------------------------------------------


def _original_headers(part: Message) -> Message | None:
    """The original message's headers: the embedded message, or the headers sent as text."""
    payload = part.get_payload()
    if isinstance(payload, list):
        first = payload[0] if payload else None
        return first if isinstance(first, Message) else None
    text = _text_of(part)
    return HeaderParser(policy=email.policy.compat32).parsestr(text) if text.strip() else None


def _message_id(headers: Message) -> str:
    found = MESSAGE_ID.search(_clean(headers.get("Message-ID", "")))
    return found.group(0) if found else ""


def _text_of(part: Message) -> str:
    """A part's text, its transfer encoding undone. The ``email`` package reads the body of a
    ``message/*`` part as a message of its own: the text is then written back from it."""
    charset = part.get_content_charset() or "utf-8"
    payload = part.get_payload()
    if isinstance(payload, list):
        data = b"\n".join(inner.as_bytes() for inner in payload if isinstance(inner, Message))
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding == "base64":  # allowed for the global types (RFC 6533)
            data = base64.b64decode(data)
        elif encoding == "quoted-printable":
            data = quopri.decodestring(data)
        return _decoded(data, charset)
    decoded = part.get_payload(decode=True)
    if isinstance(decoded, bytes):
        return _decoded(decoded, charset)
    return payload if isinstance(payload, str) else ""


def _decoded(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")


def _field(block: Message, name: str) -> str:
    value = block.get(name)
    return _clean(value) if value is not None else ""


def _clean(value: object) -> str:
    """A header's value on one line, its 8-bit bytes (kept escaped by the parser) read as
    UTF-8."""
    text = str(value).encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
    return " ".join(text.split())


def _address(text: str) -> str:
    """The bare address in ``<ann@example.org>``, ``Ann <ann@...>`` or ``ann@...``; "" when
    there is none (a provider's blanked ``redacted`` recipient, say)."""
    address = parseaddr(text.strip())[1].strip()
    local, at, domain = address.rpartition("@")
    return address if at and local and "." in domain else ""
