"""Behind a reverse proxy: the client's address comes from X-Forwarded-For only when the proxy
is trusted (CONTEST_TRUSTED_PROXIES, checked at start), and a forwarded address that is not an
IP address is refused rather than keyed to one shared, empty rate-limit bucket."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from contest.app import create_app
from contest.clock import FixedClock
from contest.settings import Settings, SettingsError
from contest.web.base import client_network


@pytest.fixture
def proxied(settings: Settings, engine: Engine, clock: FixedClock) -> Iterator[TestClient]:
    """The app as `contest serve` runs it behind a proxy it trusts."""
    app = ProxyHeadersMiddleware(create_app(settings, engine=engine, clock=clock), "*")
    with TestClient(app, base_url="http://testserver") as client:  # type: ignore[arg-type]
        yield client


@pytest.mark.parametrize("forwarded", ["unknown", "proxy.internal", "<script>", ""])
def test_a_forwarded_client_address_that_is_not_an_ip_is_refused(
    proxied: TestClient, forwarded: str
) -> None:
    refused = proxied.get("/healthz", headers={"X-Forwarded-For": forwarded})
    assert refused.status_code == 400
    assert "not an IP address" in refused.text


def test_a_forwarded_ip_address_or_no_proxy_at_all_passes(proxied: TestClient) -> None:
    assert proxied.get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
    assert proxied.get("/healthz", headers={"X-Forwarded-For": "2001:db8::7"}).status_code == 200
    assert proxied.get("/healthz").status_code == 200


def test_the_trusted_proxies_are_checked_when_the_app_starts(tmp_path: Path) -> None:
    base = {"CONTEST_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).trusted_proxies == ("127.0.0.1",)
    several = Settings.from_env(base | {"CONTEST_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"})
    assert several.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    uvicorns = Settings.from_env(base | {"FORWARDED_ALLOW_IPS": "192.0.2.10"})
    assert uvicorns.trusted_proxies == ("192.0.2.10",)
    with pytest.raises(SettingsError, match="not an address or network: proxy.internal"):
        Settings.from_env(base | {"CONTEST_TRUSTED_PROXIES": "127.0.0.1,proxy.internal"})


@given(
    st.ip_addresses().map(str)
    | st.builds(".".join, st.lists(st.text("0123456789x", max_size=4), min_size=1, max_size=5))
    | st.text(max_size=12)
)
@example("10.0.0.1\x00")  # a NUL in the text: not an address, not an error
def test_the_network_kept_of_a_client_is_its_24_or_48_and_nothing_for_a_name(host: str) -> None:
    """Rate limits and fraud signals key on the client's network, never its address."""
    request = Request({"type": "http", "client": (host, 4242), "headers": []})
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        expected = ""
    else:
        prefix = 24 if address.version == 4 else 48
        expected = str(ipaddress.ip_network(f"{host}/{prefix}", strict=False).network_address)
    assert client_network(request) == expected
