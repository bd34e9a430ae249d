"""deploy/systemd's retention units: the service runs apply_retention as the hub's other units run
their commands, and the timer starts that service daily."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands

SYSTEMD = Path(__file__).resolve().parents[2] / "deploy" / "systemd"


def test_the_retention_service_runs_apply_retention_as_the_hub_user():
    service = (SYSTEMD / "cencomm-retention.service").read_text()
    exec_start = re.search(r"^ExecStart=(.+)$", service, re.M)
    assert exec_start is not None
    assert exec_start.group(1).split()[1:] == ["manage.py", "apply_retention"]
    assert "apply_retention" in get_commands()
    assert "Type=oneshot" in service
    assert "EnvironmentFile=/etc/cencomm/cencomm.env" in service and "User=cencomm" in service


def test_the_timer_starts_the_service_daily_and_catches_up_after_downtime():
    timer = (SYSTEMD / "cencomm-retention.timer").read_text()
    assert "Unit=cencomm-retention.service" in timer and "Persistent=true" in timer
    assert re.search(r"^OnCalendar=\*-\*-\* \d\d:\d\d:00$", timer, re.M)
    assert "WantedBy=timers.target" in timer


def test_systemd_accepts_the_retention_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("needs systemd-analyze")
    for name in ("cencomm-retention.service", "cencomm-retention.timer"):
        shutil.copy(SYSTEMD / name, tmp_path / name)
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(tmp_path / "cencomm-retention.timer")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [line for line in result.stderr.splitlines() if "cencomm-retention" in line]
    assert not problems, result.stderr
