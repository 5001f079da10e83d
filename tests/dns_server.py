"""A small authoritative DNS server on 127.0.0.1 (UDP, a free port) for the sending-domain
tests: it answers TXT questions from what the test published, NXDOMAIN for any other name.

Long TXT values are split into strings of 255 characters, as a DNS host publishes a DKIM key
(RFC 7208 §3.3, RFC 6376 §3.6.2.2): the reader must join them.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSServer


class _Quiet:
    """dnslib's logger, silenced: the tests' output stays the tests'."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


class Zone(BaseResolver):  # type: ignore[misc]
    """The records the test publishes: name -> TXT values; every question is counted."""

    def __init__(self) -> None:
        self.txt: dict[str, list[str]] = {}
        self.questions: list[str] = []
        self._lock = threading.Lock()
        self.port = 0

    @property
    def servers(self) -> tuple[tuple[str, int], ...]:
        return (("127.0.0.1", self.port),)

    def publish(self, name: str, *values: str) -> None:
        with self._lock:
            self.txt.setdefault(name.lower().rstrip("."), []).extend(values)

    def remove(self, name: str) -> None:
        with self._lock:
            self.txt.pop(name.lower().rstrip("."), None)

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        with self._lock:
            self.questions.append(name)
            values = list(self.txt.get(name, ()))
        if not values:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in values:
                strings = [value[i : i + 255] for i in range(0, len(value), 255)]
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(strings), ttl=60))
        return reply


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def dns_server() -> Iterator[Zone]:
    """A running server; its port is ``zone.port``."""
    zone = Zone()
    zone.port = free_udp_port()
    server = DNSServer(zone, address="127.0.0.1", port=zone.port, logger=_Quiet())
    server.start_thread()
    try:
        yield zone
    finally:
        server.stop()
        server.server.server_close()
        server.thread.join()
