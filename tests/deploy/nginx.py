"""Debian's nginx in front of local app processes, with the site file of docs/deploy.md.

``deploy/nginx-site.conf`` is used as it stands but for the values a deployment replaces too
(the server's name, its certificate, the checkout's folder, the app processes' addresses, the
ports), so that the recipe's file is the one the tests and ``make bench`` run. The main
configuration around it is a small copy of Debian's ``/etc/nginx/nginx.conf`` whose paths
(pid, logs, temporary files) are in a temporary folder: no root needed, nothing of the
packaged nginx used but its binary and ``mime.types``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx-site.conf"
STATIC = ROOT / "static"
INSTALL_HINT = (
    "nginx not found: install Debian's 'nginx' package (apt-get install nginx), or run "
    "`make test` as root to have it installed."
)
# Each value of the site file that a deployment replaces, as it stands in the file.
SERVER_NAME = "contest.example.org"
CERTIFICATE = "/etc/letsencrypt/live/contest.example.org/fullchain.pem"
CERTIFICATE_KEY = "/etc/letsencrypt/live/contest.example.org/privkey.pem"
CHECKOUT_STATIC = "/srv/contest/static/"
UPSTREAMS = "    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;\n"
HTTP_LISTEN = "listen 80;"
HTTPS_LISTEN = "listen 443 ssl http2;"
# The access log records which app process answered ("-" for a file nginx served itself).
LOG_FORMAT = "$remote_addr $status $request_method $request_uri upstream=$upstream_addr"


def find_nginx() -> Path | None:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return Path(found) if os.access(found, os.X_OK) else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Nginx:
    http_port: int
    https_port: int
    certificate: Path  # self-signed, for 127.0.0.1 and the server's name
    access_log: Path
    error_log: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def access_lines(self) -> list[str]:
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []


def site_config(
    *,
    server_name: str,
    upstreams: Sequence[str],
    http_port: int,
    https_port: int,
    certificate: Path,
    key: Path,
    static: Path = STATIC,
) -> str:
    """The site file with a deployment's values in place of the examples; refuses a site file
    that no longer holds one of them (the substitution would silently do nothing)."""
    text = SITE.read_text()
    servers = "".join(f"    server {address};\n" for address in upstreams)
    for example, value in (
        (CERTIFICATE, str(certificate)),
        (CERTIFICATE_KEY, str(key)),
        (UPSTREAMS, servers),
        (CHECKOUT_STATIC, f"{static}/"),
        (SERVER_NAME, server_name),
        (HTTP_LISTEN, f"listen 127.0.0.1:{http_port};"),
        (HTTPS_LISTEN, f"listen 127.0.0.1:{https_port} ssl http2;"),
    ):
        if example not in text:
            raise ValueError(f"{SITE.name} no longer holds {example!r}")
        text = text.replace(example, value)
    return text


def main_config(folder: Path, site: Path, *, trust_forwarded_from: str | None = None) -> str:
    """Debian's main configuration, its paths in ``folder``. ``trust_forwarded_from`` lets
    nginx take the client's address from the X-Forwarded-For of that peer (the realip module,
    as behind a load balancer): the benchmark's clients each claim their own address."""
    realip = ""
    if trust_forwarded_from:
        realip = (
            f"    set_real_ip_from {trust_forwarded_from};\n    real_ip_header X-Forwarded-For;\n"
        )
    user = "user root;\n" if os.geteuid() == 0 else ""  # the temporary folder is root's own
    temp = "".join(
        f"    {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\n"
        "daemon off;\n"
        f"pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events {\n    worker_connections 1024;\n}\n"
        "http {\n"
        "    sendfile on;\n"
        "    tcp_nopush on;\n"
        "    types_hash_max_size 2048;\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        "    gzip on;\n"
        f"{temp}"
        f"    log_format upstreams '{LOG_FORMAT}';\n"
        f"    access_log {folder / 'access.log'} upstreams;\n"
        f"{realip}"
        f"    include {site};\n"
        "}\n"
    )


def self_signed(folder: Path, names: Sequence[str]) -> tuple[Path, Path]:
    """A certificate and its key for ``names`` (host names or IP addresses), a day long."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "certificate.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@contextlib.contextmanager
def nginx(
    folder: Path,
    upstreams: Sequence[str],
    *,
    server_name: str,
    trust_forwarded_from: str | None = None,
    ports: tuple[int, int] | None = None,
) -> Iterator[Nginx]:
    """nginx in the foreground with the site file, until the block ends; on ``ports`` (http,
    https) when given, else on free ones."""
    binary = find_nginx()
    if binary is None:
        raise RuntimeError(INSTALL_HINT)
    folder.mkdir(parents=True, exist_ok=True)
    certificate, key = self_signed(folder, [server_name, "127.0.0.1"])
    http_port, https_port = ports or (free_port(), free_port())
    site = folder / "contest-site.conf"
    site.write_text(
        site_config(
            server_name=server_name,
            upstreams=upstreams,
            http_port=http_port,
            https_port=https_port,
            certificate=certificate,
            key=key,
        )
    )
    main = folder / "nginx.conf"
    main.write_text(main_config(folder, site, trust_forwarded_from=trust_forwarded_from))
    error_log = folder / "error.log"
    checked = subprocess.run(
        [str(binary), "-t", "-q", "-p", str(folder), "-c", str(main), "-e", str(error_log)],
        capture_output=True,
        text=True,
        check=False,
    )
    if checked.returncode != 0:
        raise RuntimeError(f"nginx refused the configuration:\n{checked.stderr}")
    with (folder / "nginx.out").open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "-p", str(folder), "-c", str(main), "-e", str(error_log)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_listening(process, https_port, error_log)
        yield Nginx(http_port, https_port, certificate, folder / "access.log", error_log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful: finishes the requests in flight
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text() if log.exists() else ""
            raise RuntimeError(f"nginx exited ({process.returncode}):\n{text}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port} within 20 s")
