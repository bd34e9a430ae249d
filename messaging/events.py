"""Live-event payloads for rooms: hints only (ids, sequence numbers), never text.

Consumers read what they send to a client from the database; an event that is lost is filled in
by the next one or by the heartbeat.
"""

from __future__ import annotations

from typing import Any

from messaging.models import Message

Event = dict[str, Any]


def presence_group(operation_id: int) -> str:
    return f"presence.{operation_id}"


def message_posted(message: Message) -> Event:
    return {"type": "room.message", "room": message.room_id, "seq": message.seq, "rev": message.rev}


def message_changed(message: Message) -> Event:
    return {"type": "room.changed", "room": message.room_id, "message": message.pk, "rev": message.rev}


def message_acknowledged(message: Message, user_id: int) -> Event:
    return {"type": "room.ack", "room": message.room_id, "message": message.pk, "user": user_id}


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
