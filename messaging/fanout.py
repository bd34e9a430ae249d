"""The rooms' fan-out: a room's news read, opened, rendered and encoded once per process.

A room's hints (``room.message``, ``room.changed``, ``room.ack``: ids, numbers and the operation's
access epoch) reach one channel per process (``cencomm.fanout``), not one per socket. For a batch
of hints this module takes the process's sockets subscribed to the room (``RoomsConsumer``) and:

- a socket whose access was checked at an older epoch than the hint's (someone's access changed
  since), or whose cursor is busy (its own catch-up is running), catches up on its own
  (``RoomsConsumer.catch_up``): it checks its access again first and reads from the database;
- the other sockets are grouped by cursor (in step, they all hold the same one): for each cursor
  the missing messages are read once (``selectors.messages_past``), opened and rendered once
  (``rendering.render_messages``), the acknowledgements of the warnings and alerts among them read
  once (``acknowledgements.shared_acknowledgements``), and the frame is encoded once per distinct
  ``acked`` state (chat alone: one text for everyone), then handed to each socket, whose cursor
  advances as it goes out;
- a batch that fills a page (``SYNC_BATCH``) is left to each socket's own catch-up.

The database stays the truth: a socket that is behind, has a gap or missed a hint reads its own
catch-up (subscribe, heartbeat), exactly as before.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async

from cencomm.fanout import Event, Fanout
from cencomm.live import room_group
from messaging import acknowledgements, rendering, selectors
from messaging.models import Room

if TYPE_CHECKING:
    from messaging.consumers import RoomsConsumer

log = logging.getLogger(__name__)
SYNC_BATCH = 100
NEWS = ("room.message", "room.changed")


def rooms_fanout() -> Fanout:
    """This process's (event loop's) fan-out of rooms' hints."""
    return Fanout.current("rooms", handler=room_hints, group_of=_group_of)


def _group_of(event: Event) -> str | None:
    room = event.get("room")
    if event.get("type") not in (*NEWS, "room.ack") or not isinstance(room, int):
        return None
    return room_group(room)


def hint_epoch(events: list[Event]) -> int | None:
    """The newest access epoch among the hints; None if one carries none (re-check to be safe)."""
    epochs = [e.get("epoch") for e in events]
    if any(not isinstance(epoch, int) for epoch in epochs):
        return None
    return max(epochs)  # type: ignore[type-var]


async def room_hints(group: str, events: list[Event], sockets: list[RoomsConsumer]) -> None:
    room_id = events[0]["room"]
    news = [e for e in events if e["type"] in NEWS]
    if news:
        await _deliver_news(room_id, news, sockets)
    for event in events:
        if event["type"] == "room.ack":
            await _deliver_ack(room_id, event, sockets)


async def _deliver_news(room_id: int, events: list[Event], sockets: list[RoomsConsumer]) -> None:
    epoch = hint_epoch(events)
    known_rev = max(e["rev"] for e in events)
    head_seq = max(e.get("seq", 0) for e in events)
    in_step: dict[tuple[int, int], list[RoomsConsumer]] = {}
    for socket in sockets:
        cursor = socket.cursors.get(room_id)
        if cursor is None or (cursor[0] >= head_seq and cursor[1] >= known_rev):
            continue  # not following the room (any more), or has it already (its author)
        if not socket.checked_at(epoch) or socket.sync_lock.locked():
            socket.spawn(socket.catch_up(room_id, known_rev, epoch))
            continue
        in_step.setdefault((cursor[0], cursor[1]), []).append(socket)
    for (seq, rev), group in in_step.items():
        shared = await database_sync_to_async(_read_shared)(room_id, seq, rev, known_rev)
        if shared is None:  # a full page: each socket pages through on its own
            for socket in group:
                socket.spawn(socket.catch_up(room_id, known_rev, epoch))
            continue
        rendered, acks = shared
        if not rendered:
            continue
        reached = (max(m["seq"] for m in rendered), max(m["rev"] for m in rendered))
        texts: dict[tuple[bool | None, ...], str] = {}
        for socket in group:
            if (
                socket.cursors.get(room_id) != [seq, rev]
                or socket.sync_lock.locked()
                or not socket.checked_at(epoch)
            ):
                socket.spawn(socket.catch_up(room_id, known_rev, epoch))  # moved meanwhile
                continue
            assert socket.membership is not None
            acked = acks.acked_for(socket.membership)
            text = texts.get(acked)
            if text is None:
                messages = [m | {"acked": a} for m, a in zip(rendered, acked, strict=True)]
                text = texts[acked] = encode({"type": "messages", "room": room_id, "messages": messages})
            try:
                await socket.send_shared(room_id, (seq, rev), reached, text)
            except Exception:  # one socket's failure is not the others': it fills in on its heartbeat
                log.warning("fan-out to a socket failed", exc_info=True)


async def _deliver_ack(room_id: int, event: Event, sockets: list[RoomsConsumer]) -> None:
    epoch = hint_epoch([event])
    text = encode({"type": "ack", "room": room_id, "message": event["message"], "user": event["user"]})
    for socket in sockets:
        if room_id not in socket.cursors:
            continue
        if socket.checked_at(epoch):
            try:
                await socket.send_shared(room_id, None, None, text)
            except Exception:
                log.warning("fan-out to a socket failed", exc_info=True)
        else:  # someone's access changed: this socket checks its own first
            socket.spawn(socket.ack_after_check(room_id, epoch, text))


def encode(frame: dict[str, Any]) -> str:
    """A frame as ``HubConsumer.send_json`` writes it."""
    return json.dumps(frame, separators=(",", ":"), default=str)


def _read_shared(
    room_id: int, seq: int, rev: int, known_rev: int
) -> tuple[list[dict[str, Any]], acknowledgements.SharedAcknowledgements] | None:
    """What a socket at (seq, rev) lacks, rendered, with its acknowledgements; None for a full page."""
    room = Room.objects.get(pk=room_id)  # one row per batch and process, not per socket
    messages = selectors.messages_past(room, seq=seq, rev=rev, limit=SYNC_BATCH, known_rev=known_rev)
    if len(messages) >= SYNC_BATCH:
        return None
    rendered = rendering.render_messages(room, messages)
    return rendered, acknowledgements.shared_acknowledgements(rendered)
