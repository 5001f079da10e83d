"""Static files carry their content's hash in their address and are kept a year by browsers;
the same file asked for without it is checked each time."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from starlette.testclient import TestClient

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_the_style_sheet_is_addressed_by_its_content_and_immutable(client: TestClient) -> None:
    page = client.get("/c/demo").text
    found = re.search(r'href="(/static/css/site\.css\?v=([0-9a-f]{12}))"', page)
    assert found, "the page links the style sheet with its content hash"
    digest = hashlib.sha256((STATIC / "css" / "site.css").read_bytes()).hexdigest()[:12]
    assert found.group(2) == digest

    versioned = client.get(found.group(1))
    assert versioned.status_code == 200
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/css/site.css").headers["cache-control"] == "no-cache"
