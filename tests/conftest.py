"""The shared test world and helpers.

The world: operation TEST-OP (active) with Albania (Port of Durrës) and Italy (Port of Bari); a
coordinator, an officer of each administration, Albania's national contact point, an observer; an
officer of another operation (OTHER-OP, Greece); and an outsider who belongs to nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

ORIGIN = "http://testserver"
PASSWORD = "correct horse battery staple"


# --- services: skip without them, or fail in CI where they must be there -------------------------


def _have(marker: str) -> bool:
    if marker == "postgres":
        return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    if marker == "redis":
        return bool(os.environ.get("REDIS_URL"))
    if marker == "browser":
        return any(os.path.exists(p) for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser"))
    return True


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "redis", "browser"):
        if item.get_closest_marker(marker) and not _have(marker):
            reason = f"needs {marker} (set DATABASE_URL / REDIS_URL, or install Chromium)"
            if os.environ.get("CENCOMM_REQUIRE_SERVICES") == "true":
                pytest.fail(f"{reason}: required in this run")
            pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Each test starts in English: LocaleMiddleware leaves a request's language active in the thread."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Any:
    """channels-redis binds its locks and pools to the event loop that first used them, and every
    async test has its own loop: a layer left over from another test fails (or hangs) in this one."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


# --- the world ----------------------------------------------------------------------------------


def make_user(username: str, *, with_device: bool = True) -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if with_device:
        TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    return user


def totp_code(user: Any, *, offset_steps: int = 0) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def build_world() -> SimpleNamespace:
    from operations.models import Membership, Operation
    from operations.services import membership_add, operation_load

    now = timezone.now()
    start = now - dt.timedelta(days=2)
    categories = [
        {"code": "medicines", "name": "Medicines"},
        {"code": "accessories", "name": "Accessories"},
        {"code": "games-toys", "name": "Games and toys"},
        {"code": "electronics", "name": "Electronic appliances"},
        {"code": "foodstuffs", "name": "Foodstuffs and beverages"},
        {"code": "other", "name": "Other"},
    ]
    op = operation_load(
        {
            "code": "TEST-OP",
            "name": "Operation Test Gate",
            "objectives": "Find the fakes.",
            "window_start": start.isoformat(),
            "window_end": (start + dt.timedelta(days=7)).isoformat(),
            "state": "active",
            "categories": categories,
            "target_categories": ["medicines"],
            "administrations": [
                {
                    "country": "AL",
                    "name": "Albanian Customs",
                    "entry_points": [
                        {
                            "name": "Port of Durrës",
                            "kind": "seaport",
                            "unlocode": "ALDRZ",
                            "time_zone": "Europe/Tirane",
                        }
                    ],
                },
                {
                    "country": "IT",
                    "name": "Italian Customs",
                    "entry_points": [
                        {
                            "name": "Port of Bari",
                            "kind": "seaport",
                            "unlocode": "ITBRI",
                            "time_zone": "Europe/Rome",
                        }
                    ],
                },
            ],
        }
    )
    other = operation_load(
        {
            "code": "OTHER-OP",
            "name": "Operation Elsewhere",
            "window_start": start.isoformat(),
            "window_end": (start + dt.timedelta(days=7)).isoformat(),
            "state": "active",
            "administrations": [
                {
                    "country": "GR",
                    "name": "Hellenic Customs",
                    "entry_points": [
                        {"name": "Port of Piraeus", "kind": "seaport", "time_zone": "Europe/Athens"}
                    ],
                },
            ],
        }
    )
    durres = op.participations.get(administration__country="AL").entry_points.get()
    bari = op.participations.get(administration__country="IT").entry_points.get()
    piraeus = other.participations.get().entry_points.get()
    Role = Membership.Role
    w = SimpleNamespace(
        op=op,
        other=other,
        durres=durres,
        bari=bari,
        piraeus=piraeus,
        al=durres.administration,
        it=bari.administration,
        gr=piraeus.administration,
    )
    w.coordinator = make_user("coordinator")
    w.officer_al = make_user("officer-durres")
    w.officer_it = make_user("officer-bari")
    w.ncp_al = make_user("ncp-al")
    w.observer = make_user("observer")
    w.officer_other = make_user("officer-piraeus")
    w.outsider = make_user("outsider")
    membership_add(operation=op, user=w.coordinator, role=Role.COORDINATOR, actor=None)
    membership_add(operation=op, user=w.officer_al, role=Role.OFFICER, entry_point=durres, actor=None)
    membership_add(operation=op, user=w.officer_it, role=Role.OFFICER, entry_point=bari, actor=None)
    membership_add(operation=op, user=w.ncp_al, role=Role.NATIONAL_CONTACT, administration=w.al, actor=None)
    membership_add(operation=op, user=w.observer, role=Role.OBSERVER, actor=None)
    membership_add(operation=other, user=w.officer_other, role=Role.OFFICER, entry_point=piraeus, actor=None)
    assert Operation.objects.count() == 2
    return w


@pytest.fixture
def world(db: None) -> SimpleNamespace:
    return build_world()


@pytest.fixture
def tworld(transactional_db: None) -> SimpleNamespace:
    """The world for async tests that need committed data (``django_db(transaction=True)``)."""
    return build_world()


# --- clients ------------------------------------------------------------------------------------


def verified_client(user: Any, *, enforce_csrf: bool = False) -> Client:
    """A browser session that passed the password and the TOTP step."""
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def cookie_header(client: Client) -> bytes:
    return "; ".join(f"{k}={v.value}" for k, v in client.cookies.items()).encode()


def ws_communicator(
    path: str, *, client: Client | None = None, origin: str | None = ORIGIN
) -> WebsocketCommunicator:
    """A WebSocket to the real ASGI application, middleware included."""
    from asgi import application

    headers = []
    if client is not None:
        headers.append((b"cookie", cookie_header(client)))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.fixture
def clients() -> Any:
    return verified_client


# The browser tests' real hub and Chromium, one of each for the whole run wherever a test lives.
from tests.livehub import browser, live_hub, page  # noqa: E402, F401
