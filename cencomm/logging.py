"""Log records as one line each: escaped text for the demo, one JSON object per line in production.

Every record carries the ID of the work it belongs to (``request_id``): an HTTP request's
``X-Request-ID`` when it is well-formed (nginx sets one), else one generated here; a socket keeps the
ID of its handshake for its whole life. ``RequestIdMiddleware`` (HTTP) and ``SocketRequestId``
(WebSocket) set it; ``work_id`` sets it for other work (a report job).

What goes into a record is decided where it is logged: nothing logs a message text, a sealed field,
a token, a password or a TOTP code (tests/cencomm/test_logs.py greps a full flow's logs for them).
Only the extra fields of a JSON type are written; objects (a request, a user) never are.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("cencomm_request_id", default="")

# Letters, digits and . _ : - up to 64 characters: nginx's $request_id (32 hex digits) and UUIDs fit.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
HEADER = "X-Request-ID"

access_log = logging.getLogger("cencomm.access")


def current_request_id() -> str:
    return _request_id.get()


def new_request_id() -> str:
    return secrets.token_hex(16)


def accepted_request_id(value: str | bytes | None) -> str:
    """The caller's ID if well-formed, else a new one (a malformed ID is never echoed or logged)."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if value and REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


@contextmanager
def work_id(request_id: str) -> Iterator[str]:
    """Every record logged inside carries ``request_id``."""
    token = _request_id.set(request_id)
    try:
        yield request_id
    finally:
        _request_id.reset(token)


class SafeFormatter(logging.Formatter):
    """Escapes CR, LF and other control characters so one record is always one line."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", "") or current_request_id()
        if request_id:
            text = f"{text} request_id={request_id}"
        return "".join(ch if ch >= " " or ch == "\t" else ch.encode("unicode_escape").decode() for ch in text)


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_JSON_TYPES = (str, int, float, bool, type(None))


class JsonFormatter(SafeFormatter):
    """One JSON object per line: time, level, logger, event, request_id, the record's JSON-typed extras,
    and the traceback (as one string) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or current_request_id() or None,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and isinstance(value, _JSON_TYPES):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ensure_ascii: control characters and everything else unusual are escaped; one line always.
        return json.dumps(entry, ensure_ascii=True, default=str)


class RequestIdMiddleware:
    """First in the chain: gives the request its ID, answers with it, logs one access line."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        request.request_id = accepted_request_id(request.headers.get(HEADER))
        started = time.monotonic()
        with work_id(request.request_id):
            response = self.get_response(request)
            response[HEADER] = request.request_id
            user = getattr(request, "user", None)
            principal = getattr(request, "auth", None)  # the API's (a token's user, or the session's)
            access_log.info(
                "http.request",
                extra={
                    "method": request.method,
                    "path": request.path,  # never the query string
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "user_id": user.pk
                    if getattr(user, "is_authenticated", False)
                    else getattr(principal, "user_id", None),
                },
            )
        return response


class SocketRequestId:
    """ASGI middleware for WebSockets: the handshake's ``X-Request-ID`` (or a new one) for the socket's
    whole life, in ``scope["request_id"]`` and in every record; one line when it opens and closes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        request_id = accepted_request_id(dict(scope.get("headers", [])).get(HEADER.lower().encode()))
        scope = {**scope, "request_id": request_id}
        opened = time.monotonic()
        closed = False

        def log_close(code: Any, by: str) -> None:
            nonlocal closed
            if not closed:
                closed = True
                access_log.info(
                    "socket.close",
                    extra={
                        "path": scope["path"],
                        "code": code if isinstance(code, int) else 1000,
                        "closed_by": by,
                        "duration_ms": round((time.monotonic() - opened) * 1000, 1),
                    },
                )

        async def logged_send(message: dict) -> None:
            if message.get("type") == "websocket.accept":
                access_log.info("socket.open", extra={"path": scope["path"]})
            elif message.get("type") == "websocket.close":
                log_close(message.get("code", 1000), "server")
            await send(message)

        async def logged_receive() -> dict:
            message = await receive()
            if message.get("type") == "websocket.disconnect":
                log_close(message.get("code", 1000), "client")
            return message

        with work_id(request_id):
            return await self.app(scope, logged_receive, logged_send)
