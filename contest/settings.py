"""Everything the app reads from the environment, in one place.

Variables (all prefixed ``CONTEST_``) are described in the README. Secrets are wrapped in
:class:`Secret` so they never print by accident (in a traceback, a log line or a repr).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from contest.ratelimit import Limit, parse_limit

# The League of Entropy's drand relays (contest.draw.beacon fetches announced rounds there).
DRAND_RELAYS = ("https://api.drand.sh", "https://drand.cloudflare.com")


class Secret:
    """A string that does not show itself in ``repr`` or ``str``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


class SettingsError(RuntimeError):
    """The environment describes a configuration the app refuses to run with."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: Secret
    secret_keys: tuple[Secret, ...]
    base_url: str
    smtp_url: Secret | None
    env: str
    # The sending address; empty: no-reply@ the host of base_url (see __post_init__).
    mail_from: str = ""
    # Entries a contest takes from one network (IPv4 /24, IPv6 /48), and attempts with one
    # address: generous enough for a shop's Wi-Fi or a mobile carrier's shared addresses.
    entry_limit_per_network: Limit | None = Limit(60, timedelta(minutes=10))
    entry_limit_per_address: Limit | None = Limit(10, timedelta(hours=1))
    # Destinations connectors may call although they are not public addresses (host names,
    # addresses or networks): a shop on the local network, the tests' local servers.
    outbound_allow: tuple[str, ...] = ()
    # The DNS servers that check organizers' sending domains ((host, port)); empty: the
    # system's resolver.
    dns_servers: tuple[tuple[str, int], ...] = ()
    # The Maildir where the mail server delivers bounces and complaints
    # (CONTEST_BOUNCE_MAILDIR): the worker reads it each minute (contest.bounces.maildir).
    bounce_maildir: Path | None = None
    # The secret the relay signs the bounce webhook's bodies with
    # (CONTEST_BOUNCE_WEBHOOK_SECRET); unset, POST /hooks/bounces answers 404.
    bounce_webhook_secret: Secret | None = None
    # The drand relays a draw fetches its announced round from (CONTEST_DRAND_URLS); empty:
    # none is called, the operator pastes the round's signature (checked all the same).
    drand_urls: tuple[str, ...] = DRAND_RELAYS
    # The reverse proxies whose X-Forwarded-For gives the client's address
    # (CONTEST_TRUSTED_PROXIES, else uvicorn's FORWARDED_ALLOW_IPS; "*" trusts every peer).
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    # Whether each app process also sends the outbox (CONTEST_APP_SENDS_MAIL); ``no`` leaves
    # it to `contest worker` processes, which keeps the app's processes for the requests.
    app_sends_mail: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.mail_from:
            object.__setattr__(self, "mail_from", f"Concours <no-reply@{self.address_domain}>")

    @property
    def mail_domain(self) -> str:
        """The host of ``CONTEST_BASE_URL``: the domain of Message-IDs, of the SMTP greeting
        and of the default sending address."""
        return urlsplit(self.base_url).hostname or "localhost"

    @property
    def address_domain(self) -> str:
        """:attr:`mail_domain` as it stands after an @ or in the SMTP greeting: a name, or an
        address literal (``[192.0.2.1]``, ``[IPv6:2001:db8::1]``)."""
        domain = self.mail_domain
        try:
            address = ipaddress.ip_address(domain)
        except ValueError:
            return domain
        return f"[{address}]" if address.version == 4 else f"[IPv6:{address}]"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.reveal().startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; create the data folder and the generated key when needed.

        Refuses a generated key in production: several processes behind a load balancer must
        share one key, and a key that silently changes would void every link already mailed.
        Refuses mail written to files in production: it would reach nobody.
        """
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("CONTEST_DATA_DIR", "var"))
        mode = env.get("CONTEST_ENV", "development")
        if mode not in MODES:  # "prod" would quietly turn every production safeguard off
            raise SettingsError(f"CONTEST_ENV must be development or production, not {mode!r}")
        database_url = env.get("CONTEST_DATABASE_URL") or f"sqlite:///{data_dir / 'contest.db'}"
        _check_database_url(database_url)
        base_url = _base_url(env.get("CONTEST_BASE_URL", "http://127.0.0.1:8000").rstrip("/"))
        smtp = env.get("CONTEST_SMTP_URL") or None
        if smtp:
            _check_smtp_url(smtp)
        mail_from = env.get("CONTEST_MAIL_FROM", "").strip()
        if mail_from and not _is_address(mail_from):
            raise SettingsError(
                f"CONTEST_MAIL_FROM must be an e-mail address (name@example.org), not {mail_from!r}"
            )
        raw_key = (env.get("CONTEST_SECRET_KEY") or "").strip()
        if raw_key:
            # Several keys separated by spaces: the first signs, all verify (rotation).
            keys = tuple(Secret(k) for k in _secret_keys(raw_key))
        elif mode == "production":
            raise SettingsError(
                "CONTEST_SECRET_KEY must be set when CONTEST_ENV=production "
                "(every app process must share the same key)."
            )
        else:
            keys = (Secret(_generated_key(data_dir)),)
        files_chosen = env.get("CONTEST_MAIL_FILES", "").strip().lower() in {"1", "yes", "true"}
        if not smtp and mode == "production" and not files_chosen:  # files reach nobody
            raise SettingsError(
                "CONTEST_SMTP_URL must be set when CONTEST_ENV=production (without it, e-mails "
                "are only written as files under the data folder; set CONTEST_MAIL_FILES=yes "
                "if that is really what you want, e.g. for a benchmark)."
            )
        return cls(
            data_dir=data_dir,
            database_url=Secret(database_url),
            secret_keys=keys,
            base_url=base_url,
            smtp_url=Secret(smtp) if smtp else None,
            env=mode,
            mail_from=mail_from,
            entry_limit_per_network=_limit(env, "CONTEST_ENTRY_LIMIT_PER_NETWORK", "60/10m"),
            entry_limit_per_address=_limit(env, "CONTEST_ENTRY_LIMIT_PER_ADDRESS", "10/1h"),
            outbound_allow=tuple(
                entry.strip()
                for entry in env.get("CONTEST_OUTBOUND_ALLOW", "").split(",")
                if entry.strip()
            ),
            dns_servers=_dns_servers(env.get("CONTEST_DNS_SERVERS", "")),
            bounce_maildir=bounce_maildir_from_env(env),
            bounce_webhook_secret=_bounce_webhook_secret(env),
            drand_urls=_drand_urls(env),
            trusted_proxies=_trusted_proxies(env),
            app_sends_mail=_yes_or_no(env, "CONTEST_APP_SENDS_MAIL", default=True),
        )


MODES = frozenset({"development", "production"})
SECRET_KEY_MIN_LENGTH = 32


def _secret_keys(raw: str) -> list[str]:
    """The keys of ``CONTEST_SECRET_KEY``, each long enough to be a key: a short word is a
    mistake, such as a comment on the same line of a systemd EnvironmentFile (which becomes
    part of the value), and anyone could sign links with it."""
    keys = raw.split()
    # The first key signs; the later ones only verify old links and open old secrets, so a
    # short key may stay behind a new one while it is rotated out. Words that look like a
    # comment are refused wherever they stand.
    short = [
        n
        for n, key in enumerate(keys, start=1)
        if (n == 1 and len(key) < SECRET_KEY_MIN_LENGTH) or key.startswith("#")
    ]
    if short:
        which = "the key" if len(keys) == 1 else f"key number {short[0]} of {len(keys)}"
        raise SettingsError(
            f"CONTEST_SECRET_KEY: {which} is shorter than {SECRET_KEY_MIN_LENGTH} characters. "
            "Keys are separated by spaces, so no comment may follow them on the same line. "
            "Make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return keys


def _check_database_url(url: str) -> None:
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except (ArgumentError, ValueError):
        raise SettingsError(
            "CONTEST_DATABASE_URL must look like sqlite:///path/contest.db or "
            "postgresql+psycopg://user:password@host/database"
        ) from None
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise SettingsError(
            f"CONTEST_DATABASE_URL: SQLite or PostgreSQL, not {parsed.get_backend_name()!r}"
        )


def _base_url(url: str) -> str:
    problem = (
        f"CONTEST_BASE_URL must be the public address, like https://contest.example.org: {url!r}"
    )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise SettingsError(problem) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname or any(c.isspace() for c in url):
        raise SettingsError(problem)
    return url


def _check_smtp_url(url: str) -> None:
    problem = "CONTEST_SMTP_URL must look like smtp://user:password@host:port (or smtps://)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise SettingsError(problem) from None
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise SettingsError(problem)


def _is_address(text: str) -> bool:
    """A bare address or "Name <address>", with one @ and a dotted or bracketed domain."""
    _, address = parseaddr(text)
    local, at, domain = address.rpartition("@")
    return bool(at and local and domain and ("." in domain or domain.startswith("[")))


def _yes_or_no(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    """A yes/no setting; anything else is refused rather than read as one or the other."""
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text in {"1", "yes", "true", "on"}:
        return True
    if text in {"0", "no", "false", "off"}:
        return False
    raise SettingsError(f"{name}: yes or no, not {text!r}")


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    """``CONTEST_TRUSTED_PROXIES`` (or uvicorn's ``FORWARDED_ALLOW_IPS``): the addresses or
    networks of the reverse proxies in front of the app, separated by commas; ``*`` trusts any
    peer (only when nothing else can reach the app). A value that is not an address is
    refused: a typo would silently trust nobody, or everybody."""
    text = env.get("CONTEST_TRUSTED_PROXIES") or env.get("FORWARDED_ALLOW_IPS") or "127.0.0.1"
    entries = tuple(part.strip() for part in text.split(",") if part.strip())
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"CONTEST_TRUSTED_PROXIES: not an address or network: {entry} "
                "(e.g. 127.0.0.1, 10.0.0.0/8, or * behind a proxy that nothing bypasses)"
            ) from None
    return entries or ("127.0.0.1",)


def _drand_urls(env: Mapping[str, str]) -> tuple[str, ...]:
    """``CONTEST_DRAND_URLS``: drand HTTP relays separated by commas; unset, the League of
    Entropy's own; ``none``: no relay (offline installs)."""
    text = env.get("CONTEST_DRAND_URLS")
    if text is None:
        return DRAND_RELAYS
    if text.strip().lower() == "none":
        return ()
    urls = tuple(url.strip().rstrip("/") for url in text.split(",") if url.strip())
    for url in urls:
        if not url.startswith(("https://", "http://")):
            raise SettingsError(f"CONTEST_DRAND_URLS: not an http(s) address: {url}")
    return urls


def _dns_servers(text: str) -> tuple[tuple[str, int], ...]:
    """``CONTEST_DNS_SERVERS``: addresses separated by commas, each with an optional port
    (``192.0.2.53``, ``127.0.0.1:5353``, ``[2001:db8::53]:53``)."""
    servers = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        host, port = entry, "53"
        if entry.startswith("["):
            host, _, rest = entry[1:].partition("]")
            port = rest.removeprefix(":") or "53"
        elif entry.count(":") == 1:
            host, port = entry.split(":")
        try:
            ipaddress.ip_address(host)
            number = int(port)
        except ValueError:
            number = 0
        if not 0 < number < 65536:
            raise SettingsError(f"CONTEST_DNS_SERVERS: not an address[:port]: {entry}")
        servers.append((host, number))
    return tuple(servers)


def _limit(env: Mapping[str, str], variable: str, default: str) -> Limit | None:
    try:
        return parse_limit(env.get(variable, default))
    except ValueError as problem:
        raise SettingsError(f"{variable}: {problem}") from None


def _generated_key(data_dir: Path) -> str:
    """The key written once into ``data_dir/secret.key`` (created readable by the owner only)."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def bounce_maildir_from_env(environ: Mapping[str, str] | None = None) -> Path | None:
    """``CONTEST_BOUNCE_MAILDIR``: the bounce mailbox, a Maildir folder (created with its
    ``tmp/``, ``new/`` and ``cur/`` when missing), relative to the working directory unless
    absolute; unset or empty: no mailbox is read. The worker's duty reads it through this
    function at each pass."""
    env = os.environ if environ is None else environ
    folder = env.get("CONTEST_BOUNCE_MAILDIR", "").strip()
    return Path(folder) if folder else None


BOUNCE_SECRET_MIN_LENGTH = 16


def _bounce_webhook_secret(env: Mapping[str, str]) -> Secret | None:
    """``CONTEST_BOUNCE_WEBHOOK_SECRET``: the HMAC-SHA256 key of ``POST /hooks/bounces``
    (``X-Contest-Signature: sha256=<hex of the body's HMAC>``); unset: the webhook is off.
    Refuses a secret shorter than 16 characters: anyone who guesses it can withdraw consents."""
    secret = env.get("CONTEST_BOUNCE_WEBHOOK_SECRET", "").strip()
    if not secret:
        return None
    if len(secret) < BOUNCE_SECRET_MIN_LENGTH:
        raise SettingsError(
            f"CONTEST_BOUNCE_WEBHOOK_SECRET must be at least {BOUNCE_SECRET_MIN_LENGTH} "
            "characters long"
        )
    return Secret(secret)
