"""The order of the prod-check: the stack started, the checks run, everything stopped (see the package)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from base64 import urlsafe_b64encode
from contextlib import suppress
from pathlib import Path
from typing import Any

from .checks import (
    Hub,
    check_headers,
    check_logs,
    check_message_across_processes,
    check_metrics_moved,
    check_redirect,
    check_report,
    check_result_on_board,
    metrics_of,
    sign_in,
)
from .common import (
    CHROMIUM,
    DATABASE,
    DEPLOY,
    HOST,
    NGINX,
    OPERATION,
    ROOT,
    CheckFailed,
    free_port,
    step,
    wait_for,
)
from .stack import (
    Stack,
    clear_redis,
    exec_start,
    finish,
    make_certificates,
    manage,
    nginx_config,
    read_env_file,
    recreate_database,
    spawn,
    tail,
    with_database,
)
from .world import setup_world

# --- main -------------------------------------------------------------------------------------------------


def run(tmp: Path) -> None:
    database_url = with_database(
        os.environ.get("DATABASE_URL", "").strip() or "postgres://postgres@127.0.0.1:5432/postgres", DATABASE
    )
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise CheckFailed(
            "DATABASE_URL must name a PostgreSQL server (prod-check uses its own database on it)"
        )
    redis_url = os.environ.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
    prefix = f"prodcheck-{os.getpid()}"
    if not os.path.exists(NGINX):
        raise CheckFailed("nginx is not installed (make system-deps installs it)")

    tmp.chmod(0o755)  # nginx's unprivileged user reads the certificates and static files under it
    certs, logs, static, var = tmp / "certs", tmp / "logs", tmp / "static", tmp / "var"
    ca = make_certificates(certs)
    logs.mkdir()
    (tmp / "secrets").mkdir(mode=0o700)
    secret_key, master_key = tmp / "secrets" / "secret_key", tmp / "secrets" / "master_key"
    secret_key.write_text(secrets.token_urlsafe(64))
    metrics_token = tmp / "secrets" / "metrics_token"
    metrics_token.write_text(secrets.token_urlsafe(48))
    master_key.write_text(urlsafe_b64encode(secrets.token_bytes(32)).decode())
    https_port, http_port, daphne_a, daphne_b = (free_port() for _ in range(4))
    base_url = f"https://{HOST}:{https_port}"

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CENCOMM_", "DJANGO_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")
    }
    env.update(read_env_file(DEPLOY / "cencomm.env.example"))
    env.update(
        ALLOWED_HOSTS=HOST,
        CENCOMM_ALLOWED_ORIGINS=base_url,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CENCOMM_CHANNEL_PREFIX=prefix,
        CENCOMM_VAR_DIR=str(var),
        CENCOMM_STATIC_ROOT=str(static),
        SECRET_KEY_FILE=str(secret_key),
        CENCOMM_MASTER_KEY_FILE=str(master_key),
        CENCOMM_METRICS_TOKEN_FILE=str(metrics_token),
        CENCOMM_DB_POOL_SIZE="5",
        PYTHONUNBUFFERED="1",
    )
    if env.get("CENCOMM_ENV") != "production":
        raise CheckFailed("deploy/cencomm.env.example must set CENCOMM_ENV=production")

    step(f"database {DATABASE}, Redis prefix {prefix}, temporary files in {tmp}")
    recreate_database(database_url)
    stack = Stack(logs)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    side: dict[str, subprocess.Popen] = {}
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-quic",
            ],
        )
        # collectstatic and the deployment checks need no database: they run while it migrates.
        side = {
            name: spawn(env, *args)
            for name, args in (
                ("collectstatic", ("collectstatic", "--noinput", "-v0")),
                ("check --deploy", ("check", "--deploy", "--fail-level", "WARNING")),
            )
        }
        manage(env, "migrate", "--noinput", "-v0")
        step("migrated; starting two daphne processes and the report worker, setting up the operation")
        for name, port in (("daphne-a", daphne_a), ("daphne-b", daphne_b)):
            stack.start(name, exec_start("cencomm-daphne@.service", **{"%i": str(port)}), env)
        worker = {"%H": socket.gethostname()}  # the unit's --worker-id %H-reports
        manage(env, *exec_start("cencomm-report-worker.service", "ExecStartPre", **worker)[2:])
        worker_command = exec_start("cencomm-report-worker.service", **worker) + ["--interval", "0.5"]
        stack.start("report-worker", worker_command, env)
        world = tmp / "world.json"
        finish(
            spawn(env, "--setup-world", str(world), script=DEPLOY / "prod_check.py"),
            "setting up the operation",
        )
        users = {u["username"]: u for u in json.loads(world.read_text())["users"]}
        hub = Hub(base_url, ca, users)
        for user in users.values():
            hub.secrets_used.update({user["password"], user["api_token"], user["totp_secret"]})
        hub.secrets_used.update({secret_key.read_text(), master_key.read_text(), metrics_token.read_text()})
        finish(side["collectstatic"], "manage.py collectstatic")
        checked = finish(side["check --deploy"], "manage.py check --deploy")
        if "no issues" not in checked:
            raise CheckFailed(f"manage.py check --deploy is not clean:\n{checked}")
        step("manage.py check --deploy: no issues")

        prefix_dir = tmp / "nginx"
        prefix_dir.mkdir()
        conf = nginx_config(
            prefix_dir,
            https_port=https_port,
            http_port=http_port,
            daphne_ports=[daphne_a, daphne_b],
            certs=certs,
            static=static,
        )
        nginx_args = [NGINX, "-p", str(prefix_dir), "-e", str(prefix_dir / "error.log"), "-c", str(conf)]
        unprivileged: dict[str, Any] = {}
        if os.geteuid() == 0:  # never nginx as root here: its prefix belongs to nobody
            shutil.chown(prefix_dir, "nobody")
            for path in prefix_dir.rglob("*"):
                shutil.chown(path, "nobody")
            unprivileged = {"user": "nobody", "group": "nogroup", "extra_groups": []}
        tested = subprocess.run([*nginx_args, "-t", "-q"], capture_output=True, text=True, **unprivileged)  # noqa: S603
        if tested.returncode != 0:
            raise CheckFailed(f"nginx -t refused the configuration:\n{tested.stderr}")
        stack.start("nginx", nginx_args, env, **unprivileged)

        import requests

        def healthy() -> bool:
            stack.check_alive()
            for port in (daphne_a, daphne_b):
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
            return requests.get(f"{base_url}/healthz", verify=str(ca), timeout=2).status_code == 200

        wait_for("nginx and both daphne processes", healthy)
        step(f"nginx on {base_url} (http {http_port}), daphne on {daphne_a} and {daphne_b}, worker running")
        check_redirect(http_port)
        check_headers(hub)
        step("http is redirected to https; HSTS, the request ID and nginx's static files over https")

        desk = sign_in(hub, browser, "coordinator", f"/operations/{OPERATION}/results/board/")
        step("coordinator signed in with password and TOTP in Chromium (Secure, HttpOnly session)")
        session = next(c["value"] for c in desk.context.cookies() if c["name"] == "sessionid")
        public = requests.get(f"{base_url}/metrics", verify=str(ca), timeout=10)
        if public.status_code != 404:
            raise CheckFailed(f"/metrics through the public site answered {public.status_code}, not 404")
        figures = metrics_of([daphne_a, daphne_b], metrics_token.read_text())
        check_message_across_processes(hub, stack, session)
        step("a message sent through daphne-a arrived on a socket of daphne-b")
        check_result_on_board(hub, desk)
        step("a result posted over the API appeared live on the board in Chromium")
        check_metrics_moved(figures, metrics_of([daphne_a, daphne_b], metrics_token.read_text()))
        step(
            "/metrics (each daphne's own port, with its token; 404 through nginx) moved with the check's work"
        )
        if desk.errors:
            raise CheckFailed(f"script errors on the board: {desk.errors}")
        check_report(hub, desk)
        if '"event": "report.generate"' not in stack.log_text("report-worker"):
            raise CheckFailed("the report was not generated by the report worker (db_worker)")
        step("a PDF report generated by the report worker was downloaded from its page intact")
        stack.check_alive()
    except BaseException:
        for process in side.values():
            if process.poll() is None:
                process.kill()
        stack.stop()
        for name, _, path in stack.processes:
            print(f"--- {name} log (last lines) ---\n{tail(path)}", file=sys.stderr)
        if (tmp / "nginx" / "error.log").exists():
            print(f"--- nginx error.log ---\n{tail(tmp / 'nginx' / 'error.log')}", file=sys.stderr)
        raise
    else:
        playwright.stop()  # Chromium's sockets closed first: daphne waits for open ones on stop
        stack.stop()
        check_logs(stack, ["daphne-a", "daphne-b", "report-worker"], hub.secrets_used)
        step("every log line is one JSON object with no secret in it")
    finally:
        with suppress(Exception):
            playwright.stop()  # closes Chromium
        with suppress(Exception):
            clear_redis(redis_url, prefix)
        with suppress(Exception):
            recreate_database(database_url, drop_only=True)
        step("stopped everything; database and Redis keys removed")


def main() -> int:
    parser = argparse.ArgumentParser(
        description="make prod-check: the production stack started on this machine, driven over https and wss, then stopped"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--setup-world", type=Path, metavar="PATH", help=argparse.SUPPRESS)
    options = parser.parse_args()
    # Stopped from outside (CI cancelled, systemd): unwind, so that everything started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.path.insert(0, str(ROOT))
    if options.setup_world:
        setup_world(options.setup_world)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="cencomm-prodcheck-"))
    try:
        run(tmp)
    except CheckFailed as exc:
        print(f"prod-check FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if options.keep:
            print(f"prod-check: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    step("passed")
    return 0
