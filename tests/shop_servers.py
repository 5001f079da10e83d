"""Local fake shops for the connector tests: real HTTP servers on 127.0.0.1.

Each fake follows its API's documentation, and the real code where the documentation is
silent, closely enough for the connectors' requests and the answers they read:

- :class:`WooCommerceShop`: WooCommerce REST API v3, "Coupons" and "Authentication over HTTPS"
  (https://woocommerce.github.io/woocommerce-rest-api-docs/#coupons,
  https://woocommerce.github.io/woocommerce-rest-api-docs/#authentication-over-https) and the
  WP REST error shape ``{"code", "message", "data": {"status"}}`` (#errors). Validation and
  error codes as in ``WC_REST_Coupons_V2_Controller`` (codes stored in lowercase, the 400
  ``woocommerce_rest_coupon_code_already_exists``) and ``WC_REST_Authentication`` (401
  "Consumer key is invalid." / "Consumer secret is invalid."). Unlike a real site it accepts
  Basic authentication over plain http, since it runs on the local machine.
- :class:`PrestaShopShop`: PrestaShop 8 webservice (https://devdocs.prestashop-project.org/8/
  webservice/ "Getting Started", "Cheat sheet", "Testing access") for the ``cart_rules`` and
  ``currencies`` resources: the key as Basic user without password, ``filter[field]=[value]``
  and ``display=[id]`` listings, POST of ``<prestashop><cart_rule>`` answering 201 with the
  created resource, errors as ``<prestashop><errors><error><code><message>`` with the codes of
  ``WebserviceRequest`` (16, 17, 18, 20, 21, 25, 26, 41, 84, 85, 91, 127) and the fields,
  required ones and validators of ``CartRule::$definition``.
- :class:`WebhookReceiver`: the receiving end of the contest's own webhook, as its docstring in
  ``contest/prizes/shops/webhook.py`` describes it: HMAC-SHA256 of the raw body checked before
  anything else, de-duplication by ``Idempotency-Key`` (IETF draft "The Idempotency-Key HTTP
  Header Field").

Faults are injected per request: an error status, an answer lost after the work was done
(the connection closes without a response), or a slow answer. A shop's own clock (the dates it
stamps on what it creates) is the test's, given as ``clock``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr


@dataclass
class Received:
    """One request as the fake server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lowercased names
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)

    def basic_auth(self) -> tuple[str, str] | None:
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        user, _, password = base64.b64decode(value).decode().partition(":")
        return user, password


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    method: str | None  # None: whatever the method
    status: int | None = None  # answer this instead of handling the request
    body: bytes = b""
    drop: bool = False  # handle the request, then close the connection without answering
    delay: float = 0.0  # wait before answering


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out and left: nothing to report


class FakeServer:
    """A threaded HTTP server on 127.0.0.1 (port chosen by the system) recording requests."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, status: int, method: str | None = None, body: bytes = b"") -> None:
        self.faults.append(Fault(method, status=status, body=body or b"Service Unavailable"))

    def drop_next_answer(self, method: str = "POST") -> None:
        self.faults.append(Fault(method, drop=True))

    def delay_next(self, seconds: float, method: str | None = None) -> None:
        self.faults.append(Fault(method, delay=seconds))

    def requests(self, method: str | None = None) -> list[Received]:
        return [r for r in self.received if method is None or r.method == method]

    def respond(self, request: Received) -> Reply | None:
        with self._lock:
            self.received.append(request)
            fault = next((f for f in self.faults if f.method in (None, request.method)), None)
            if fault is not None:
                self.faults.remove(fault)
            if fault is not None and fault.status is not None:
                headers = {"Retry-After": "30"} if fault.status in (429, 503) else {}
                return Reply(fault.status, fault.body, headers)
            reply = self.handle(request)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        return None if fault is not None and fault.drop else reply

    def handle(self, request: Received) -> Reply:
        raise NotImplementedError


def _handler(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            request = Received(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
            reply = fake.respond(request)
            if reply is None:
                self.close_connection = True
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_DELETE = serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# --- WooCommerce REST API v3 --------------------------------------------------------------


def _wp_error(status: int, code: str, message: str, **data: Any) -> Reply:
    body = {"code": code, "message": message, "data": {"status": status, **data}}
    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


def _wp_json(status: int, data: Any, **headers: str) -> Reply:
    return Reply(status, json.dumps(data).encode(), {"Content-Type": "application/json", **headers})


COUPON_TYPES = {
    # field: JSON type the WP REST schema validates
    "code": str,
    "amount": str,
    "discount_type": str,
    "description": str,
    "date_expires": str,
    "individual_use": bool,
    "usage_limit": int,
    "usage_limit_per_user": int,
    "minimum_amount": str,
    "maximum_amount": str,
    "email_restrictions": list,
}


class WooCommerceShop(FakeServer):
    """``/wp-json/wc/v3/coupons``: create (POST) and list with ``?code=`` (GET)."""

    PATH = "/wp-json/wc/v3/coupons"

    def __init__(
        self,
        consumer_key: str = "ck_4c2b0e5d8f1a7e3b9d6c0a2f5e8b1d4a7c3e9f02",
        consumer_secret: str = "cs_9e1f4a7d2c5b8e0f3a6d9c2b5e8f1a4d7c0b3e6a",
        permissions: str = "read_write",
        *,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self.clock = clock
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.permissions = permissions
        self.coupons: dict[int, dict[str, Any]] = {}
        self.next_id = 719
        self.hidden_listings = 0

    def hide_next_listing(self) -> None:
        """The next ``GET ?code=`` misses a coupon that exists (a lagging cache or replica)."""
        self.hidden_listings += 1

    def handle(self, request: Received) -> Reply:
        if request.path.rstrip("/") != self.PATH or request.method not in ("GET", "POST"):
            return _wp_error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            )
        credentials = request.basic_auth()
        if credentials is None:
            if request.method == "GET":
                return _wp_error(
                    401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
                )
            return _wp_error(
                401,
                "woocommerce_rest_cannot_create",
                "Sorry, you are not allowed to create resources.",
            )
        key, secret = credentials
        if key != self.consumer_key:
            return _wp_error(
                401, "woocommerce_rest_authentication_error", "Consumer key is invalid."
            )
        if not hmac.compare_digest(secret, self.consumer_secret):
            return _wp_error(
                401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."
            )
        if request.method == "GET":
            return self.list_coupons(request)
        if self.permissions == "read":
            return _wp_error(
                401,
                "woocommerce_rest_authentication_error",
                "The API key provided does not have write permissions.",
            )
        return self.create_coupon(request)

    def list_coupons(self, request: Received) -> Reply:
        coupons = sorted(self.coupons.values(), key=lambda c: c["id"], reverse=True)
        code = request.param("code")
        if code:
            coupons = [c for c in coupons if c["code"] == code.lower()]
        if self.hidden_listings:
            self.hidden_listings -= 1
            coupons = []
        page = coupons[:10]
        pages = str(max(1, -(-len(coupons) // 10)))
        return _wp_json(200, page, **{"X-WP-Total": str(len(coupons)), "X-WP-TotalPages": pages})

    def create_coupon(self, request: Received) -> Reply:
        if "application/json" not in request.headers.get("content-type", ""):
            return _wp_error(
                400, "rest_missing_callback_param", "Missing parameter(s): code", params=["code"]
            )
        try:
            data = request.json()
        except ValueError:
            return _wp_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        if not isinstance(data, dict) or not data.get("code"):
            return _wp_error(
                400, "rest_missing_callback_param", "Missing parameter(s): code", params=["code"]
            )
        invalid = {
            name: f"{name} is not of type {kind.__name__}."
            for name, kind in COUPON_TYPES.items()
            if name in data and data[name] is not None and type(data[name]) is not kind
        }
        if data.get("discount_type", "fixed_cart") not in (
            "percent",
            "fixed_cart",
            "fixed_product",
        ):
            invalid["discount_type"] = (
                "discount_type is not one of percent, fixed_cart, and fixed_product."
            )
        for name in ("amount", "minimum_amount"):
            if name not in invalid and name in data and not _is_number(data[name]):
                invalid[name] = f"{name} is not numeric."
        if invalid:
            return _wp_error(
                400,
                "rest_invalid_param",
                f"Invalid parameter(s): {', '.join(invalid)}",
                params=invalid,
            )
        code = data["code"].lower()  # wc_format_coupon_code + wc_strtolower
        if any(c["code"] == code for c in self.coupons.values()):
            return _wp_error(
                400, "woocommerce_rest_coupon_code_already_exists", "The coupon code already exists"
            )
        coupon_id, self.next_id = self.next_id, self.next_id + 1
        now = self.clock().strftime("%Y-%m-%dT%H:%M:%S")  # the site's timezone is UTC
        expires = data.get("date_expires")
        coupon = {
            "id": coupon_id,
            "code": code,
            "amount": _two_decimals(data.get("amount", "0")),
            "status": "publish",
            "date_created": now,
            "date_created_gmt": now,
            "date_modified": now,
            "date_modified_gmt": now,
            "discount_type": data.get("discount_type", "fixed_cart"),
            "description": data.get("description", ""),
            "date_expires": expires,
            "date_expires_gmt": expires,  # the fake site's timezone is UTC
            "usage_count": 0,
            "individual_use": data.get("individual_use", False),
            "product_ids": [],
            "excluded_product_ids": [],
            "usage_limit": data.get("usage_limit") or None,
            "usage_limit_per_user": data.get("usage_limit_per_user") or None,
            "limit_usage_to_x_items": None,
            "free_shipping": False,
            "product_categories": [],
            "excluded_product_categories": [],
            "exclude_sale_items": False,
            "minimum_amount": _two_decimals(data.get("minimum_amount", "0")),
            "maximum_amount": _two_decimals(data.get("maximum_amount", "0")),
            "email_restrictions": data.get("email_restrictions", []),
            "used_by": [],
            "meta_data": [],
            "_links": {
                "self": [{"href": f"{self.url}{self.PATH}/{coupon_id}"}],
                "collection": [{"href": f"{self.url}{self.PATH}"}],
            },
        }
        self.coupons[coupon_id] = coupon
        return _wp_json(201, coupon, Location=f"{self.url}{self.PATH}/{coupon_id}")


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def _two_decimals(text: str) -> str:
    return f"{Decimal(text or '0').quantize(Decimal('0.01')):f}"


# --- PrestaShop webservice ----------------------------------------------------------------

XLINK = "http://www.w3.org/1999/xlink"
AUTH_REALM = (
    'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the'
    ' login. No password required."'
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?")
_UNCLEAN_HTML = re.compile(r"<\s*script|on\w+\s*=|javascript:", re.IGNORECASE)

# CartRule::$definition (PrestaShop 8), the fields the fake knows: name -> (validator, required)
CART_RULE_FIELDS: dict[str, tuple[str, bool]] = {
    "id_customer": ("isUnsignedId", False),
    "date_from": ("isDate", True),
    "date_to": ("isDate", True),
    "description": ("isCleanHtml", False),
    "quantity": ("isUnsignedInt", False),
    "quantity_per_user": ("isUnsignedInt", False),
    "priority": ("isUnsignedInt", False),
    "partial_use": ("isBool", False),
    "code": ("isCleanHtml", False),
    "minimum_amount": ("isFloat", False),
    "minimum_amount_tax": ("isBool", False),
    "minimum_amount_currency": ("isInt", False),
    "minimum_amount_shipping": ("isBool", False),
    "free_shipping": ("isBool", False),
    "reduction_percent": ("isPercentage", False),
    "reduction_amount": ("isFloat", False),
    "reduction_tax": ("isBool", False),
    "reduction_currency": ("isUnsignedId", False),
    "highlight": ("isBool", False),
    "active": ("isBool", False),
}


def _valid(validator: str, value: str) -> bool:
    if validator == "isDate":
        return bool(_DATE.fullmatch(value))
    if validator in ("isUnsignedId", "isUnsignedInt", "isInt"):
        return value == "" or value.lstrip("-" if validator == "isInt" else "").isdigit()
    if validator == "isBool":
        return value in ("", "0", "1")
    if validator in ("isFloat", "isPercentage"):
        if value == "":
            return True
        if not _is_number(value):
            return False
        return validator == "isFloat" or 0 <= Decimal(value) <= 100
    if validator == "isCleanHtml":
        return not _UNCLEAN_HTML.search(value)
    return True


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _ps_xml(status: int, inner: str, headers: dict[str, str] | None = None) -> Reply:
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    body = f'{declaration}<prestashop xmlns:xlink="{XLINK}">\n{inner}\n</prestashop>\n'
    return Reply(
        status,
        body.encode(),
        {
            "Content-Type": "text/xml;charset=utf-8",
            "X-Powered-By": "PrestaShop Webservice",
            **(headers or {}),
        },
    )


def _ps_errors(
    status: int, *errors: tuple[int, str], headers: dict[str, str] | None = None
) -> Reply:
    items = "".join(
        f"<error>\n<code>{_cdata(str(code))}</code>\n<message>{_cdata(message)}</message>\n</error>\n"
        for code, message in errors
    )
    return _ps_xml(status, f"<errors>\n{items}</errors>", headers)


class PrestaShopShop(FakeServer):
    """``/api/cart_rules`` (GET list, POST) and ``/api/currencies`` (GET list)."""

    def __init__(
        self,
        key: str = "UCCLLQ9N2ARSHWCXLT74KUKSSK34BFKX",  # the documentation's example key
        permissions: dict[str, set[str]] | None = None,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self.clock = clock
        self.key = key
        self.permissions = permissions or {"cart_rules": {"GET", "POST"}, "currencies": {"GET"}}
        self.cart_rules: dict[int, dict[str, Any]] = {}
        self.currencies: dict[int, dict[str, Any]] = {
            1: {"id": "1", "name": "Euro", "iso_code": "EUR", "deleted": "0", "active": "1"},
            2: {"id": "2", "name": "Dollar", "iso_code": "USD", "deleted": "1", "active": "0"},
        }
        self.next_id = 1
        self.version = "8.1.7"
        self.enabled = True  # PS_WEBSERVICE, switched in Advanced Parameters > Webservice

    def handle(self, request: Received) -> Reply:
        if not self.enabled:
            message = (
                "The PrestaShop webservice is disabled. Please activate it in the"
                " PrestaShop Back Office"
            )
            return _ps_errors(503, (22, message))
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        resource = request.path.removeprefix("/api").strip("/").split("/")[0]
        tables = {"cart_rules": self.cart_rules, "currencies": self.currencies}
        if resource not in tables:
            return self.stamp(
                _ps_errors(400, (27, f'Resource of type "{resource}" does not exists'))
            )
        if resource not in self.permissions:
            return self.stamp(
                _ps_errors(
                    401,
                    (
                        26,
                        f'Resource of type "{resource}" is not allowed'
                        " with this authentication key",
                    ),
                )
            )
        if request.method not in self.permissions[resource]:
            return self.stamp(
                _ps_errors(
                    405,
                    (
                        25,
                        f"Method {request.method} is not allowed for the resource {resource}"
                        " with this authentication key",
                    ),
                )
            )
        if request.method == "GET":
            return self.stamp(self.listing(resource, tables[resource], request))
        return self.stamp(self.create_cart_rule(request))

    def authenticate(self, request: Received) -> Reply | None:
        credentials = request.basic_auth()
        unauthorized = {"WWW-Authenticate": AUTH_REALM}
        if credentials is None:
            return _ps_errors(
                401,
                (16, "Please enter the authentication key as the login. No password required"),
                headers=unauthorized,
            )
        key = credentials[0].strip()
        if not key:
            return _ps_errors(401, (17, "Authentication key is empty"), headers=unauthorized)
        if len(key) != 32:
            return _ps_errors(401, (18, "Invalid authentication key format"), headers=unauthorized)
        if not hmac.compare_digest(key, self.key):
            return _ps_errors(
                401,
                (20, "Authentification key is not active"),
                (21, "No permission for this authentication key"),
                headers=unauthorized,
            )
        return None

    def stamp(self, reply: Reply) -> Reply:
        reply.headers["PSWS-Version"] = self.version  # sent once authenticated
        return reply

    def listing(self, resource: str, table: dict[int, dict[str, Any]], request: Received) -> Reply:
        singular = resource[:-1] if resource == "cart_rules" else "currency"
        rows = list(table.values())
        for name, values in request.query.items():
            match = re.fullmatch(r"filter\[(\w+)\]", name)
            if not match:
                continue
            column = match.group(1)
            if (
                column != "id"
                and all(column not in row for row in rows)
                and not (resource == "cart_rules" and column in CART_RULE_FIELDS)
            ):
                return _ps_errors(
                    400, (32, f'This filter does not exist. Did you mean: "{column}"?')
                )
            literal = re.fullmatch(r"\[(.*)\]", values[0])
            if literal is None:
                wanted = {values[0].lower()}
            else:
                wanted = {v.lower() for v in literal.group(1).split("|")}
            rows = [row for row in rows if str(row.get(column, "")).lower() in wanted]
        display = request.param("display")
        items = []
        for row in sorted(rows, key=lambda r: int(r["id"])):
            href = f"{self.url}/api/{resource}/{row['id']}"
            if display is None:
                items.append(f'<{singular} id="{row["id"]}" xlink:href={quoteattr(href)}/>')
                continue
            if display == "full":
                names = [n for n in row if n != "name"]
            else:
                names = [n.strip() for n in display.strip("[]").split(",")]
                unknown = [n for n in names if n not in row]
                if unknown:
                    return _ps_errors(400, (35, f'Unable to display this field "{unknown[0]}".'))
            fields = "".join(f"<{n}>{_cdata(str(row[n]))}</{n}>" for n in names)
            items.append(f"<{singular}>{fields}</{singular}>")
        return _ps_xml(200, f"<{resource}>\n" + "\n".join(items) + f"\n</{resource}>")

    def create_cart_rule(self, request: Received) -> Reply:
        try:
            root = ET.fromstring(request.body)
        except ET.ParseError as error:
            return _ps_errors(500, (127, f"XML error : {error}"))
        entities = list(root)
        if root.tag != "prestashop" or not entities:
            return _ps_errors(400, (41, 'parameter "date_from" required'))
        rule = entities[0]
        if (rule.findtext("id") or "").strip():
            return _ps_errors(400, (91, "id is forbidden when adding a new resource"))
        values: dict[str, Any] = {}
        for name, (_, required) in CART_RULE_FIELDS.items():
            element = rule.find(name)
            if element is None:
                if required:
                    return _ps_errors(400, (41, f'parameter "{name}" required'))
                values[name] = ""
                continue
            values[name] = element.text or ""
        names = {
            language.get("id", ""): language.text or ""
            for language in rule.iterfind("name/language")
        }
        if not names.get("1"):
            return _ps_errors(
                400,
                (84, 'Validation error: "Property CartRule->name is empty for default language."'),
            )
        if any(len(name) > 254 or _UNCLEAN_HTML.search(name) for name in names.values()):
            return _ps_errors(400, (84, 'Validation error: "Property CartRule->name is not valid"'))
        for name, (validator, _) in CART_RULE_FIELDS.items():
            if not _valid(validator, values[name]):
                return _ps_errors(
                    400, (85, f'Validation error: "Property CartRule->{name} is not valid"')
                )
        rule_id, self.next_id = self.next_id, self.next_id + 1
        now = self.clock().strftime("%Y-%m-%d %H:%M:%S")
        stored = {"id": str(rule_id), **values, "name": names, "date_add": now, "date_upd": now}
        self.cart_rules[rule_id] = stored
        fields = "".join(f"<{n}>{_cdata(str(v))}</{n}>" for n, v in stored.items() if n != "name")
        languages = "".join(
            f'<language id="{i}" xlink:href="{self.url}/api/languages/{i}">'
            f"{_cdata(text)}</language>"
            for i, text in names.items()
        )
        return _ps_xml(201, f"<cart_rule>{fields}<name>{languages}</name></cart_rule>")


# --- The contest's webhook, received ------------------------------------------------------


class WebhookReceiver(FakeServer):
    """``POST /hooks/contest``: checks the signature, keeps each Idempotency-Key once."""

    PATH = "/hooks/contest"

    def __init__(self, secret: str = "whsec-7d1c9a4e2b8f6035") -> None:
        super().__init__()
        self.secret = secret
        self.events: dict[str, dict[str, Any]] = {}

    @property
    def endpoint(self) -> str:
        return self.url + self.PATH

    def handle(self, request: Received) -> Reply:
        if request.method != "POST" or request.path != self.PATH:
            return Reply(404, b"not found")
        expected = (
            "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        )
        given = request.headers.get("x-contest-signature", "")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            return Reply(
                401, b'{"error":"invalid signature"}', {"Content-Type": "application/json"}
            )
        key = request.headers.get("idempotency-key")
        if not key:
            return Reply(400, b'{"error":"Idempotency-Key required"}')
        duplicate = key in self.events
        if not duplicate:
            self.events[key] = json.loads(request.body)
        body = json.dumps({"received": True, "duplicate": duplicate}).encode()
        return Reply(200, body, {"Content-Type": "application/json"})


# --- Shopify GraphQL Admin API ------------------------------------------------------------


class ShopifyShop(FakeServer):
    """``POST /admin/api/{version}/graphql.json``: the three operations the connector sends.

    Follows the GraphQL Admin API reference: ``X-Shopify-Access-Token`` authentication (401
    with ``{"errors": "[API] Invalid API key or access token ..."}``), ``shop { name
    currencyCode }``, ``codeDiscountNodeByCode(code:)`` (null when no discount has the code;
    codes compare case-insensitively) and ``discountCodeBasicCreate``, whose required fields on
    creation are code, context (or the older customerSelection), customerGets, startsAt and
    title, and whose duplicate code is the user error ``TAKEN``. A token without the
    ``write_discounts`` scope gets the top-level error ``ACCESS_DENIED``.
    """

    VERSION_PATH = re.compile(r"/admin/api/(20\d\d-\d\d)/graphql\.json")

    def __init__(
        self,
        token: str = "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",
        currency: str = "EUR",
        scopes: tuple[str, ...] = ("read_discounts", "write_discounts"),
    ) -> None:
        super().__init__()
        self.token = token
        self.currency = currency
        self.scopes = scopes
        self.discounts: dict[str, dict[str, Any]] = {}  # by lowercased code
        self.next_id = 1057371
        self.hidden_lookups = 0
        self.throttled = 0
        self.lost_creates = 0

    def hide_next_lookup(self) -> None:
        """The next lookup misses a discount that exists (a lagging index)."""
        self.hidden_lookups += 1

    def throttle_next(self) -> None:
        """The next query exceeds the cost budget: 200 with the ``THROTTLED`` error."""
        self.throttled += 1

    def lose_next_create_answer(self) -> None:
        """The next create is done, then the connection closes without an answer."""
        self.lost_creates += 1

    def respond(self, request: Received) -> Reply | None:
        reply = super().respond(request)
        if reply is not None and self.lost_creates and b"discountCodeBasicCreate" in request.body:
            self.lost_creates -= 1
            return None
        return reply

    def handle(self, request: Received) -> Reply:
        if request.method != "POST" or not self.VERSION_PATH.fullmatch(request.path):
            return Reply(404, b'{"errors":"Not Found"}', {"Content-Type": "application/json"})
        if request.headers.get("x-shopify-access-token") != self.token:
            body = {
                "errors": "[API] Invalid API key or access token (unrecognized login or "
                "wrong password)"
            }
            return Reply(401, json.dumps(body).encode(), {"Content-Type": "application/json"})
        try:
            query = str(request.json()["query"])
            variables = request.json().get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return self._errors("Parse error on input")
        if self.throttled:
            self.throttled -= 1
            return self._errors("Throttled", "THROTTLED")
        if "shop {" in query:
            return self._data({"shop": {"name": "Atelier Demo", "currencyCode": self.currency}})
        if "codeDiscountNodeByCode" in query:
            if "read_discounts" not in self.scopes:
                return self._errors(
                    "Access denied for codeDiscountNodeByCode field.", "ACCESS_DENIED"
                )
            found = self.discounts.get(str(variables.get("code", "")).lower())
            if self.hidden_lookups:
                self.hidden_lookups -= 1
                found = None
            return self._data({"codeDiscountNodeByCode": found and {"id": found["id"]}})
        if "discountCodeBasicCreate" in query:
            if "write_discounts" not in self.scopes:
                return self._errors(
                    "Access denied for discountCodeBasicCreate field.", "ACCESS_DENIED"
                )
            return self._create(variables.get("discount") or {})
        return self._errors("Field doesn't exist on type 'QueryRoot'")

    def _create(self, discount: dict[str, Any]) -> Reply:
        missing = [
            name for name in ("code", "customerGets", "startsAt", "title") if not discount.get(name)
        ]
        if not (discount.get("context") or discount.get("customerSelection")):
            missing.append("context")
        errors = [
            {
                "field": ["basicCodeDiscount", name],
                "code": "BLANK",
                "message": f"{name} can't be blank",
            }
            for name in missing
        ]
        code = str(discount.get("code", ""))
        if code.lower() in self.discounts:
            errors.append(
                {
                    "field": ["basicCodeDiscount", "code"],
                    "code": "TAKEN",
                    "message": "Code must be unique. Please try a different code.",
                }
            )
        if errors:
            payload = {"codeDiscountNode": None, "userErrors": errors}
            return self._data({"discountCodeBasicCreate": payload})
        node = {"id": f"gid://shopify/DiscountCodeNode/{self.next_id}", "input": discount}
        self.next_id += 1
        self.discounts[code.lower()] = node
        payload = {"codeDiscountNode": {"id": node["id"]}, "userErrors": []}
        return self._data({"discountCodeBasicCreate": payload})

    @staticmethod
    def _data(data: dict[str, Any]) -> Reply:
        return Reply(200, json.dumps({"data": data}).encode(), {"Content-Type": "application/json"})

    @staticmethod
    def _errors(message: str, code: str = "GRAPHQL_VALIDATION_FAILED") -> Reply:
        body = {"errors": [{"message": message, "extensions": {"code": code}}]}
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
