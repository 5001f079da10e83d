"""The headers of the platform's e-mails read back as they were given, however they are
stored: as given (plain ASCII on one line) or parsed and encoded (accents, long lines)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import formataddr

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from contest.mail import BODY_POLICY, MAIL_POLICY

names = st.text(
    st.characters(codec="utf-8", exclude_categories=("C", "Zl", "Zp")), min_size=1, max_size=40
)
subjects = st.text(st.characters(codec="utf-8", exclude_categories=("C", "Zl", "Zp")), max_size=200)
locals_ = st.from_regex(r"[a-z0-9][a-z0-9.+_-]{0,20}", fullmatch=True)


def sent_and_read(build: EmailMessage) -> email.message.EmailMessage:
    build.set_content("Bonjour")
    build.policy = MAIL_POLICY
    wire = build.as_bytes(policy=MAIL_POLICY)
    assert all(len(line) <= 1000 for line in wire.split(b"\r\n"))
    read = email.message_from_bytes(wire, policy=email.policy.default)
    assert isinstance(read, EmailMessage)
    return read


@given(name=names, local=locals_, subject=subjects)
@example(name="La Boutique Démo SAS", local="no-reply", subject="Confirmez : 500 € à gagner")
@example(name="Shop, Inc.", local="shop", subject="x" * 200)
def test_from_to_and_subject_read_back_as_given(name: str, local: str, subject: str) -> None:
    message = EmailMessage(policy=BODY_POLICY)
    message["Subject"] = subject
    message["From"] = formataddr((name, f"{local}@example.org"))
    message["To"] = f"{local}@example.com"
    message["List-Unsubscribe"] = f"<https://example.org/u/{'t' * 300}>"
    read = sent_and_read(message)
    assert read["Subject"].split() == subject.split()  # long ones folded, word for word
    sender = read["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == (name, f"{local}@example.org")
    assert read["To"].addresses[0].addr_spec == f"{local}@example.com"
    assert read["List-Unsubscribe"] == f"<https://example.org/u/{'t' * 300}>"


@pytest.mark.parametrize("value", ["a@example.org\r\nBcc: b@example.org", "Hello\nBcc: b@x"])
def test_a_line_break_in_a_header_is_refused(value: str) -> None:
    message = EmailMessage(policy=BODY_POLICY)
    with pytest.raises(ValueError, match="linefeed|carriage return"):
        message["To"] = value
