"""The contest page passes every SEO audit of Lighthouse that applies to it.

Lighthouse (tools/checkers, installed by `make test`) drives Debian's Chromium, named by
CHROME_PATH: it downloads no browser. Lighthouse asks in English, so the page it audits is the
contest's address answering in the visitor's language, with its canonical and hreflang links.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM_FLAGS, chromium_path
from tests.browser.live import LiveServer

pytestmark = pytest.mark.browser
LIGHTHOUSE = Path(__file__).resolve().parents[2] / "tools/checkers/node_modules/.bin/lighthouse"


def test_the_contest_page_passes_every_lighthouse_seo_audit(
    live_server: LiveServer, tmp_path: Path
) -> None:
    assert LIGHTHOUSE.exists(), f"{LIGHTHOUSE} is missing: `make test` installs tools/checkers"
    report = tmp_path / "seo.json"
    run = subprocess.run(
        [
            "node",
            str(LIGHTHOUSE),
            f"{live_server.url}/c/demo",
            "--only-categories=seo",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
            "--no-enable-error-reporting",
            f"--chrome-flags={' '.join(['--headless', *CHROMIUM_FLAGS])}",
        ],
        env={**os.environ, "CHROME_PATH": chromium_path()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(report.read_text())
    assert result.get("runtimeError") is None, result["runtimeError"]
    seo = result["categories"]["seo"]
    failed = [
        f"{ref['id']}: {audit['title']} {audit.get('explanation') or ''}"
        for ref in seo["auditRefs"]
        if (audit := result["audits"][ref["id"]])["scoreDisplayMode"] == "binary"
        and audit["score"] != 1
    ]
    assert failed == [] and seo["score"] == 1, failed
