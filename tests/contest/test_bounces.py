"""Bounces and complaints that come back after sending: read (DSN, RFC 3464; ARF, RFC 5965),
then applied through the bounce mailbox (a Maildir the worker reads) and the relay's signed
webhook: an address refused for good is written to no more, a complaint withdraws the person's
marketing consents."""

from __future__ import annotations

import argparse
import email
import hashlib
import hmac
import mailbox
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage, Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest import tables
from contest.app import create_app
from contest.bounces.handling import CHANNEL, WORDING, handle_raw
from contest.bounces.maildir import CLAIM_LEASE, BounceMailbox
from contest.bounces.reports import (
    Complaint,
    DeliveryReport,
    NotAReport,
    RecipientStatus,
    parse_report,
)
from contest.cli import cmd_bounces
from contest.clock import FixedClock
from contest.leads.export import export_leads
from contest.mail import Sender
from contest.settings import Secret, Settings, SettingsError
from tests.contest.test_leads import new_shop, read_csv
from tests.contest.test_privacy import enter_with
from tests.helpers import LINKS, enter, read_eml

SECRET = "relay-signing-secret-0123456789"
OURS = "<outbox-12.0123456789abcdef0123456789abcdef@testserver>"

# A bounce as Postfix writes it (its notification, the delivery report, the returned headers).
POSTFIX_DSN = """\
Return-Path: <>
Received: by mail.example.net (Postfix)
\tid 3F2A81C0123; Mon, 23 Nov 2026 10:00:05 +0100 (CET)
Date: Mon, 23 Nov 2026 10:00:05 +0100 (CET)
From: MAILER-DAEMON@mail.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: no-reply@testserver
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="3F2A81C0123.1795424405/mail.example.net"
Content-Transfer-Encoding: 8bit
Message-Id: <20261123090005.3F2A81C0123@mail.example.net>

This is a MIME-encapsulated message.

--3F2A81C0123.1795424405/mail.example.net
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mail.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{recipient}>: host mx.example.org[192.0.2.25] said: 550 5.1.1
    <{recipient}>: Recipient address rejected: User unknown in virtual mailbox
    table (in reply to RCPT TO command)

--3F2A81C0123.1795424405/mail.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.net
X-Postfix-Queue-ID: 3F2A81C0123
X-Postfix-Sender: rfc822; no-reply@testserver
Arrival-Date: Mon, 23 Nov 2026 10:00:03 +0100 (CET)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected:
    User unknown in virtual mailbox table

--3F2A81C0123.1795424405/mail.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <no-reply@testserver>
Received: from testserver (localhost [127.0.0.1])
\tby mail.example.net (Postfix) with ESMTP id 3F2A81C0123
\tfor <{recipient}>; Mon, 23 Nov 2026 10:00:03 +0100 (CET)
Subject: Confirmez votre participation
From: Concours <no-reply@testserver>
To: {recipient}
Date: Mon, 23 Nov 2026 09:00:02 -0000
Message-ID: {message_id}
Auto-Submitted: auto-generated

--3F2A81C0123.1795424405/mail.example.net--
"""

# A complaint as Yahoo's feedback loop sends it: the recipient's address is blanked, the
# Message-ID stays.
YAHOO_ARF = """\
From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>
To: abuse@testserver
Subject: Yahoo! Mail AntiSpam Feedback
Date: Mon, 23 Nov 2026 09:58:12 +0000
Message-ID: <1795424292.81234.arf@arf.mail.yahoo.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
\tboundary="----=_Part_6231_1795424292"

------=_Part_6231_1795424292
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP 192.0.2.10 on
Mon, 23 Nov 2026 09:50:01 +0000. For more information about this format please see
http://www.mipassoc.org/arf/.

------=_Part_6231_1795424292
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 0.1
Original-Mail-From: <bounces@testserver>
Arrival-Date: Mon, 23 Nov 2026 09:50:01 +0000
Reported-Domain: testserver
Authentication-Results: mta1001.mail.ir2.yahoo.com  from=testserver;
  domainkeys=neutral (no sig);  from=testserver; dkim=pass (ok)

------=_Part_6231_1795424292
Content-Type: message/rfc822
Content-Disposition: inline

Received: from 192.0.2.10  (EHLO mail.testserver) (192.0.2.10)
  by mta1001.mail.ir2.yahoo.com with SMTP; Mon, 23 Nov 2026 09:50:01 +0000
From: Concours <no-reply@testserver>
To: redacted
Subject: Confirmez votre participation
Date: Mon, 23 Nov 2026 09:49:58 +0000
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

(body removed by the provider)

------=_Part_6231_1795424292--
"""


def raw(sample: str, **values: str) -> bytes:
    """A hand-written sample as it arrives: its placeholders filled, CRLF line ends."""
    return sample.format(**values).replace("\n", "\r\n").encode()


def fields(**values: str) -> Message:
    """One block of a delivery report."""
    block = Message()
    for name, value in values.items():
        block[name.replace("_", "-")] = value
    return block


def original(to: str, message_id: str) -> EmailMessage:
    sent = EmailMessage()
    sent["From"] = "Concours <no-reply@testserver>"
    sent["To"] = to
    sent["Subject"] = "Le jeu ferme bientôt"
    sent["Message-ID"] = message_id
    sent.set_content("Bonjour")
    return sent


def built_dsn(*recipients: Message, returned: Message | None = None) -> bytes:
    """A delivery report made with the email package: notification, status, the original."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery Subsystem <mailer-daemon@relay.example.net>"
    report["To"] = "no-reply@testserver"
    report["Subject"] = "Delivery Status Notification (Failure)"
    report.attach(MIMEText("Your message could not be delivered."))
    status = Message()
    status["Content-Type"] = "message/delivery-status"
    status.set_payload([fields(Reporting_MTA="dns; relay.example.net"), *recipients])
    report.attach(status)
    if returned is not None:
        report.attach(MIMEMessage(returned))
    return report.as_bytes()


def built_arf(
    complained: Message, *, feedback_type: str = "abuse", rcpt_to: str | None = None
) -> bytes:
    """A feedback report made with the email package, the complained-about message inside."""
    report = MIMEMultipart("report", report_type="feedback-report")
    report["From"] = "Feedback Loop <fbl@mail.example.com>"
    report["To"] = "abuse@testserver"
    report["Subject"] = "Abuse report"
    report.attach(MIMEText("A user of ours marked this message as spam."))
    feedback = [f"Feedback-Type: {feedback_type}", "User-Agent: ExampleFBL/1.0", "Version: 1"]
    if rcpt_to is not None:
        feedback.append(f"Original-Rcpt-To: <{rcpt_to}>")
    part = Message()
    part["Content-Type"] = "message/feedback-report"
    part.set_payload("\n".join(feedback) + "\n")
    report.attach(part)
    report.attach(MIMEMessage(complained))
    return report.as_bytes()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Contest-Signature": f"sha256={digest}", "Content-Type": "message/rfc822"}


# --- Reading a returned message --------------------------------------------------------------


def test_a_postfix_bounce_names_the_refused_address_and_the_message() -> None:
    report = parse_report(raw(POSTFIX_DSN, recipient="gone@example.org", message_id=OURS))
    assert report == DeliveryReport(
        (RecipientStatus("gone@example.org", "failed", "5.1.1"),), original_message_id=OURS
    )
    assert report.undeliverable == ("gone@example.org",)


def test_only_a_permanent_failure_of_the_address_makes_it_undeliverable() -> None:
    report = parse_report(
        built_dsn(
            fields(
                Original_Recipient="rfc822; <Ann@Example.org>",
                Final_Recipient="rfc822; ann.forwarded@example.net",
                Action="failed",
                Status="5.1.1",
            ),
            fields(Final_Recipient="rfc822; full@example.org", Action="failed", Status="5.2.2"),
            fields(Final_Recipient="rfc822; later@example.org", Action="delayed", Status="4.4.1"),
            fields(Final_Recipient="rfc822; expired@example.org", Action="failed", Status="4.4.7"),
            fields(Final_Recipient="rfc822; blocked@example.org", Action="failed", Status="5.7.1"),
            fields(Final_Recipient="rfc822; fine@example.org", Action="delivered", Status="2.0.0"),
            fields(
                Final_Recipient="rfc822; nostatus@example.org",
                Action="failed",
                Diagnostic_Code="smtp; 550 No such user here",
            ),
            fields(Final_Recipient="x400; c=FR;a=;p=Example", Action="failed", Status="5.1.1"),
            returned=original("ann@example.org", OURS),
        )
    )
    assert isinstance(report, DeliveryReport) and report.original_message_id == OURS
    # The address written to, not the one it was forwarded to; a server answering only
    # "550" (no enhanced code) refuses the address as surely.
    assert report.undeliverable == ("Ann@Example.org", "nostatus@example.org")
    statuses = {r.address: r.status for r in report.recipients}
    assert statuses["nostatus@example.org"] == "5.0.0"
    assert "c=FR;a=;p=Example" not in statuses, "an address type that is not mail is left out"


def test_a_complaint_names_the_recipient_from_the_report_or_the_original() -> None:
    complained = original("ann@example.org", OURS)
    named = parse_report(built_arf(complained, rcpt_to="ann.b@example.org"))
    assert named == Complaint("abuse", ("ann.b@example.org",), OURS)
    assert named.abuse
    from_to = parse_report(built_arf(complained))
    assert from_to == Complaint("abuse", ("ann@example.org",), OURS)
    assert not parse_report(built_arf(complained, feedback_type="not-spam")).abuse  # type: ignore[union-attr]


def test_a_yahoo_complaint_keeps_the_message_id_when_the_address_is_blanked() -> None:
    report = parse_report(raw(YAHOO_ARF, message_id=OURS))
    assert report == Complaint("abuse", (), OURS)


def test_a_report_forwarded_as_an_attachment_is_read() -> None:
    report = raw(POSTFIX_DSN, recipient="gone@example.org", message_id=OURS)
    forward = MIMEMultipart()
    forward["Subject"] = "Fwd: Undelivered Mail Returned to Sender"
    forward.attach(MIMEText("See below."))
    forward.attach(MIMEMessage(email.message_from_bytes(report)))
    found = parse_report(forward.as_bytes())
    assert isinstance(found, DeliveryReport) and found.undeliverable == ("gone@example.org",)


def test_an_internationalised_delivery_report_is_read() -> None:
    """RFC 6533: ``message/global-delivery-status``, a UTF-8 address typed ``utf-8``."""
    report = MIMEMultipart("report", report_type="global-delivery-status")
    report.attach(MIMEText("Undeliverable"))
    status = Message()
    status["Content-Type"] = "message/global-delivery-status"
    status.set_payload(
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: utf-8; andré@exemple.fr\nAction: failed\nStatus: 5.1.1\n",
        charset="utf-8",
    )
    report.attach(status)
    found = parse_report(report.as_bytes())
    assert isinstance(found, DeliveryReport) and found.undeliverable == ("andré@exemple.fr",)


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"\xff\xfe not mail at all \x00",
        b"From: ann@example.org\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\n"
        b"I am away until Monday.\r\n",
        # a read receipt (RFC 8098) is a report, but of another kind
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nRead.\r\n--b\r\n"
        b"Content-Type: message/disposition-notification\r\n\r\n"
        b"Final-Recipient: rfc822; ann@example.org\r\nDisposition: manual-action/MDN-sent-"
        b"manually; displayed\r\n--b--\r\n",
        # a delivery report that names no recipient
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.org\r\n--b--\r\n",
    ],
    ids=["empty", "binary", "auto-reply", "read-receipt", "no-recipient"],
)
def test_what_is_not_a_report(message: bytes) -> None:
    assert isinstance(parse_report(message), NotAReport)


def test_the_settings_of_both_doors() -> None:
    env = {"CONTEST_DATA_DIR": "unused", "CONTEST_SECRET_KEY": "k" * 40}
    unset = Settings.from_env(env)
    assert unset.bounce_maildir is None and unset.bounce_webhook_secret is None
    both = Settings.from_env(
        {
            **env,
            "CONTEST_BOUNCE_MAILDIR": "/var/mail/bounces",
            "CONTEST_BOUNCE_WEBHOOK_SECRET": SECRET,
        }
    )
    assert both.bounce_maildir == Path("/var/mail/bounces")
    assert both.bounce_webhook_secret == Secret(SECRET) and SECRET not in repr(both)
    with pytest.raises(SettingsError, match="at least 16"):
        Settings.from_env({**env, "CONTEST_BOUNCE_WEBHOOK_SECRET": "short"})


# --- Through the doors -----------------------------------------------------------------------


def message_id_of(settings: Settings, address: str) -> str:
    [sent] = [m for m in read_eml(settings.mail_dir) if m["To"] == address][-1:]
    return str(sent["Message-ID"])


def person_row(engine: Engine, address: str) -> sa.Row[tuple[int, bool]]:
    person = tables.person
    with engine.connect() as connection:
        return connection.execute(
            sa.select(person.c.id, person.c.undeliverable).where(person.c.email == address)
        ).one()


def marketing_leads(engine: Engine, organizer_id: int, clock: FixedClock) -> list[str]:
    _, rows = read_csv(
        export_leads(engine, organizer_id, contest_slug=None, now=clock.now(), links=LINKS)
    )
    return [row["email"] for row in rows]


def demo_organizer(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(tables.organizer.c.id).where(
                    tables.organizer.c.email == "demo@example.org"
                )
            ).scalar_one()
        )


@pytest.fixture
def maildir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bounce mailbox, as CONTEST_BOUNCE_MAILDIR names it to the worker (the mail server
    delivers into it as ``mailbox.Maildir.add`` does: tmp/, then new/)."""
    folder = tmp_path / "bounces"
    monkeypatch.setenv("CONTEST_BOUNCE_MAILDIR", str(folder))
    mailbox.Maildir(folder, create=True)
    return folder


def files(folder: Path) -> dict[str, list[str]]:
    return {sub: sorted(os.listdir(folder / sub)) for sub in ("new", "cur")}


def test_a_bounce_in_the_mailbox_marks_the_address_and_no_reminder_goes_to_it(
    maildir: Path,
    client: TestClient,
    sender: Sender,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
) -> None:
    enter(client, email="gone@example.org")
    enter(client, email="late@example.org")
    sender.run_once()
    mailbox.Maildir(maildir).add(
        raw(
            POSTFIX_DSN,
            recipient="gone@example.org",
            message_id=message_id_of(settings, "gone@example.org"),
        )
    )
    assert sender.maintenance is not None
    sender.maintenance(clock.now())  # the worker's once-a-minute round
    assert person_row(engine, "gone@example.org").undeliverable
    assert not person_row(engine, "late@example.org").undeliverable
    assert files(maildir) == {"new": [], "cur": []}, "applied, then deleted"

    clock.advance(timedelta(hours=25))  # both entries are due for their one reminder...
    sender.maintenance(clock.now())
    sender.run_once()
    reminded = [m["To"] for m in read_eml(settings.mail_dir) if m["Subject"].startswith("Rappel")]
    ours = [to for to in reminded if to in {"gone@example.org", "late@example.org"}]
    assert ours == ["late@example.org"], "...but the refused address is not written to"


def test_the_mailbox_keeps_what_is_no_report_and_takes_back_a_dead_workers_claim(
    maildir: Path, engine: Engine, clock: FixedClock
) -> None:
    folder, box = maildir, mailbox.Maildir(maildir)
    duty = BounceMailbox(engine)
    person = tables.person
    with engine.begin() as connection:
        connection.execute(
            person.insert().values(
                organizer_id=new_shop(engine, "shop@example.org", {}).organizer_id,
                email="gone@example.org",
                email_key="gone@example.org",
                created_at=clock.now(),
            )
        )
    box.add(b"From: ann@example.org\r\nSubject: Re: your contest\r\n\r\nThanks!\r\n")
    # Two claims found in cur/: a live worker's (just now) and a dead one's (long ago).
    bounce = raw(POSTFIX_DSN, recipient="gone@example.org", message_id="<x@elsewhere>")
    for name, age in (("live", timedelta(0)), ("dead", CLAIM_LEASE + timedelta(seconds=1))):
        claim = folder / "cur" / f"{name}.host:2,"
        claim.write_bytes(bounce)
        stamp = (clock.now() - age).timestamp()
        os.utime(claim, (stamp, stamp))

    assert duty(clock.now()) == 2  # the answer and the dead worker's bounce
    assert person_row(engine, "gone@example.org").undeliverable
    [kept] = [n for n in files(folder)["cur"] if n.endswith(":2,S")]
    assert files(folder) == {"new": [], "cur": sorted(["live.host:2,", kept])}
    assert (folder / "cur" / kept).read_bytes().endswith(b"Thanks!\r\n"), "kept, marked read"
    assert duty(clock.now()) == 0, "what was read is not read again"

    clock.advance(CLAIM_LEASE * 2)  # the "live" worker died too
    assert duty(clock.now()) == 1
    assert files(folder)["cur"] == [kept]


def test_a_report_the_database_did_not_take_waits_in_new_for_the_next_pass(
    tmp_path: Path, clock: FixedClock
) -> None:
    away = sa.create_engine(f"sqlite:///{tmp_path}/no-such-folder/contest.db")
    folder = tmp_path / "bounces"
    key = mailbox.Maildir(folder, create=True).add(
        raw(POSTFIX_DSN, recipient="gone@example.org", message_id=OURS)
    )
    assert BounceMailbox(away, folder)(clock.now()) == 1
    assert files(folder) == {"new": [key], "cur": []}
    away.dispose()


@pytest.fixture
def relay(
    settings: Settings, engine: Engine, demo: None, clock: FixedClock
) -> Iterator[TestClient]:
    """The app with CONTEST_BOUNCE_WEBHOOK_SECRET set, as the relay calls it."""
    app = create_app(
        replace(settings, bounce_webhook_secret=Secret(SECRET)),
        engine=engine,
        send_mail=False,
        clock=clock,
    )
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def test_a_signed_complaint_withdraws_the_consent_and_the_person_leaves_the_export(
    relay: TestClient, sender: Sender, settings: Settings, engine: Engine, clock: FixedClock
) -> None:
    enter_with(relay, sender, settings, "ann@example.org", consent_marketing_email="on")
    enter_with(relay, sender, settings, "bob@example.org", consent_marketing_email="on")
    organizer = demo_organizer(engine)
    assert {"ann@example.org", "bob@example.org"} <= set(marketing_leads(engine, organizer, clock))
    [confirmation] = [m for m in read_eml(settings.mail_dir) if m["To"] == "ann@example.org"]
    body = raw(YAHOO_ARF, message_id=str(confirmation["Message-ID"]))

    answer = relay.post("/hooks/bounces", content=body, headers=signed(body))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "kind": "complaint",
        "undeliverable": 0,
        "withdrawn": 1,
        "message_found": True,
    }
    leads = marketing_leads(engine, organizer, clock)
    assert "ann@example.org" not in leads and "bob@example.org" in leads
    consent = tables.consentrecord
    with engine.connect() as connection:
        [withdrawal] = connection.execute(
            sa.select(consent.c.channel, consent.c.wording, consent.c.purpose).where(
                consent.c.person_id == person_row(engine, "ann@example.org").id,
                consent.c.event == "withdrawn",
            )
        ).all()
    assert tuple(withdrawal) == (CHANNEL, WORDING, "marketing_email")

    again = relay.post("/hooks/bounces", content=body, headers=signed(body))
    assert again.status_code == 200 and again.json()["withdrawn"] == 0, "applied once"


def test_the_webhook_refuses_a_wrong_signature_a_message_that_is_no_report_and_a_large_body(
    relay: TestClient, engine: Engine
) -> None:
    body = raw(POSTFIX_DSN, recipient="participant0001@example.net", message_id="<x@y>")

    def undeliverable() -> int:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count()).where(tables.person.c.undeliverable)
                ).scalar_one()
            )

    for headers in (
        {"Content-Type": "message/rfc822"},  # unsigned
        signed(body, secret="another-secret-of-some-length"),
        {**signed(body), "X-Contest-Signature": "sha256=" + "0" * 64},
    ):
        answer = relay.post("/hooks/bounces", content=body, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] == "unauthorized"
    tampered = body.replace(b"participant0001", b"participant0002")
    assert relay.post("/hooks/bounces", content=tampered, headers=signed(body)).status_code == 401
    assert undeliverable() == 0, "nothing was applied"
    signed_answer = relay.post("/hooks/bounces", content=body, headers=signed(body))
    assert signed_answer.status_code == 200
    assert undeliverable() == 1, "the same report, signed, is applied: the address was real"

    note = b"Subject: hello\r\n\r\nJust a message.\r\n"
    answer = relay.post("/hooks/bounces", content=note, headers=signed(note))
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "not_a_report"
    huge = body + b"x" * (1024 * 1024)
    assert relay.post("/hooks/bounces", content=huge, headers=signed(huge)).status_code == 413


def test_the_webhook_does_not_exist_without_its_secret(client: TestClient) -> None:
    body = raw(POSTFIX_DSN, recipient="gone@example.org", message_id=OURS)
    assert client.post("/hooks/bounces", content=body, headers=signed(body)).status_code == 404


def test_a_delivery_report_posted_as_its_multipart_body_marks_the_address(
    relay: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    enter(relay, email="gone@example.org")
    sender.run_once()
    sent = message_id_of(settings, "gone@example.org")
    report = built_dsn(
        fields(Final_Recipient="rfc822; gone@example.org", Action="failed", Status="5.1.1"),
        returned=original("gone@example.org", sent),
    )
    # The relay posts the report's body, its boundary in the request's Content-Type.
    body = report.split(b"\n\n", 1)[1]
    content_type = " ".join(str(email.message_from_bytes(report)["Content-Type"]).split())
    headers = {**signed(body), "Content-Type": content_type}
    answer = relay.post("/hooks/bounces", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "kind": "bounce",
        "undeliverable": 1,
        "withdrawn": 0,
        "message_found": True,
    }
    assert person_row(engine, "gone@example.org").undeliverable


def test_a_complaint_about_no_message_of_ours_withdraws_the_address_with_every_organizer(
    engine: Engine,
    clock: FixedClock,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shops = [new_shop(engine, f"shop{n}@example.org", {f"shop-{n}": []}) for n in (1, 2)]
    with engine.begin() as connection:
        for shop in shops:
            shop.connection = connection
            for address in ("ann@example.org", "bob@example.org"):
                person = shop.person(address)
                shop.entry(person, next(iter(shop.contests)), 3)
                shop.consent(person, "marketing_email", "granted", "confirmed")
    for shop in shops:
        assert marketing_leads(engine, shop.organizer_id, clock) == [
            "ann@example.org",
            "bob@example.org",
        ]

    # The provider rewrote the Message-ID: only the address tells who complained.
    complaint = built_arf(original("ANN@example.org", "<other@mail.example.com>"))
    report = tmp_path / "complaint.eml"
    report.write_bytes(complaint)
    monkeypatch.setenv("CONTEST_DATABASE_URL", settings.database_url.reveal())
    monkeypatch.setenv("CONTEST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CONTEST_SECRET_KEY", "k" * 40)
    assert cmd_bounces(argparse.Namespace(files=[str(report)])) == 0  # `contest bounces FILE`
    for shop in shops:
        assert marketing_leads(engine, shop.organizer_id, clock) == ["bob@example.org"]
    outcome = handle_raw(engine, complaint, clock.now(), door="webhook")
    assert (outcome.kind, outcome.withdrawn, outcome.outbox_id) == ("complaint", 0, None)
