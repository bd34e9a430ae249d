"""Fixtures for every test package: the world (see tests/world.py), services present or required,
a fresh channel layer, English, fast password hashing, and the browser tests' hub."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from tests.world import (  # noqa: F401 - re-exported: test modules import the helpers from here too
    ORIGIN,
    PASSWORD,
    bearer,
    build_world,
    cookie_header,
    make_user,
    totp_code,
    verified_client,
    ws_communicator,
)

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


@pytest.fixture
def world(db: None) -> SimpleNamespace:
    return build_world()


@pytest.fixture
def tworld(transactional_db: None) -> SimpleNamespace:
    """The world for async tests that need committed data (``django_db(transaction=True)``)."""
    return build_world()


@pytest.fixture
def clients() -> Any:
    return verified_client


# The browser tests' real hub and Chromium, one of each for the whole run wherever a test lives.
from tests.livehub import browser, live_hub, page, phone  # noqa: E402, F401

# --- every socket a test opened ends with the test ----------------------------------------------
# A consumer still running when the test's event loop shuts down is cancelled by the loop, and a
# cancelled channels-redis receive may never finish: the shutdown then waits for good (it hung CI).
# So each WebsocketCommunicator is noted, and after an async test any that still runs is told
# "disconnect", as daphne does when a client goes, and given a bounded time to end.
_sockets: list[WebsocketCommunicator] = []
_communicator_init = WebsocketCommunicator.__init__


def _noted_init(self: WebsocketCommunicator, *args: Any, **kwargs: Any) -> None:
    _communicator_init(self, *args, **kwargs)
    _sockets.append(self)


WebsocketCommunicator.__init__ = _noted_init  # type: ignore[method-assign]


@pytest.fixture
async def _sockets_end_with_their_test() -> Any:
    yield
    while _sockets:
        communicator = _sockets.pop()
        if communicator.future.done():
            continue
        try:
            await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
            await asyncio.wait([communicator.future], timeout=15)
        except Exception:  # noqa: S110 — a socket that cannot be told is left to the loop
            pass


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # (not with the live hub: its sockets are real ones, and its session fixture must start
        # outside a running event loop)
        if inspect.iscoroutinefunction(getattr(item, "function", None)) and "live_hub" not in getattr(
            item, "fixturenames", ()
        ):
            item.fixturenames.append("_sockets_end_with_their_test")  # type: ignore[attr-defined]
