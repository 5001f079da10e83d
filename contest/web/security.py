"""ASGI middleware (:class:`Guard`): strict security headers on every answer, a cap on request
bodies, no state-changing request sent by another site's page, no forged client address."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contest.media import MAX_BYTES

MAX_BODY = 1024 * 1024  # 1 MB
# The workspace forms that upload images (a contest's image and logo, the organization's logo):
# two images of media.MAX_BYTES each, with the rest of the form and the multipart framing.
UPLOAD_PATH = re.compile(r"^/admin/(contests/(new|[0-9]+/edit)|organization)$")
MAX_UPLOAD_BODY = 2 * MAX_BYTES + 256 * 1024


def content_security_policy(frame_ancestors: str = "'none'", styles: Iterable[str] = ()) -> str:
    """The site's policy: its own files only, no inline script, and no inline style but the
    ``<style>`` elements whose exact text is in ``styles`` (allowed by their hash)."""
    hashes = "".join(f" {style_source(css)}" for css in styles)
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'{hashes}; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
        f"base-uri 'none'; object-src 'none'; frame-ancestors {frame_ancestors}"
    )


def style_source(css: str) -> str:
    """The CSP source allowing the one ``<style>`` element whose text is ``css``, exactly."""
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def security_headers(https: bool, frame_ancestors: str = "'none'") -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", content_security_policy(frame_ancestors).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


# Pages that must never be indexed: the workspace, the API, and every page reached with a
# personal token or carrying one person's state (own page, confirmation, claim, opt-outs).
PRIVATE_PATH = re.compile(
    r"^/(admin|api)(/|$)"
    r"|^/c/[^/]+/(me|confirm|claim|entered|entries|interest|started)(/|$)"
    r"|^/(unsubscribe|invite-optout|r|s)/"
)
NOINDEX = (b"x-robots-tag", b"noindex, nofollow")


class Guard:
    """The checks and headers every request goes through, in one ASGI layer.

    In the order they apply:

    - **A forged client address** (400): behind a trusted proxy (``CONTEST_TRUSTED_PROXIES``)
      the server takes the client's address from ``X-Forwarded-For``; a value that is not an
      address (``unknown``, a name, garbage) would leave the request with no network, and
      every such request would share one empty rate-limit bucket. A request without the
      header, or from a proxy that is not trusted (its own address is kept), passes.
    - **A state-changing request from another site** (403): browsers send ``Origin`` with
      every POST and ``Sec-Fetch-Site`` with every request; a form posted from another site's
      page (cross-site request forgery) carries a foreign origin or ``cross-site``. Requests
      with neither header (a mail provider's one-click unsubscribe, a command-line client)
      pass, as do the bearer-authenticated ``/api/`` and forms posted from this site, the
      pop-in frame included. The signed form tokens and the organizer's session nonce are
      checked further in, by the handlers.
    - **A body over the limit** (413, unread): ``limit`` bytes, declared or streamed; on the
      paths ``uploads`` matches (the forms that upload images), ``upload_limit`` bytes.
    - **Every answer** gets the strict security headers (``noindex`` too on private pages)
      that its handler did not set, and every 503 says when to come back (``Retry-After``).

    One layer rather than one per concern: each layer wraps every request's ``send``, and
    on the entry path those wrappers were a measurable share of the work.
    """

    UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(
        self,
        app: ASGIApp,
        base_url: str,
        https: bool,
        retry_after: int,
        limit: int = MAX_BODY,
        uploads: re.Pattern[str] = UPLOAD_PATH,
        upload_limit: int = MAX_UPLOAD_BODY,
    ) -> None:
        self.app = app
        self.netloc = urlsplit(base_url).netloc.lower()
        self.headers = security_headers(https)
        self.private_headers = [*self.headers, NOINDEX]
        self.retry_after = (b"retry-after", str(retry_after).encode())
        self.limit = limit
        self.uploads = uploads
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = self.private_headers if PRIVATE_PATH.match(path) else self.headers
        retry_after = self.retry_after

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = list(message.get("headers", []))
                present = {name.lower() for name, _ in given}
                given.extend(h for h in headers if h[0] not in present)
                if message["status"] == 503 and retry_after[0] not in present:
                    given.append(retry_after)
                message["headers"] = given
            await send(message)

        request_headers = dict(scope["headers"])
        if (
            scope["method"] in self.UNSAFE
            and not path.startswith("/api/")
            and self._foreign(request_headers)
        ):
            await _refuse(send_with_headers, 403, FOREIGN_FORM)
            return
        if b"x-forwarded-for" in request_headers and _forged(scope):
            await _refuse(send_with_headers, 400, FORGED_CLIENT)
            return
        limit = self.upload_limit if self.uploads.match(path) else self.limit
        declared = request_headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _too_large(send_with_headers, limit, status=400)
                return
            if size > limit:
                await _too_large(send_with_headers, limit)
                return
            if b"transfer-encoding" not in request_headers:
                # The server reads no more than the declared length: nothing to count.
                await self.app(scope, receive, send_with_headers)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            await _too_large(send_with_headers, limit)

    def _foreign(self, headers: dict[bytes, bytes]) -> bool:
        """The Origin names neither the public address nor the host the browser asked for
        (which a forging page cannot choose); ``null`` (a sandboxed frame) is foreign too."""
        origin = headers.get(b"origin", b"").decode("latin-1").lower()
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if origin and urlsplit(origin).netloc not in {self.netloc, host}:
            return True
        return headers.get(b"sec-fetch-site", b"") == b"cross-site"


FORGED_CLIENT = (
    "Refusé : l'adresse du client transmise par le proxy n'est pas une adresse IP.\n"
    "Refused: the client address forwarded by the proxy is not an IP address.\n"
)
FOREIGN_FORM = (
    "Refusé : ce formulaire a été envoyé depuis un autre site.\n"
    "Refused: this form was sent from another site.\n"
)


def network_of(host: str) -> str:
    """The network of an IP address, /24 for IPv4 and /48 for IPv6, as text; "" when ``host``
    is not an IP address. Rate limits and fraud signals key on it, never on the address."""
    try:  # IPv4, the common case, without the ipaddress module: this runs at every request
        first, second, third, _ = socket.inet_pton(socket.AF_INET, host)
    except (OSError, ValueError):  # not IPv4; ValueError for a NUL in the text
        pass
    else:
        return f"{first}.{second}.{third}.0"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ""
    dropped = address.max_prefixlen - (24 if address.version == 4 else 48)
    return str(type(address)(int(address) >> dropped << dropped))  # without a scope (%eth0)


def _forged(scope: Scope) -> bool:
    """The client address the server took from ``X-Forwarded-For`` is not an IP address."""
    return not network_of(scope["client"][0] if scope.get("client") else "")


async def _refuse(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


class BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int, status: int = 413) -> None:
    megabytes = f"{limit / (1024 * 1024):g}"
    text = (
        f"Request body too large ({megabytes} MB at most). / "
        f"Requête trop volumineuse ({megabytes.replace('.', ',')} Mo au plus)."
        if status == 413
        else "Bad request. / Requête invalide."
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(text)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text})
