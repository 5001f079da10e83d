"""Steps shared by the referral tests: enter through a page, confirm from the e-mail."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from contest.mail import Sender
from contest.settings import Settings
from tests.helpers import form_token, link_in, read_eml


def enter_and_confirm(
    client: TestClient, sender: Sender, settings: Settings, email: str, page_url: str = "/c/demo"
) -> str:
    """Enters through ``page_url`` (which may carry ?ref=), confirms, returns the own page."""
    page = client.get(page_url)
    hidden = dict(re.findall(r'<input type="hidden" name="(ref|src)" value="([^"]+)">', page.text))
    data = {
        "form_token": form_token(page.text),
        "email": email,
        "first_name": email[:4],
        "accept_rules": "on",
        **hidden,
    }
    if 'name="region"' in page.text:  # a contest that runs in the United States
        data["region"] = "TX"
    assert client.post("/c/demo/entries", data=data, follow_redirects=False).status_code == 303
    sender.run_once()
    mails = [m for m in read_eml(settings.mail_dir) if m["To"] == email]
    link = link_in(mails[-1], r"http://testserver/c/demo/confirm/\S+").removeprefix(
        "http://testserver"
    )
    own = client.post(link, follow_redirects=False).headers["location"]
    return own


def share_path(client: TestClient, own: str) -> str:
    match = re.search(r"http://testserver(/r/[A-Z0-9]+)", client.get(own).text)
    assert match, "the confirmed participant's page shows a share link"
    return match.group(1)
