"""The stack prod-check starts and stops: the throw-away CA and certificate, the configuration taken from
deploy/ (the units' ExecStart lines, the env file, nginx's site), the processes (nginx, the two daphne
processes, the report worker, manage.py commands) and its own database and Redis prefix."""

from __future__ import annotations

import datetime as dt
import ipaddress
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .common import (
    DEPLOY,
    HOST,
    ROOT,
    VENV_BIN,
    CheckFailed,
    step,
)

# --- certificates ----------------------------------------------------------------------------------


def make_certificates(directory: Path) -> Path:
    """A CA and a server certificate for localhost / 127.0.0.1 signed by it; returns the CA's file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cencomm prod-check CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True)
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "fullchain.pem").write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    (directory / "privkey.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory / "ca.pem"


# --- configuration from deploy/ ---------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def exec_start(unit: str, directive: str = "ExecStart", **substitutions: str) -> list[str]:
    """The unit's ExecStart (or ``directive``: ExecStartPre), with the installed paths replaced by
    this checkout's and ``substitutions`` made (systemd's specifiers: ``%i``, ``%H``)."""
    text = (DEPLOY / "systemd" / unit).read_text()
    line = next(x for x in text.splitlines() if x.startswith(f"{directive}="))
    command = line.removeprefix(f"{directive}=").replace("/srv/cencomm/app/.venv/bin/", f"{VENV_BIN}/")
    for old, new in substitutions.items():
        command = command.replace(old, new)
    return command.split()


def render(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        if old not in text:
            raise CheckFailed(f"deploy/nginx/cencomm.conf no longer contains {old!r}: update prod_check.py")
        text = text.replace(old, new)
    return text


def nginx_config(
    prefix: Path, *, https_port: int, http_port: int, daphne_ports: list[int], certs: Path, static: Path
) -> Path:
    site = render(
        (DEPLOY / "nginx" / "cencomm.conf").read_text(),
        [
            ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{daphne_ports[0]} "),
            ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{daphne_ports[1]} "),
            ("listen 80;", f"listen 127.0.0.1:{http_port};"),
            ("listen [::]:80;", ""),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
            ("listen [::]:443 ssl http2;", ""),
            ("server_name hub.example.org;", f"server_name {HOST};"),
            ("/etc/ssl/cencomm/", f"{certs}/"),
            ("/srv/cencomm/app/staticfiles/", f"{static}/"),
        ],
    )
    (prefix / "cencomm.conf").write_text(site)
    temp = {name: prefix / "temp" / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(parents=True)
    main = f"""
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {prefix}/cencomm.conf;
}}
"""
    (prefix / "nginx.conf").write_text(main)
    return prefix / "nginx.conf"


# --- processes ---------------------------------------------------------------------------------------


class Stack:
    """Every process started, stopped in reverse order on exit (TERM, then KILL after 10 s)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, command: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen:
        log_path = self.logs / f"{name}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own commands
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kwargs,
            )
        self.processes.append((name, process, log_path))
        return process

    def check_alive(self) -> None:
        for name, process, log_path in self.processes:
            if process.poll() is not None:
                raise CheckFailed(f"{name} exited with {process.returncode}:\n{tail(log_path)}")

    def stop(self) -> None:
        for _, process, _ in reversed(self.processes):
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for name, process, _ in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                step(f"{name} did not stop within 10 s of SIGTERM: killed")
                with suppress(ProcessLookupError):
                    process.kill()
                process.wait(timeout=5)

    def log_text(self, name: str) -> str:
        return next(path for n, _, path in self.processes if n == name).read_text(errors="replace")


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def manage(env: dict[str, str], *args: str) -> str:
    return finish(spawn(env, *args), f"manage.py {' '.join(args)}")


def spawn(env: dict[str, str], *args: str, script: Path = ROOT / "manage.py") -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own commands
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(process: subprocess.Popen, what: str, timeout: float = 120) -> str:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise CheckFailed(f"{what} took more than {timeout:.0f} s") from None
    if process.returncode != 0:
        raise CheckFailed(f"{what} failed:\n{output}")
    return output


# --- database and Redis -------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def clear_redis(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
