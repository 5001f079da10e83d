"""Connectors call only public addresses (or what the installation allows), at the address
that was checked, without following redirects."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from contest.mail import Sender
from contest.outbound import GuardedTransport, OutboundPolicy, OutboundRefused, outbound_client
from contest.settings import Settings
from tests.contest.test_crm import connect, crm_rows, enter_and_confirm_with_marketing
from tests.shop_servers import Reply, WebhookReceiver


def fixed(addresses: dict[str, list[str]]) -> GuardedTransport:
    """A guard whose DNS answers from ``addresses``; connects through the real network."""
    return GuardedTransport(OutboundPolicy(), resolver=lambda host, port: addresses[host])


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://10.0.0.5/wp-json/", "10.0.0.5"),
        ("http://[::1]:8080/", "::1"),
        ("https://shop.example/", "127.0.0.1"),  # a public name resolving to the machine
        ("https://rebind.example/", "192.168.1.2"),  # one private answer among public ones
    ],
)
def test_private_local_and_reserved_destinations_are_refused_with_the_reason(
    url: str, shown: str
) -> None:
    transport = fixed(
        {"shop.example": ["127.0.0.1"], "rebind.example": ["93.184.216.34", "192.168.1.2"]}
    )
    with httpx.Client(transport=transport) as client, pytest.raises(OutboundRefused) as refused:
        client.get(url)
    assert shown in str(refused.value) and "CONTEST_OUTBOUND_ALLOW" in str(refused.value)


def test_production_calls_only_https() -> None:
    policy = OutboundPolicy(https_only=True)
    transport = GuardedTransport(policy, resolver=lambda host, port: ["93.184.216.34"])
    with httpx.Client(transport=transport) as client, pytest.raises(OutboundRefused) as refused:
        client.get("http://shop.example/")
    assert "only https://" in str(refused.value)


def test_an_allowed_local_shop_is_called_at_the_checked_address_under_its_name() -> None:
    with WebhookReceiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        policy = OutboundPolicy(allow=("shop.lan",))
        transport = GuardedTransport(policy, resolver=lambda host, port: ["127.0.0.1"])
        with httpx.Client(transport=transport) as client:
            answer = client.post(f"http://shop.lan:{port}/hooks/contest", content=b"{}")
        [request] = receiver.requests("POST")
    assert answer.status_code == 401, "it reached the receiver (which wants a signature)"
    assert request.headers["host"] == f"shop.lan:{port}", "the Host header keeps the name"


def test_redirects_are_not_followed() -> None:
    class Redirecting(WebhookReceiver):
        def handle(self, request: object) -> Reply:
            return Reply(302, b"", {"Location": "http://169.254.169.254/"})

    with Redirecting() as server:
        client = outbound_client(OutboundPolicy(allow=("127.0.0.0/8",)))
        with client:
            answer = client.get(server.url + "/")
    assert answer.status_code == 302, "the answer is given back, the Location is not followed"


def test_a_crm_connection_to_the_metadata_service_fails_once_with_the_reason(
    client: TestClient, sender: Sender, settings: Settings, engine: Engine
) -> None:
    connect(engine, "webhook", {"url": "http://169.254.169.254/hook", "secret": "a-long-secret"})
    enter_and_confirm_with_marketing(client, sender, settings, "lead@example.org")
    sender.run_once()
    [(_template, status, error, _payload)] = crm_rows(engine)
    assert status == "failed", "a refused destination is a configuration to fix, not retried"
    assert "169.254.169.254" in error
