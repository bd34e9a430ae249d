"""deploy/: the nginx configuration is valid as make prod-check renders it, the systemd units run
commands that exist, and every setting the env file sets is a documented one."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def prod_check():  # deploy/ is not a package: its prodcheck package is imported from there
    if str(DEPLOY) not in sys.path:
        sys.path.insert(0, str(DEPLOY))
    return importlib.import_module("prodcheck.stack")


def test_nginx_accepts_the_configuration_as_prod_check_renders_it(tmp_path: Path) -> None:
    check = prod_check()
    nginx = importlib.import_module("prodcheck.common").NGINX
    if not os.path.exists(nginx):
        if os.environ.get("CENCOMM_REQUIRE_SERVICES") == "true":
            pytest.fail("needs nginx (make system-deps installs it): required in this run")
        pytest.skip("needs nginx (make system-deps installs it)")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    check.make_certificates(tmp_path / "certs")
    conf = check.nginx_config(
        prefix,
        https_port=18443,
        http_port=18080,
        daphne_ports=[18001, 18002],
        certs=tmp_path / "certs",
        static=tmp_path / "static",
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    site = (prefix / "cencomm.conf").read_text()
    assert "server_name localhost;" in site and "proxy_set_header Upgrade $http_upgrade;" in site
    assert "proxy_set_header X-Forwarded-Proto https;" in site  # what SECURE_PROXY_SSL_HEADER trusts


def test_units_run_commands_that_exist() -> None:
    check = prod_check()
    daphne = check.exec_start("cencomm-daphne@.service", **{"%i": "8001"})
    assert Path(daphne[0]).name == "daphne" and Path(daphne[0]).exists()
    assert daphne[-1] == "asgi:application" and "127.0.0.1" in daphne
    worker = check.exec_start("cencomm-report-worker.service", **{"%H": "hub-1"})
    assert (
        worker[1:5] == ["manage.py", "db_worker", "--queue-name", "reports"] and "db_worker" in get_commands()
    )
    assert "--no-reload" in worker and worker[worker.index("--worker-id") + 1] == "hub-1-reports"
    recover = check.exec_start("cencomm-report-worker.service", "ExecStartPre", **{"%H": "hub-1"})
    assert recover[1:] == ["manage.py", "report_recover", "--worker-id", "hub-1-reports"]
    assert "report_recover" in get_commands()
    timed = check.exec_start("cencomm-report-recover.service")
    assert timed[1:] == ["manage.py", "report_recover"]
    for unit in (
        "cencomm-daphne@.service",
        "cencomm-report-worker.service",
        "cencomm-report-recover.service",
    ):
        text = (DEPLOY / "systemd" / unit).read_text()
        assert "EnvironmentFile=/etc/cencomm/cencomm.env" in text and "User=cencomm" in text
    target = (DEPLOY / "systemd" / "cencomm.target").read_text()
    assert (
        "cencomm-daphne@8001.service cencomm-daphne@8002.service cencomm-report-worker.service"
        " cencomm-report-recover.timer" in target
    )


def test_env_file_sets_only_documented_settings_and_no_secret_values() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    documented |= set(re.findall(r"\b([A-Z][A-Z0-9_]+_FILE)=", (ROOT / ".env.example").read_text()))
    values = prod_check().read_env_file(DEPLOY / "cencomm.env.example")
    assert set(values) - documented == set()
    assert values["CENCOMM_ENV"] == "production" and values["CENCOMM_REPORT_THREAD"] == "false"
    for secret in ("SECRET_KEY", "CENCOMM_MASTER_KEY"):
        assert secret not in values and values[f"{secret}_FILE"].startswith("/etc/cencomm/secrets/")


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("needs systemd-analyze")
    for unit in (DEPLOY / "systemd").iterdir():
        shutil.copy(unit, tmp_path / unit.name)
    shutil.copy(tmp_path / "cencomm-daphne@.service", tmp_path / "cencomm-daphne@8001.service")
    names = [
        "cencomm-daphne@8001.service",
        "cencomm-report-worker.service",
        "cencomm-report-recover.service",
        "cencomm-report-recover.timer",
        "cencomm.target",
    ]
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / n) for n in names)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # This machine has no /srv/cencomm: that the commands are missing is the only complaint allowed.
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "/srv/cencomm/app/.venv/bin/" not in line
    ]
    assert not problems, problems
