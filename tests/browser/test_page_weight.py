"""The contest page is light on a phone, speaks only to its own server, and paints fast.

Weight is asserted: the bytes that cross the network for a first visit (the page, its styles,
scripts, everything but the contest's own picture) stay under 60 KB. The Largest Contentful
Paint on a throttled phone profile is only measured and written to
tests/artifacts/performance.json: a time is never asserted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

from tests.browser.live import PHONE, LiveServer

pytestmark = pytest.mark.browser
BUDGET = 60 * 1024
REPORT = Path(__file__).resolve().parents[1] / "artifacts" / "performance.json"
# A mid-range phone on a slow mobile network ("Fast 3G" / slow 4G).
PROFILE = {"latency_ms": 150, "download_kbps": 1600, "upload_kbps": 750, "cpu_slowdown": 4}
LARGEST_PAINT = """() => new Promise((resolve) => {
  const found = { lcp: null, fcp: null };
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  if (paint) found.fcp = paint.startTime;
  new PerformanceObserver((list) => {
    const entries = list.getEntries();
    found.lcp = entries[entries.length - 1].startTime;
    resolve(found);
  }).observe({ type: "largest-contentful-paint", buffered: true });
  setTimeout(() => resolve(found), 10000);
})"""


class Transfers:
    """Every request of a page and the bytes it took on the wire (headers and body), by CDP."""

    def __init__(self, cdp: CDPSession) -> None:
        self.urls: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def _sent(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event: dict[str, Any]) -> None:
        self.sizes[event["requestId"]] = int(event["encodedDataLength"])

    def by_url(self) -> dict[str, int]:
        return {self.urls[key]: size for key, size in self.sizes.items() if key in self.urls}


def first_visit(context: BrowserContext, url: str) -> tuple[Page, Transfers]:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    transfers = Transfers(cdp)
    page.goto(url, wait_until="networkidle")
    return page, transfers


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_contest_page_weighs_under_60_kb_and_calls_no_other_site(
    browser: Browser, live_server: LiveServer
) -> None:
    [(image,)] = live_server.query("SELECT image_path FROM contest WHERE slug = 'demo'")
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    _, transfers = first_visit(context, f"{live_server.url}/c/demo")
    context.close()
    sizes = {
        url: size
        for url, size in transfers.by_url().items()
        if not url.startswith("data:") and not (image and url.endswith(f"/media/{image}"))
    }
    total = sum(sizes.values())
    assert {origin(url) for url in sizes} == {live_server.url}, sizes
    assert total < BUDGET, f"{total} bytes: {sizes}"

    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": PROFILE["latency_ms"],
            "downloadThroughput": PROFILE["download_kbps"] * 1000 / 8,
            "uploadThroughput": PROFILE["upload_kbps"] * 1000 / 8,
        },
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": PROFILE["cpu_slowdown"]})
    page.goto(f"{live_server.url}/c/demo", wait_until="load")
    paint = page.evaluate(LARGEST_PAINT)
    context.close()

    figures = {
        "page": "/c/demo",
        "transfer_bytes": total,
        "requests": {urlsplit(url).path: size for url, size in sorted(sizes.items())},
        "throttle_profile": PROFILE,
        "first_contentful_paint_ms": round(paint["fcp"]) if paint["fcp"] is not None else None,
        "largest_contentful_paint_ms": round(paint["lcp"]) if paint["lcp"] is not None else None,
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))  # noqa: T201
