"""Helpers for the hostile-input suite: enumerate what an attacker can reach, and count what got written.

The API endpoints come from the served OpenAPI schema, the pages from the URL resolver and the sockets
from the WebSocket router, so a new endpoint, page or socket route is attacked without a change here
(a new path parameter needs a value in PATH_VALUES; the access test fails and says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

from tests.world import api_json, result_body, send_message, verified_client

MISSING_ID = 987654321
MISSING_UUID = "00000000-0000-4000-8000-00000000dead"
MISSING_CODE = "NO-SUCH-OP"
# Tables whose rows a request may write without storing anything of the caller's: sessions, sign-in
# bookkeeping and presence.
BOOKKEEPING_TABLES = {
    "django_session",
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
    "messaging_connection",
    "otp_totp_totpdevice",
    "otp_static_staticdevice",
    "cencomm_apitoken",
}


# --- what an attacker can reach -----------------------------------------------------------------


def openapi_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """Every (METHOD, path template, operation object) of /api/v1/openapi.json."""
    from hub.api import api

    schema = api.get_openapi_schema()
    out = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                out.append((method.upper(), path.removeprefix("/api/v1"), operation))
    return sorted(out, key=lambda t: (t[1], t[0]))


def socket_routes() -> list[str]:
    """Every WebSocket route template, e.g. ``/ws/operations/<str:code>/rooms/``."""
    from hub.routing import websocket_urlpatterns

    return ["/" + str(p.pattern) for p in websocket_urlpatterns]


def page_routes() -> list[str]:
    """Every page route template outside the admin and the sign-in steps (the resolver's own syntax)."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    skip = (
        "admin/",
        "api/",
        "accounts/login",
        "accounts/verify",
        "accounts/enroll",
        "accounts/logout",
        "accounts/locked",
        "i18n/",  # choosing the language: open to all, POST only, no data (tests/cencomm/test_i18n.py)
        "healthz",
        "metrics",  # its own bearer token, no session (tests/cencomm/test_metrics.py)
        "static/",
    )
    return sorted({"/" + r for r in walk(get_resolver().url_patterns, "") if not r.startswith(skip)})


PLACEHOLDER = re.compile(r"\{(\w+)\}|<(?:\w+:)?(\w+)>")


def fill(template: str, values: dict[str, Any]) -> str:
    """Put values into ``{name}`` (OpenAPI) or ``<conv:name>`` (Django) placeholders."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"no value for path parameter {name!r} in {template}: add one to path_values()")
        return str(values[name])

    return PLACEHOLDER.sub(value, template)


def path_values(seed: SimpleNamespace | None) -> dict[str, Any]:
    """Values of real objects of TEST-OP for every path parameter name the API and pages use."""
    s = seed or SimpleNamespace()
    return {
        "code": "TEST-OP",
        "result_uuid": getattr(s, "result_uuid", MISSING_UUID),
        "category_code": "medicines",
        "room_id": getattr(s, "room_id", MISSING_ID),
        "room": getattr(s, "room_id", MISSING_ID),
        "message_id": getattr(s, "message_id", MISSING_ID),
        "message": getattr(s, "message_id", MISSING_ID),
        "uid": getattr(s, "attachment_uid", MISSING_UUID),
        "photo_uid": getattr(s, "photo_uid", MISSING_UUID),
        "attachment_uid": getattr(s, "attachment_uid", MISSING_UUID),
        "report_id": getattr(s, "report_id", MISSING_ID),
        "job_id": getattr(s, "report_id", MISSING_ID),
        "token_id": getattr(s, "token_id", MISSING_ID),
        "entry_point": getattr(s, "entry_point_id", MISSING_ID),
        # a product card is hub-wide (any operation's members read it): tests/products checks who
        "product_id": getattr(s, "product_id", MISSING_ID),
        "part": "original",
        "format": "html",
        "kind": "html",
        "fmt": "html",
    }


def missing_values(real: dict[str, Any]) -> dict[str, Any]:
    """The same parameters naming objects that do not exist."""
    missing = {}
    for name, value in real.items():
        if name == "code":
            missing[name] = MISSING_CODE
        elif name in ("part", "format", "kind", "fmt", "category_code"):
            missing[name] = value if name != "category_code" else "no-such-category"
        elif isinstance(value, int):
            missing[name] = MISSING_ID
        else:
            missing[name] = MISSING_UUID
    return missing


# --- what got written -----------------------------------------------------------------------------


def row_counts(exclude: set[str] = BOOKKEEPING_TABLES) -> dict[str, int]:
    """Rows per table, by raw SQL over every table of the database."""
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            if table in exclude:
                continue
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - names from introspection
            counts[table] = cursor.fetchone()[0]
    return counts


def dump_database() -> bytes:
    """Every value of every table as bytes, for searching plaintext."""
    parts: list[bytes] = []
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview | bytearray):
                        parts.append(bytes(value))
                    elif value is not None:
                        parts.append(str(value).encode())
    return b"\n".join(parts)


# --- a populated TEST-OP ------------------------------------------------------------------------


SECRET_NOTE = "SECRET-NOTE-7d1f shipment for Mr Secretname via Acme Smuggling Ltd"
SECRET_MESSAGE = "SECRET-MSG-93ab container MSCU1234567 arrives Tuesday"


def tiny_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def seed_operation(w: SimpleNamespace) -> SimpleNamespace:
    """A result (with sealed notes) and a room message in TEST-OP, posted by the Durrës officer."""
    s = SimpleNamespace(entry_point_id=w.durres.pk)
    officer = verified_client(w.officer_al)
    response = api_json(
        officer,
        "POST",
        "/api/v1/operations/TEST-OP/results",
        result_body(w, notes=SECRET_NOTE, reference="MSCU7654321", parties="Mr Secretname"),
    )
    assert response.status_code == 201, response.content
    s.result_uuid = response.json()["uuid"] if "uuid" in response.json() else response.json()["id"]
    from results.services import result_photo_add

    s.photo_uid = result_photo_add(
        membership=w.op.memberships.get(user=w.officer_al),
        result_uuid=s.result_uuid,
        data=tiny_png(),
        name="goods.png",
    ).uid
    from messaging import services as messaging_services

    messaging_services.rooms_ensure(operation=w.op)
    message = send_message(w, w.officer_al, SECRET_MESSAGE)
    room = message.room
    s.room_id, s.message_id = room.pk, message.pk
    return s


@pytest.fixture
def seed(world: SimpleNamespace) -> SimpleNamespace:
    return seed_operation(world)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Data keys and author labels are cached per process; every test has a fresh database."""
    from cencomm.crypto import key_cache
    from messaging.selectors import caches_clear

    def clear() -> None:
        key_cache.clear()
        caches_clear()

    clear()
    yield
    clear()


@pytest.fixture(autouse=True)
def _release_worker_connection() -> Iterator[None]:
    """Async tests query through asgiref's single worker thread; close its connection afterwards so that
    PostgreSQL can drop the test database at the end of the run."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
