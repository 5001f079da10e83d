"""Calls to shops, CRMs and webhooks go only where an organizer may send them.

An organizer types the address of their shop or CRM; the server then calls it. Without a
check, that address could be the cloud's metadata service (169.254.169.254), a database on the
private network or the server itself. So before every call the host name is resolved, every
address it resolves to must be public (not loopback, private, link-local, multicast, reserved
or unspecified), and the connection goes to the address that was checked, not to a second
resolution (no DNS-rebinding gap). Redirects are not followed. In production only ``https``
is called.

``CONTEST_OUTBOUND_ALLOW`` (comma-separated host names, addresses or networks) lets chosen
destinations through: a self-hosted shop on the local network, the tests' local servers.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from contest.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class OutboundRefused(Exception):
    """The destination is not one the platform calls (a private address, plain http in
    production); the message says which and how to allow it. A configuration to fix, not a
    network failure: deliveries do not retry it."""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, IPv4 and IPv6."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class OutboundPolicy:
    """Where the platform may call: public addresses, plus what the installation allows."""

    allow: tuple[str, ...] = ()
    https_only: bool = False

    def __post_init__(self) -> None:
        for entry in self.allow:
            if not entry.strip():
                raise ValueError("an empty entry in CONTEST_OUTBOUND_ALLOW")

    def _allowed_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        networks = []
        for entry in self.allow:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                continue  # a host name
        return networks

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in {entry.strip().lower() for entry in self.allow}

    def address_allowed(self, address: IPAddress) -> bool:
        if address.is_global and not address.is_multicast:
            return True
        return any(address in network for network in self._allowed_networks())

    def check(self, url: httpx.URL, addresses: Iterable[str]) -> str:
        """The address to connect to; raises OutboundRefused naming the refused one."""
        if self.https_only and url.scheme != "https":
            raise OutboundRefused(f"{url.host}: only https:// addresses are called in production")
        chosen = None
        for text in addresses:
            address = ipaddress.ip_address(text.split("%")[0])
            if not (self.host_allowed(url.host) or self.address_allowed(address)):
                raise OutboundRefused(
                    f"{url.host} resolves to {address}, a private, local or reserved address: "
                    "the platform does not call it (an installation may allow it with "
                    "CONTEST_OUTBOUND_ALLOW)"
                )
            chosen = chosen or text
        if chosen is None:
            raise httpx.ConnectError(f"{url.host} has no address")
        return chosen


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that checks each request's destination, then connects to the very
    address it checked (the TLS name and the Host header stay the host name)."""

    def __init__(
        self,
        policy: OutboundPolicy,
        resolver: Resolver = resolve,
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in {"http", "https"}:
            raise OutboundRefused(f"{url.scheme}: only http and https are called")
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            literal = ipaddress.ip_address(url.host)
        except ValueError:
            literal = None
        addresses = [str(literal)] if literal else self.resolver(url.host, port)
        address = self.policy.check(url, addresses)
        if literal is None:
            request.url = url.copy_with(host=address)
            request.headers["Host"] = url.netloc.decode("ascii")
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def outbound_client(policy: OutboundPolicy, timeout: float = 15) -> httpx.Client:
    """An httpx client for shops, CRMs and webhooks: guarded, no redirects followed."""
    return httpx.Client(transport=GuardedTransport(policy), timeout=timeout, follow_redirects=False)


def connector_client(settings: Settings) -> Callable[[], httpx.Client]:
    """What the shop and CRM deliveries call through, under the installation's policy."""
    policy = OutboundPolicy(allow=settings.outbound_allow, https_only=settings.production)
    return lambda: outbound_client(policy)
