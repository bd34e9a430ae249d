"""Live-event payloads for rooms: hints only (ids, sequence numbers, the access epoch), never text.

Consumers read what they send to a client from the database; an event that is lost is filled in
by the next one or by the heartbeat. A room's hints carry ``epoch``, the operation's access epoch
the write read under its state lock: a socket that checked its access at an older epoch checks
again before it delivers (``messaging.fanout``).
"""

from __future__ import annotations

from typing import Any

from messaging.models import Message

Event = dict[str, Any]


def presence_group(operation_id: int) -> str:
    return f"presence.{operation_id}"


def _with_epoch(event: Event, epoch: int | None) -> Event:
    """Every room hint carries the epoch; one without it makes each socket check its access again."""
    return event if epoch is None else {**event, "epoch": epoch}


def message_posted(message: Message, *, epoch: int | None = None) -> Event:
    event = {"type": "room.message", "room": message.room_id, "seq": message.seq, "rev": message.rev}
    return _with_epoch(event, epoch)


def message_changed(message: Message, *, epoch: int | None = None) -> Event:
    event = {"type": "room.changed", "room": message.room_id, "message": message.pk, "rev": message.rev}
    return _with_epoch(event, epoch)


def message_acknowledged(message: Message, user_id: int, *, epoch: int | None = None) -> Event:
    event = {"type": "room.ack", "room": message.room_id, "message": message.pk, "user": user_id}
    return _with_epoch(event, epoch)


def presence_changed(operation_id: int) -> Event:
    return {"type": "presence.changed", "operation": operation_id}


def alerts_group(operation_id: int) -> str:
    """Every socket of the operation: what members are asked to acknowledge changed."""
    return f"alerts.{operation_id}"


def alerts_changed(message: Message) -> Event:
    """A warning or alert was posted, edited or withdrawn: addressees read their pending list again."""
    return {"type": "alerts.changed", "room": message.room_id, "message": message.pk}


def alert_acknowledged(message: Message, user_id: int) -> Event:
    """``user_id`` acknowledged ``message``: their own pages drop it; the reviewers' grids fill in."""
    return {"type": "alerts.acknowledged", "room": message.room_id, "message": message.pk, "user": user_id}
