"""A real hub for browser tests: daphne serving the demo from a fresh SQLite database.

Session-scoped: migrated and seeded once (``demo_setup``), shared by every browser test. Sign in
with ``sign_in(page, username)``: through the real pages the first time for each user, then with
the session that sign-in made (a new browser context gets its cookies).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from base64 import b32decode
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import TOTP

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [  # headless in a container, and nothing of its own on the network
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
#: An officer's phone: 390 x 844, touch.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "en-GB"}
PHONE_OFFICER = "officer-durres"
PHONE_FORM = "/operations/BALKAN-GATE/results/new/"
#: What a signed-in browser holds of its session (no language cookie: each context keeps its own).
SESSION_COOKIES = ("sessionid", "csrftoken")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveHub:
    base_url: str
    var_dir: Path
    users: dict[str, dict[str, Any]]
    process: subprocess.Popen
    _last_step: dict[str, int] = field(default_factory=dict)
    _cookies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # a signed-in session's, by user

    def totp(self, username: str) -> str:
        """A fresh code for the user, waiting for the next time step if this one was used."""
        totp = TOTP(b32decode(self.users[username]["totp_secret"]))
        while self._last_step.get(username) == totp.t():
            time.sleep(0.5)
            totp = TOTP(b32decode(self.users[username]["totp_secret"]))
        self._last_step[username] = totp.t()
        return f"{totp.token():06d}"

    def sign_in(self, page: Any, username: str, next_path: str = "/", *, through_pages: bool = False) -> None:
        """Sign ``page``'s browser context in as ``username`` and open ``next_path``.

        The first time for a user (or with ``through_pages``), through the real pages: password,
        then a TOTP code. After that, the session cookies kept from it: a second code in the same
        30 s step would be refused as a replay, so signing in again would wait up to 30 s for the
        next step (most of the browser tests' time, once). The sign-in pages themselves are
        tests/browser/test_signin_browser.py's; every other test only needs to be signed in.
        """
        if not through_pages and username in self._cookies:
            page.context.add_cookies(self._cookies[username])
            page.goto(f"{self.base_url}{next_path}")
            assert page.url == f"{self.base_url}{next_path}", (username, page.url)
            return
        page.goto(f"{self.base_url}/accounts/login/?next={next_path}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", self.users[username]["password"])
        page.click("button[type=submit]")
        page.wait_for_url("**/accounts/verify/**")
        page.fill("input[name=code]", self.totp(username))
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.base_url}{next_path}")
        self._cookies[username] = [
            c for c in page.context.cookies(self.base_url) if c["name"] in SESSION_COOKIES
        ]


@pytest.fixture(scope="session")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs browser (install Chromium)")
    var_dir = tmp_path_factory.mktemp("hub-var")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CENCOMM_TESTING")}
    env.update(CENCOMM_VAR_DIR=str(var_dir), PORT=str(port), CENCOMM_ENV="development")
    python = sys.executable
    for command in (["migrate", "--noinput", "-v0"], ["demo_setup"]):
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(var_dir / "daphne.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(Path(python).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), "asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base_url}/healthz", timeout=1)  # noqa: S310 - our own server
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"daphne did not start: {(var_dir / 'daphne.log').read_text()[-2000:]}")
    users = {u["username"]: u for u in json.loads((var_dir / "demo-credentials.json").read_text())["users"]}
    try:
        yield LiveHub(base_url=base_url, var_dir=var_dir, users=users, process=process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs browser (install Chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-GB", viewport={"width": 412, "height": 915})  # a phone
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(live_hub: Any, browser: Any) -> Iterator[Any]:
    """The Durrës officer's phone on the post form, signed in; no script error allowed."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    live_hub.sign_in(page, PHONE_OFFICER, PHONE_FORM)
    page.wait_for_selector("#post-submit:enabled")
    yield page
    context.close()
    assert not errors, errors


def wait_until(page: Any, expression: str, seconds: float = 20) -> Any:
    """Poll a JavaScript expression that may be a promise until it is truthy. (Playwright's
    wait_for_function does not wait for a promise: a pending one is truthy, and it returns at once.)"""
    deadline = time.monotonic() + seconds
    while not (value := page.evaluate(expression)):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {expression}"
        time.sleep(0.25)
    return value
