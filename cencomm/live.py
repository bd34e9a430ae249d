"""Live events: published only after the transaction that caused them commits.

The channel layer carries hints (ids, sequence numbers, aggregate deltas), never message text or
sensitive fields: consumers read what they send to a client from the database, through selectors.
Only services call :func:`publish_on_commit`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from cencomm import metrics

log = logging.getLogger(__name__)

Event = dict[str, Any]
_listeners: list[Callable[[str, Event], None]] = []


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
    try:  # the commit time, for the delivery lag the consumers measure (cencomm.metrics)
        async_to_sync(layer.group_send)(group, {**event, "committed_at": time.time()})
    except Exception:  # the database already holds the truth; clients fill gaps on heartbeat
        metrics.CHANNEL_LAYER_ERRORS.labels("group_send").inc()
        log.warning("live event to %s not delivered", group, exc_info=True)


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
