"""The checks prod-check drives over https and wss: headers and redirects, sign-in with TOTP in Chromium,
a message across daphne processes, a result live on the board, a report from the worker, metrics, logs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import ssl
import time
import uuid
from base64 import b32decode
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from .common import (
    DEADLINE_SECONDS,
    HOST,
    OPERATION,
    CheckFailed,
    wait_for,
)
from .stack import (
    Stack,
)

# --- the checks -----------------------------------------------------------------------------------------


class Hub:
    def __init__(self, base_url: str, ca: Path, users: dict[str, dict[str, Any]]) -> None:
        self.base_url, self.ca, self.users = base_url, ca, users
        self.ssl = ssl.create_default_context(cafile=str(ca))
        self.secrets_used: set[str] = set()
        self._last_step: dict[str, int] = {}

    def totp(self, username: str) -> str:
        from django_otp.oath import TOTP

        totp = TOTP(b32decode(self.users[username]["totp_secret"]))
        while self._last_step.get(username) == totp.t():  # a code is accepted once
            time.sleep(0.5)
            totp = TOTP(b32decode(self.users[username]["totp_secret"]))
        self._last_step[username] = totp.t()
        code = f"{totp.token():06d}"
        self.secrets_used.add(code)
        return code

    def api(self, method: str, path: str, *, token: str, json_body: Any = None, raw: bool = False) -> Any:
        import requests

        response = requests.request(
            method,
            f"{self.base_url}{path}",
            json=json_body,
            verify=str(self.ca),
            timeout=20,
            headers={"Authorization": f"Bearer {token}"},
            allow_redirects=False,
        )
        if response.status_code >= 400:
            raise CheckFailed(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response if raw else response.json()


def check_headers(hub: Hub) -> None:
    """Through nginx: HSTS from the hub, the caller's request ID answered, static files from nginx."""
    import requests

    response = requests.get(
        f"{hub.base_url}/accounts/login/",
        verify=str(hub.ca),
        timeout=10,
        headers={"X-Request-ID": "prodcheck-req-1"},
    )
    if "max-age=" not in response.headers.get("Strict-Transport-Security", ""):
        raise CheckFailed("no Strict-Transport-Security header over https")
    if response.headers.get("X-Request-ID") != "prodcheck-req-1":
        raise CheckFailed(f"the request ID was not carried: {response.headers.get('X-Request-ID')!r}")
    match = re.search(r'(/static/[^"]+\.css)"', response.text)
    if not match:
        raise CheckFailed("the sign-in page links no stylesheet under /static/")
    static = requests.get(f"{hub.base_url}{match.group(1)}", verify=str(hub.ca), timeout=10)
    if static.status_code != 200 or "immutable" not in static.headers.get("Cache-Control", ""):
        raise CheckFailed(f"{match.group(1)} not served by nginx: {static.status_code} {static.headers}")


def scrape(port: int, token: str) -> dict[str, float]:
    """One daphne process's /metrics, straight from its port as Prometheus would: sample totals by name."""
    import requests
    from prometheus_client.parser import text_string_to_metric_families

    response = requests.get(
        f"http://127.0.0.1:{port}/metrics",
        headers={"Host": HOST, "X-Forwarded-Proto": "https", "Authorization": f"Bearer {token}"},
        timeout=10,
    )
    if response.status_code != 200:
        raise CheckFailed(f"/metrics on port {port} answered {response.status_code}")
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def metrics_of(ports: list[int], token: str) -> dict[str, float]:
    """The figures of every daphne process, added up."""
    totals: dict[str, float] = {}
    for port in ports:
        for name, value in scrape(port, token).items():
            totals[name] = totals.get(name, 0.0) + value
    return totals


METRICS_MOVED = (  # what the check's own work must move
    "cencomm_messages_posted_total",
    "cencomm_results_posted_total",
    "cencomm_ws_frames_sent_total",
    "cencomm_ws_frames_received_total",
)


def check_metrics_moved(before: dict[str, float], after: dict[str, float]) -> None:
    still = [name for name in METRICS_MOVED if after.get(name, 0.0) <= before.get(name, 0.0)]
    if still:
        raise CheckFailed(f"/metrics did not move during the check: {still}")
    if "cencomm_sockets_open" not in after:
        raise CheckFailed("/metrics has no cencomm_sockets_open")


def check_redirect(http_port: int) -> None:
    import requests

    response = requests.get(f"http://{HOST}:{http_port}/healthz", allow_redirects=False, timeout=5)
    location = response.headers.get("Location", "")
    if response.status_code != 301 or not location.startswith(f"https://{HOST}/"):
        raise CheckFailed(f"http is not redirected to https: {response.status_code} {location!r}")


def sign_in(hub: Hub, browser: Any, username: str, next_path: str) -> Any:
    context = browser.new_context(
        ignore_https_errors=True, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{hub.base_url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", hub.users[username]["password"])
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/verify/**")
    page.fill("input[name=code]", hub.totp(username))
    page.click("button[type=submit]")
    page.wait_for_url(f"{hub.base_url}{next_path}")
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies.get("sessionid")
    if not session or not session["secure"] or not session["httpOnly"]:
        raise CheckFailed(f"the session cookie is not Secure and HttpOnly: {session}")
    if not cookies.get("csrftoken", {}).get("secure"):
        raise CheckFailed("the CSRF cookie is not Secure")
    hub.secrets_used.add(session["value"])
    page.errors = errors
    return page


@contextmanager
def room_socket(hub: Hub, session: str, request_id: str) -> Iterator[Any]:
    from websockets.sync.client import connect

    url = hub.base_url.replace("https://", "wss://") + f"/ws/operations/{OPERATION}/rooms/"
    with connect(
        url,
        ssl=hub.ssl,
        origin=hub.base_url,
        open_timeout=10,
        additional_headers={"Cookie": f"sessionid={session}", "X-Request-ID": request_id},
    ) as ws:
        yield ws


def frames_until(ws: Any, predicate: Callable[[dict], bool], what: str) -> dict:
    end = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < end:
        frame = json.loads(ws.recv(timeout=max(0.1, end - time.monotonic())))
        if predicate(frame):
            return frame
    raise CheckFailed(f"no {what} frame")


def served_by(stack: Stack, request_id: str, names: list[str]) -> str | None:
    for name in names:
        for line in stack.log_text(name).splitlines():
            if request_id in line and '"socket.open"' in line:
                return name
    return None


def check_message_across_processes(hub: Hub, stack: Stack, session: str) -> None:
    """Sockets are opened through nginx until one is served by each daphne process; a message sent on
    the first arrives on the second (through Redis)."""
    daphnes = ["daphne-a", "daphne-b"]
    sockets: dict[str, Any] = {}
    hello: dict[str, dict] = {}
    with suppress_all_closing() as closers:
        for n in range(8):
            request_id = f"prodcheck-socket-{n}-{secrets.token_hex(4)}"
            ws = closers.enter(room_socket(hub, session, request_id))
            first = frames_until(ws, lambda f: f["type"] == "hello", "hello")
            name = wait_for(
                f"the socket {request_id} in a daphne log",
                lambda rid=request_id: served_by(stack, rid, daphnes),
                5,
            )
            if name not in sockets:
                sockets[name], hello[name] = ws, first
            if len(sockets) == 2:
                break
        if len(sockets) != 2:
            raise CheckFailed(f"nginx sent every socket to {list(sockets)}")
        room = hello["daphne-b"]["rooms"][0]
        receiver, sender = sockets["daphne-b"], sockets["daphne-a"]
        receiver.send(
            json.dumps(
                {"type": "subscribe", "ref": "sub", "rooms": [{"room": room["id"], "after_seq": room["seq"]}]}
            )
        )
        frames_until(receiver, lambda f: f["type"] == "subscribed", "subscribed")
        text = f"prod-check message {secrets.token_hex(8)}"
        hub.secrets_used.add(text)
        client_id = str(uuid.uuid4())
        sender.send(
            json.dumps(
                {"type": "send", "ref": "s1", "room": room["id"], "client_id": client_id, "text": text}
            )
        )
        sent = frames_until(sender, lambda f: f["type"] in ("sent", "error"), "sent")
        if sent["type"] != "sent":
            raise CheckFailed(f"send refused: {sent}")
        got = frames_until(
            receiver,
            lambda f: f["type"] == "messages" and any(m["client_id"] == client_id for m in f["messages"]),
            "messages with the sent message",
        )
        message = next(m for m in got["messages"] if m["client_id"] == client_id)
        if message["text"] != text:
            raise CheckFailed("the message arrived altered")


class suppress_all_closing:  # noqa: N801 - used as a context manager
    """Enter several socket context managers; close them all on exit."""

    def __enter__(self) -> suppress_all_closing:
        self.exits: list[Any] = []
        return self

    def enter(self, manager: Any) -> Any:
        value = manager.__enter__()
        self.exits.append(manager)
        return value

    def __exit__(self, *exc: Any) -> None:
        for manager in reversed(self.exits):
            with suppress(Exception):
                manager.__exit__(None, None, None)


def check_result_on_board(hub: Hub, desk: Any) -> None:
    desk.wait_for_selector("body[data-board-seq]")
    desk.wait_for_selector("#board-state[data-state=online]", timeout=DEADLINE_SECONDS * 1000)
    before = int(desk.evaluate("HubBoard.state.totals.units"))
    officer = hub.users["officer-durres"]
    hub.secrets_used.add(officer["api_token"])
    operation = hub.api("GET", f"/api/v1/operations/{OPERATION}", token=officer["api_token"])
    entry_point = next(
        e["id"]
        for a in operation["administrations"]
        for e in a["entry_points"]
        if e["name"] == officer["entry_point"]
    )
    body = {
        "client_id": str(uuid.uuid4()),
        "entry_point": entry_point,
        "inspected_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)).isoformat(),
        "origin": "TR",
        "outcome": "seized",
        "lines": [{"category": "medicines", "quantity": 4321, "unit": "pieces"}],
    }
    hub.api("POST", f"/api/v1/operations/{OPERATION}/results", token=officer["api_token"], json_body=body)
    desk.wait_for_function(
        f"HubBoard.state.totals.units === {before + 4321}", timeout=DEADLINE_SECONDS * 1000
    )


def check_report(hub: Hub, desk: Any) -> None:
    """Asked for over the API, generated by the worker process, downloaded from the reports page."""
    token = hub.users["coordinator"]["api_token"]
    report = hub.api(
        "POST",
        f"/api/v1/operations/{OPERATION}/reports",
        token=token,
        json_body={"edition": "public", "format": "pdf"},
    )

    def finished() -> dict | None:
        time.sleep(0.3)
        now = hub.api("GET", f"/api/v1/operations/{OPERATION}/reports/{report['id']}", token=token)
        if now["state"] == "failed":
            raise CheckFailed(f"the report failed: {now}")
        return now if now["state"] == "done" else None

    done = wait_for("the report worker", finished, timeout=60)
    response = desk.context.request.get(f"{hub.base_url}{done['download_url']}", max_redirects=0)
    content = response.body()
    if response.status != 200 or not content.startswith(b"%PDF"):
        raise CheckFailed(f"the reports page did not give the PDF: {response.status} {content[:60]!r}")
    if hashlib.sha256(content).hexdigest() != done["sha256"]:
        raise CheckFailed("the downloaded report is not the one the worker stored (sha256)")


def check_logs(stack: Stack, names: list[str], secrets_used: set[str]) -> None:
    for name in names:
        lines = [line for line in stack.log_text(name).splitlines() if line.strip()]
        if not lines:
            raise CheckFailed(f"{name} wrote no log line")
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                raise CheckFailed(f"{name}: a log line that is not one JSON object: {line[:200]!r}") from None
            if not isinstance(entry, dict) or "level" not in entry or "event" not in entry:
                raise CheckFailed(f"{name}: a log line without level and event: {line[:200]!r}")
            for secret in secrets_used:
                if secret and secret in line:
                    raise CheckFailed(f"{name}: a secret in the logs: {line[:200]!r}")
        if name.startswith("daphne") and not any(
            json.loads(line).get("event") == "http.request" and json.loads(line).get("request_id")
            for line in lines
        ):
            raise CheckFailed(f"{name}: no request line with a request ID")
