"""Live events: published only after the transaction that caused them commits.

The channel layer carries hints (ids, sequence numbers, aggregate deltas), never message text or
sensitive fields: consumers read what they send to a client from the database, through selectors.
Only services call :func:`publish_on_commit`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.db import transaction

from cencomm import metrics

log = logging.getLogger(__name__)

Event = dict[str, Any]
_listeners: list[Callable[[str, Event], None]] = []
PUBLISH_SECONDS = 5.0  # one hint's send, at most; a hint that cannot go is dropped (gap-fill)


class LayerState:
    """What this process last saw of the channel layer: answering, or down since when and why.

    Every user of the layer reports to it (consumers' receives, publishes, /healthz); the sockets'
    heartbeat fills gaps from the database at a shorter period while it is down.
    """

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.reason = ""
        # Called (from any thread) when the layer goes down: a receive waiting its turn behind
        # another never sees the failure itself, yet a restarted Redis has lost its groups.
        self.on_down: list[Callable[[], None]] = []

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, TimeoutError):  # slow (a loaded process), not down: /healthz probes that
            return
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("channel layer unavailable: %s", describe(exc))
            for listener in list(self.on_down):
                try:
                    listener()
                except Exception:
                    log.warning("a channel-layer listener failed", exc_info=True)
        self.reason = describe(exc)

    def answered(self) -> None:
        if self.down_since is not None:
            log.warning("channel layer back after %.1f s", time.monotonic() - self.down_since)
        self.down_since, self.reason = None, ""


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


LAYER = LayerState()

LAYER_CALL_SECONDS = 5  # one channel-layer call of a socket or a fan-out (join, leave, a probe), at most


async def layer_call(what: str, call: Awaitable[Any], *, probe: bool = False) -> bool:
    """One channel-layer call that may fail (Redis down or restarting), bounded: True when the layer
    answered. A failure is noted (``LAYER``, the ``channel_layer_errors`` metric under ``what``) and
    left to the caller's fallback: the heartbeat's gap-fill, or the layer's own expiry of a group not
    left. A ``probe`` (a receive asking whether a failed layer is back) notes nothing: its answer is
    its arrival, and one that meets a dead pooled connection says nothing new."""
    try:
        async with asyncio.timeout(LAYER_CALL_SECONDS):
            await call
    except Exception as exc:
        if probe:
            log.debug("the channel layer is still down: %s", describe(exc))
            return False
        LAYER.failed(exc)
        metrics.CHANNEL_LAYER_ERRORS.labels(what).inc()
        return False
    return True


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def board_group(operation_id: int) -> str:
    return f"board.{operation_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish_on_commit(group: str, event: Event) -> None:
    """Send ``event`` to ``group`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _publish(group, event), robust=True)


def _publish(group: str, event: Event) -> None:
    for listener in list(_listeners):
        listener(group, event)
    layer = get_channel_layer()
    if layer is None:
        return
    event = {**event, "committed_at": time.time()}  # for the delivery lag (cencomm.metrics)
    loop = _main_loop()
    if loop is not None:
        # On a worker thread of the ASGI server: hand the send to the event loop and do not wait.
        # Waiting held the process's database thread on the layer (a dead Redis: seconds per
        # hint, for every socket of the process) and tied a cancelled socket's clean-up to it.
        try:
            asyncio.run_coroutine_threadsafe(_send(layer, group, event), loop)
            return
        except RuntimeError:  # the loop closed meanwhile: send from here
            pass
    try:
        async_to_sync(_send)(layer, group, event)
    except Exception:  # _send reports its own failures; this is the loop going away
        log.warning("live event to %s not delivered", group, exc_info=True)


def _main_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this worker thread was called from (asgiref's sync_to_async)."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None or getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    if loop.is_closed() or not loop.is_running():
        return None
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return loop
    return None  # called on a loop's own thread: not a worker thread


async def _send(layer: Any, group: str, event: Event) -> None:
    try:
        async with asyncio.timeout(PUBLISH_SECONDS):
            await layer.group_send(group, event)
    except ChannelFull:  # a socket that does not read: the layer itself is fine
        log.warning("live event to %s not delivered: a channel is full", group)
    except Exception as exc:  # the database already holds the truth; clients fill gaps on heartbeat
        metrics.CHANNEL_LAYER_ERRORS.labels("group_send").inc()
        LAYER.failed(exc)
        log.warning("live event to %s not delivered: %s", group, describe(exc))
    else:
        LAYER.answered()


async def apublish(group: str, event: Event) -> None:
    """For code already outside any transaction on the event loop (heartbeats, tests)."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group, event)


@contextmanager
def capture_live_events() -> Iterator[list[tuple[str, Event]]]:
    """Collect ``(group, event)`` pairs published on commit, for tests."""
    captured: list[tuple[str, Event]] = []

    def listener(group: str, event: Event) -> None:
        captured.append((group, event))

    _listeners.append(listener)
    try:
        yield captured
    finally:
        _listeners.remove(listener)
