"""Presence: which members have a socket open. One row per socket (``Connection``), written in batches
by the sockets of a process (``cencomm.batching``), hinted to the operation's sockets at most every
``PRESENCE_MIN_INTERVAL``. Not audited: a socket opening or beating is not an act on the record."""

from __future__ import annotations

import time
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from cencomm.live import publish_on_commit
from messaging import events
from messaging.models import Connection
from operations.models import Membership


def connection_open(*, membership: Membership, channel_name: str) -> None:
    connections_open(opened=[(membership, channel_name)])


def connections_open(*, opened: Sequence[tuple[Membership, str]]) -> None:
    """The presence rows of sockets that opened: one statement for all of them (an upsert on the
    unique channel name), however many a burst brings; the sockets of a process hand theirs over
    together (``cencomm.batching``). Not audited: a socket opening is not an act on the record."""
    now = timezone.now()
    rows = [
        Connection(channel_name=name, operation_id=m.operation_id, user_id=m.user_id, seen_at=now)
        for m, name in opened
    ]
    Connection.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["channel_name"],
        update_fields=["operation", "user", "seen_at"],
    )
    for operation_id in {m.operation_id for m, _ in opened}:
        _announce_presence(operation_id)


@transaction.atomic
def connection_close(*, operation_id: int, channel_name: str) -> None:
    if Connection.objects.filter(channel_name=channel_name).delete()[0]:
        _announce_presence(operation_id)


PRESENCE_MIN_INTERVAL = 2.0  # seconds between presence hints per operation and process
_presence_announced: dict[int, float] = {}


def _announce_presence(operation_id: int) -> None:
    """Hint the operation's sockets that presence changed, at most every PRESENCE_MIN_INTERVAL.

    A burst of N sockets connecting would otherwise send N hints to each of N sockets. What a
    skipped hint would have told arrives with the next hint or heartbeat (which carries `online`).
    """
    now = time.monotonic()
    if now - _presence_announced.get(operation_id, -PRESENCE_MIN_INTERVAL) < PRESENCE_MIN_INTERVAL:
        return
    _presence_announced[operation_id] = now
    publish_on_commit(events.presence_group(operation_id), events.presence_changed(operation_id))


def connections_seen(*, channel_names: Sequence[str]) -> None:
    """The sockets' heartbeats: their presence rows are fresh (one statement for those of a process
    that beat together, ``cencomm.batching``)."""
    Connection.objects.filter(channel_name__in=list(channel_names)).update(seen_at=timezone.now())
