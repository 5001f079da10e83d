"""Scratch: dump French workspace pages (to be deleted)."""
from __future__ import annotations
import re
from pathlib import Path
from starlette.testclient import TestClient
from contest.demo import demo_password
from contest.settings import Settings
from tests.helpers import sign_in, enter
import pytest

@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_dump(client: TestClient, settings: Settings) -> None:
    sign_in(client, "demo@example.org", demo_password(settings))
    out = Path("/tmp/pages")
    home = client.get("/admin/").text
    (out / "home.html").write_text(home)
    ids = sorted(set(re.findall(r"/admin/contests/(\d+)\"", home)))
    for i in ids:
        for suffix in ("", "/edit", "/links", "/referrals"):
            r = client.get(f"/admin/contests/{i}{suffix}")
            (out / f"contest{i}{suffix.replace('/', '_')}.html").write_text(r.text)
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/admin/contests/{i}").text).group(1)
        d = client.post(f"/admin/contests/{i}/draw", data={"csrf": csrf})
        (out / f"contest{i}_afterdraw.html").write_text(client.get(f"/admin/contests/{i}").text)
    for p in ("leads", "clients", "api-tokens", "members", "audit", "organization", "contests/new"):
        (out / (p.replace("/", "_") + ".html")).write_text(client.get(f"/admin/{p}").text)
    # also in a fresh client: participant pages
    for slug in ("demo", "demo-clients", "demo-closed"):
        (out / f"c_{slug}.html").write_text(client.get(f"/c/{slug}").text)
