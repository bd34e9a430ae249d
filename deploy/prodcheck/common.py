"""What every part of the prod-check shares: where things are, the one failure, the step log and waiting."""

from __future__ import annotations

import shutil
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPERATION = "BALKAN-GATE"
HOST = "localhost"
DATABASE = "prodcheck"
DEADLINE_SECONDS = 30  # the longest any one step may wait


class CheckFailed(Exception):
    pass


def step(text: str) -> None:
    print(f"prod-check [{time.monotonic() - STARTED:5.1f}s] {text}", flush=True)


def wait_for(what: str, probe: Callable[[], Any], timeout: float = DEADLINE_SECONDS) -> Any:
    end = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < end:
        try:
            value = probe()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - retried until the deadline, then reported
            last = exc
        time.sleep(0.2)
    raise CheckFailed(f"timed out waiting for {what}" + (f" (last error: {last!r})" if last else ""))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


STARTED = time.monotonic()
