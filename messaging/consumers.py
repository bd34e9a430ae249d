"""``/ws/operations/<code>/rooms/``: one socket per operation for all of the member's rooms.

The database is the truth. Live events are hints ("room 7 has seq 42, access epoch 9"). A room's
hints reach this process once (``messaging.fanout``), which reads, renders and encodes the news once
and hands the frame to every socket of the process in step; a socket that is behind, busy, or whose
access was checked before the hint's epoch, reads its own catch-up from the database (checking its
access again first when the epoch moved). The heartbeat fills what a lost hint would have brought.
Per room a socket keeps a cursor (seq, rev): the highest sequence number and change number it has
delivered. See docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.utils import timezone

from cencomm import protocol
from cencomm.batching import Batcher
from cencomm.consumers import HubConsumer
from cencomm.errors import NotFound, Refused
from cencomm.live import room_group
from messaging import acknowledgements, events, presence, rendering, selectors, services
from messaging.fanout import encode, rooms_fanout
from messaging.frames import (
    AckFrame,
    EditFrame,
    HistoryFrame,
    PingFrame,
    ReadFrame,
    SendFrame,
    SubscribeFrame,
    WithdrawFrame,
)
from messaging.models import Message, Room
from operations.models import Membership
from operations.selectors import access_membership

log = logging.getLogger(__name__)
SYNC_BATCH = 100
DEGRADED_HEARTBEAT_SECONDS = 2.0  # the heartbeat's gap-fill while the channel layer is down


_presence_frames: dict[int, tuple[list[dict[str, Any]], str]] = {}  # operation -> (online, its frame)


def _connections_open(opened: list[tuple[Membership, str]]) -> None:
    presence.connections_open(opened=opened)


def _connections_seen(channel_names: list[str]) -> None:
    presence.connections_seen(channel_names=channel_names)


class RoomsConsumer(HubConsumer):
    frames = {
        "subscribe": (SubscribeFrame, "handle_subscribe"),
        "send": (SendFrame, "handle_send"),
        "edit": (EditFrame, "handle_edit"),
        "withdraw": (WithdrawFrame, "handle_withdraw"),
        "ack": (AckFrame, "handle_ack"),
        "read": (ReadFrame, "handle_read"),
        "history": (HistoryFrame, "handle_history"),
        "ping": (PingFrame, "handle_ping"),
    }
    heartbeat_seconds: ClassVar[float] = 25.0

    membership: Membership | None = None
    room_ids: frozenset[int] = frozenset()
    access_epoch: int = -1  # the operation's access epoch when this socket's access was last read
    hello_rooms: list[dict[str, Any]] | None = None  # read with the access at connect, for hello
    opening: asyncio.Future[None] | None = None  # this socket's presence row, being written

    # --- access -----------------------------------------------------------------------------------

    async def authorize(self) -> bool:
        at_connect = self.checked_at_handshake
        if not await super().authorize():
            return False
        access = await self._load_access(with_rooms=at_connect)
        if access is None:
            return False
        self.membership, allowed, self.hello_rooms = access
        # Read in the same statement as the membership (access_membership's join): a change that
        # commits after it bumps the epoch past this value, and the next hint says so.
        self.access_epoch = self.membership.operation.access_epoch
        if allowed != self.room_ids:
            previous, self.room_ids = self.room_ids, allowed
            for room_id in set(self.cursors) - allowed:  # lost access to a room: stop at once
                del self.cursors[room_id]
                await self._unfollow(room_id)
            if previous:
                await self.send_json({"type": "rooms", "rooms": await self._rooms_info()})
        return True

    @database_sync_to_async
    def _load_access(
        self, *, with_rooms: bool
    ) -> tuple[Membership, frozenset[int], list[dict[str, Any]] | None] | None:
        """The membership and the rooms it may see; at connect the rooms with their heads and read
        positions too (what hello says), read once."""
        try:
            membership = access_membership(
                self.principal, operation_code=self.scope["url_route"]["kwargs"]["code"]
            )
        except NotFound:
            return None
        if with_rooms:
            rooms = selectors.rooms_info(membership)
            return membership, frozenset(r["id"] for r in rooms), rooms
        return membership, frozenset(selectors.rooms_for(membership).values_list("pk", flat=True)), None

    # --- lifecycle ----------------------------------------------------------------------------------

    async def connect(self) -> None:
        self.cursors: dict[int, list[int]] = {}
        self.rooms: dict[int, Room] = {}  # for rendering: id, scope, operation (never the counters)
        self.sync_lock = asyncio.Lock()  # the heartbeat task and the event handlers both sync
        self.heartbeat: asyncio.Task[None] | None = None
        self.presence_task: asyncio.Task[None] | None = None
        self.followed: set[int] = set()  # rooms this socket is subscribed to in the process's fan-out
        self.tasks: set[asyncio.Task[None]] = set()  # catch-ups the fan-out handed to this socket
        self.connection_opened = False
        await super().connect()

    async def opened(self) -> None:
        assert self.membership is not None
        # Join first, so the hint this socket's own arrival causes reaches it too.
        await self.join(events.presence_group(self.membership.operation_id))
        await self.join(events.alerts_group(self.membership.operation_id))
        await self._open_connection()
        hello = await self._hello()
        await self.send_json(hello)
        self.heartbeat = asyncio.ensure_future(self._beat())

    async def closed(self) -> None:
        # The base leaves the groups afterwards; here what would outlive the socket otherwise.
        for task in (getattr(self, "heartbeat", None), getattr(self, "presence_task", None)):
            if task is not None:
                task.cancel()
        for task in list(getattr(self, "tasks", ())):
            task.cancel()
        fan = rooms_fanout()  # handed nothing more from now on; the layer's side after the row
        emptied = [g for g in map(room_group, getattr(self, "followed", ())) if fan.forget(g, self)]
        self.followed = set()
        try:
            if self.opening is not None:  # the row's write first, or the delete could come before it
                await asyncio.wait([self.opening])
            if self.membership is not None and getattr(self, "connection_opened", False):
                await database_sync_to_async(presence.connection_close)(
                    operation_id=self.membership.operation_id, channel_name=self.channel_name
                )
        finally:
            for group in emptied:
                await fan.release(group)

    async def _open_connection(self) -> None:
        """The socket's presence row, written in one statement with those of the other sockets of
        this process that open meanwhile (a burst writes a handful of statements, not one each)."""
        assert self.membership is not None
        self.connection_opened = True
        writer = Batcher.current("connections", _connections_open)
        self.opening = asyncio.ensure_future(writer.add((self.membership, self.channel_name)))
        await self.opening

    @database_sync_to_async
    def _hello(self) -> dict[str, Any]:
        m = self.membership
        assert m is not None
        rendered = self._pending_rendered()
        return {
            "type": "hello",
            "protocol": protocol.PROTOCOL_VERSION,
            "me": {
                "id": m.user_id,
                "username": self.user.username,
                "role": m.role,
                "entry_point": m.entry_point.name if m.entry_point else None,
                "entry_point_id": m.entry_point_id,
            },
            "rooms": self.hello_rooms if self.hello_rooms is not None else selectors.rooms_info(m),
            "pending": rendered,
            "online": selectors.online_members(m.operation_id, max_age=0),
            "heartbeat_seconds": self.heartbeat_seconds,
            "limits": {
                "text_chars": services.MAX_TEXT_CHARS,
                "attachments": services.MAX_ATTACHMENTS_PER_MESSAGE,
                "edit_seconds": int(services.EDIT_WINDOW.total_seconds()),
            },
        }

    def _pending_rendered(self) -> list[dict[str, Any]]:
        """The warnings and alerts this member has yet to acknowledge, as messages, oldest first."""
        assert self.membership is not None
        rendered = []
        for message in acknowledgements.pending_acknowledgements(self.membership):
            rendered.extend(self._with_acks(rendering.render_messages(message.room, [message])))
        return rendered

    @database_sync_to_async
    def _rooms_info(self) -> list[dict[str, Any]]:
        assert self.membership is not None
        return selectors.rooms_info(self.membership)

    # --- heartbeat and presence -----------------------------------------------------------------------

    async def _beat(self) -> None:
        """Every heartbeat_seconds, and every DEGRADED_HEARTBEAT_SECONDS while the channel layer is
        down (no live hints then): the rooms' heads and who is online, and what a hint would have
        brought, from the database."""
        try:
            while True:
                waited = 0.0
                while waited < self.heartbeat_seconds:
                    step = min(DEGRADED_HEARTBEAT_SECONDS, self.heartbeat_seconds - waited)
                    await asyncio.sleep(step)
                    waited += step
                    if self.layer_failed:  # this socket's receive fails: no hints reach it
                        break
                try:
                    await self._beat_once()
                except Exception:  # a database hiccup: the next beat tries again
                    log.warning("heartbeat failed", exc_info=True)
        except asyncio.CancelledError:
            pass

    async def _beat_once(self) -> None:
        await Batcher.current("connections_seen", _connections_seen).add(self.channel_name)
        heads, online = await self._heads()
        await self.send_json(
            {
                "type": "heartbeat",
                "server_time": timezone.now().isoformat(),
                "rooms": {str(k): {"seq": v[0], "rev": v[1]} for k, v in heads.items()},
                "online": online,
            }
        )
        for room_id, (seq, rev) in heads.items():  # a hint was lost: fill the gap now
            cursor = self.cursors.get(room_id)
            if cursor is not None and (seq > cursor[0] or rev > cursor[1]):
                await self._deliver(room_id)

    async def resync(self) -> None:
        """The channel layer is back: what its lost hints would have brought, at once."""
        await self._beat_once()

    @database_sync_to_async
    def _heads(self) -> tuple[dict[int, tuple[int, int]], list[dict[str, Any]]]:
        assert self.membership is not None
        return selectors.room_heads(self.cursors), selectors.online_members(self.membership.operation_id)

    async def presence_changed(self, event: dict[str, Any]) -> None:
        # Many sockets connect at once: answer a burst of hints with one frame, a moment later.
        if self.presence_task is None or self.presence_task.done():
            self.presence_task = asyncio.ensure_future(self._send_presence())

    async def _send_presence(self) -> None:
        await asyncio.sleep(1.0)
        assert self.membership is not None
        operation_id = self.membership.operation_id
        online = await database_sync_to_async(selectors.online_members)(operation_id)
        # The list is the process's cached one (selectors.online_members): encoded once for every
        # socket of the operation here, not once each (a thousand members make it large).
        shared = _presence_frames.get(operation_id)
        if shared is None or shared[0] is not online:
            shared = _presence_frames[operation_id] = (online, encode({"type": "presence", "online": online}))
        await self.send(text_data=shared[1])

    # --- catching up --------------------------------------------------------------------------------

    async def _deliver(self, room_id: int, known_rev: int | None = None) -> None:
        """Send this client everything in ``room_id`` past its cursor, in order of change."""
        async with self.sync_lock:
            await self._deliver_unlocked(room_id, known_rev)

    async def _deliver_unlocked(
        self, room_id: int, known_rev: int | None, member_checked: bool = False
    ) -> None:
        while room_id in self.cursors:
            batch = await self._read_batch(room_id, *self.cursors[room_id], known_rev, member_checked)
            member_checked = False
            if batch is None:
                self.cursors.clear()
                await self.close(code=protocol.CLOSE_NOT_FOUND)
                return
            if not batch:
                return
            cursor = self.cursors[room_id]
            cursor[0] = max(cursor[0], *(m["seq"] for m in batch))
            cursor[1] = max(cursor[1], *(m["rev"] for m in batch))
            await self.send_json({"type": "messages", "room": room_id, "messages": batch})
            if len(batch) < SYNC_BATCH:
                return

    @database_sync_to_async
    def _read_batch(
        self, room_id: int, seq: int, rev: int, known_rev: int | None, member_checked: bool = False
    ) -> list[dict[str, Any]] | None:
        """The next messages past (seq, rev), ordered by rev; None once the member has gone.
        ``member_checked``: authorize() has just read the membership (a client frame's handler)."""
        assert self.membership is not None
        if not member_checked and not Membership.objects.filter(pk=self.membership.pk).exists():
            return None
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room.objects.get(pk=room_id)
        messages = selectors.messages_past(room, seq=seq, rev=rev, limit=SYNC_BATCH, known_rev=known_rev)
        return self._with_acks(rendering.render_messages(room, messages))

    def _with_acks(self, rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert self.membership is not None
        return acknowledgements.with_acknowledgements(self.membership, rendered)

    @database_sync_to_async
    def _head(self, room_id: int) -> tuple[int, int]:
        return selectors.room_heads([room_id])[room_id]

    # --- frames from the client -----------------------------------------------------------------------

    async def handle_subscribe(self, frame: SubscribeFrame) -> None:
        for cursor in frame.rooms:
            if cursor.room not in self.room_ids:
                await self.send_json(
                    protocol.error_frame(
                        "not_found", "No such room.", ref=frame.ref, fields={"room": [str(cursor.room)]}
                    )
                )
                continue
            head_seq, head_rev = await self._head(cursor.room)
            if cursor.after_seq > head_seq or (cursor.after_rev or 0) > head_rev:
                # A cursor from another room, another server's database or a client's bug: echoing
                # it would hide every message up to that seq from this socket.
                error = protocol.error_frame(
                    "beyond_head",
                    f"The cursor is beyond room {cursor.room}'s head (seq {head_seq}, rev {head_rev}): "
                    "subscribe with the last seq and rev this client holds, or 0.",
                    ref=frame.ref,
                    fields={"after_seq": [f"at most {head_seq}"]}
                    if cursor.after_seq > head_seq
                    else {"after_rev": [f"at most {head_rev}"]},
                )
                await self.send_json({**error, "room": cursor.room, "seq": head_seq, "rev": head_rev})
                continue
            # Join first, read second: a message posted in between arrives as a hint and is skipped
            # if the read already delivered it.
            await self._follow(cursor.room)
            if cursor.after_rev is not None:
                head_rev = cursor.after_rev
            async with self.sync_lock:
                self.cursors[cursor.room] = [cursor.after_seq, head_rev]
                await self._deliver_unlocked(cursor.room, None, member_checked=True)
            seq, rev = self.cursors.get(cursor.room, (0, 0))
            await self.send_json(
                {"type": "subscribed", "ref": frame.ref, "room": cursor.room, "seq": seq, "rev": rev}
            )

    async def handle_send(self, frame: SendFrame) -> None:
        if frame.room not in self.room_ids:
            await self.send_json(protocol.error_frame("not_found", "No such room.", ref=frame.ref))
            return
        result = await self._call(frame.ref, self._post, frame)
        if result is None:
            return
        message, created = result
        await self.send_json(
            {
                "type": "sent",
                "ref": frame.ref,
                "client_id": frame.client_id,
                "room": frame.room,
                "id": message.pk,
                "seq": message.seq,
                "created": created,
            }
        )
        if frame.room in self.cursors:
            await self._deliver(frame.room)

    def _post(self, frame: SendFrame) -> tuple[Message, bool]:
        assert self.membership is not None
        room = Room.objects.get(pk=frame.room)
        return services.message_post(
            membership=self.membership,
            room=room,
            client_id=uuid.UUID(frame.client_id),
            text=frame.text,
            kind=frame.kind,
            handling=frame.handling,
            reply_to_id=frame.reply_to,
            warning_id=frame.warning,
            entry_point_ids=frame.entry_points,
            administration_ids=frame.administrations,
            roles=frame.roles,
            attachment_ids=frame.attachments,
        )

    async def handle_edit(self, frame: EditFrame) -> None:
        await self._change(
            frame, lambda m, msg: services.message_edit(membership=m, message=msg, text=frame.text)
        )

    async def handle_withdraw(self, frame: WithdrawFrame) -> None:
        await self._change(frame, lambda m, msg: services.message_withdraw(membership=m, message=msg))

    async def handle_ack(self, frame: AckFrame) -> None:
        await self._change(
            frame, lambda m, msg: services.message_acknowledge(membership=m, message=msg) and msg
        )

    async def _change(
        self, frame: EditFrame | WithdrawFrame | AckFrame, action: Callable[[Membership, Message], Any]
    ) -> None:
        def run() -> Message:
            assert self.membership is not None
            message = selectors.access_message(self.membership, frame.message)
            action(self.membership, message)
            return message

        message = await self._call(frame.ref, run)
        if message is not None:
            await self.send_json(
                {"type": "done", "ref": frame.ref, "action": frame.type, "message": message.pk}
            )
            if message.room_id in self.cursors:
                await self._deliver(message.room_id)

    async def handle_read(self, frame: ReadFrame) -> None:
        if frame.room not in self.room_ids:
            await self.send_json(protocol.error_frame("not_found", "No such room.", ref=frame.ref))
            return

        def run() -> int:
            assert self.membership is not None
            return services.read_position_set(
                membership=self.membership, room=Room.objects.get(pk=frame.room), seq=frame.seq
            ).seq

        seq = await self._call(frame.ref, run)
        if seq is not None:
            await self.send_json({"type": "read", "ref": frame.ref, "room": frame.room, "seq": seq})

    async def handle_history(self, frame: HistoryFrame) -> None:
        if frame.room not in self.room_ids:
            await self.send_json(protocol.error_frame("not_found", "No such room.", ref=frame.ref))
            return

        @database_sync_to_async
        def read() -> list[dict[str, Any]]:
            room = Room.objects.get(pk=frame.room)
            page = selectors.messages_before(room, before_seq=frame.before_seq, limit=frame.limit)
            return self._with_acks(rendering.render_messages(room, page))

        page = await read()
        await self.send_json(
            {
                "type": "history",
                "ref": frame.ref,
                "room": frame.room,
                "messages": page,
                "complete": not page or page[0]["seq"] == 1,
            }
        )

    async def handle_ping(self, frame: PingFrame) -> None:
        await self.send_json({"type": "pong", "ref": frame.ref, "server_time": timezone.now().isoformat()})

    async def _call(self, ref: str | None, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a service; its refusals become error frames (the socket stays open)."""
        try:
            return await database_sync_to_async(fn)(*args)
        except NotFound:
            await self.send_json(protocol.error_frame("not_found", "Not found.", ref=ref))
        except protocol.ClientIdReused as exc:  # before Refused, of which it is one
            await self.send_json(
                protocol.error_frame(
                    exc.code, exc.message, ref=ref, fields={exc.field: [exc.message]}, id=exc.stored_id
                )
            )
        except Refused as exc:
            await self.send_json(
                protocol.error_frame(
                    "refused", exc.message, ref=ref, fields={exc.field: [exc.message]} if exc.field else None
                )
            )
        except ValidationError as exc:
            fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            await self.send_json(
                protocol.error_frame("invalid", "The request was not accepted.", ref=ref, fields=fields)
            )
        return None

    # --- events from the channel layer (types written by messaging.events, never by clients) ----------

    # What the member is asked to acknowledge, on every page (alerts.js): a ``pending`` frame with
    # the whole list, read again from the database; reviewers get an ``acknowledged`` hint too.

    async def alerts_changed(self, event: dict[str, Any]) -> None:
        if event.get("room") not in self.room_ids:
            return
        await self._send_pending()
        if await self._reviews():
            await self.send_json({"type": "acknowledged", "message": event["message"], "user": None})

    async def alerts_acknowledged(self, event: dict[str, Any]) -> None:
        if event.get("room") not in self.room_ids:
            return
        assert self.membership is not None
        if event.get("user") == self.membership.user_id:  # my other pages drop it too
            await self._send_pending()
        elif await self._reviews():
            await self.send_json({"type": "acknowledged", "message": event["message"], "user": event["user"]})

    async def _send_pending(self) -> None:
        pending = await database_sync_to_async(self._pending_rendered)()
        await self.send_json({"type": "pending", "pending": pending})

    async def _reviews(self) -> bool:
        assert self.membership is not None
        return selectors.may_review_acknowledgements(self.membership)

    # --- the process's fan-out (messaging.fanout) hands this socket its room's news -----------------

    async def _follow(self, room_id: int) -> None:
        self.followed.add(room_id)
        await rooms_fanout().subscribe(room_group(room_id), self)

    async def _unfollow(self, room_id: int) -> None:
        self.followed.discard(room_id)
        await rooms_fanout().unsubscribe(room_group(room_id), self)

    def checked_at(self, epoch: int | None) -> bool:
        """Whether this socket's access was read at ``epoch`` or later (None: unknown, so no)."""
        return epoch is not None and epoch <= self.access_epoch

    def spawn(self, work: Any) -> None:
        """Run ``work`` (a coroutine) for this socket; cancelled with it."""
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _access_current(self, epoch: int | None) -> bool:
        """Check the access again if it was read before ``epoch``; close the socket when it went."""
        if self.checked_at(epoch):
            return True
        if await self.authorize():
            return True
        self.cursors.clear()
        await self.close(code=self.refusal_code())
        return False

    async def catch_up(self, room_id: int, known_rev: int, epoch: int | None) -> None:
        """This socket's own delivery of a hint: its access checked first if the epoch moved."""
        try:
            if await self._access_current(epoch) and room_id in self.cursors:
                await self._deliver(room_id, known_rev=known_rev)
        except Exception:  # a database hiccup: the heartbeat fills the gap
            log.warning("catch-up failed", exc_info=True)

    async def ack_after_check(self, room_id: int, epoch: int | None, text: str) -> None:
        if await self._access_current(epoch) and room_id in self.cursors:
            await self.send(text_data=text)

    async def send_shared(
        self, room_id: int, cursor: tuple[int, int] | None, reached: tuple[int, int] | None, text: str
    ) -> None:
        """Send a frame the fan-out encoded once for many sockets. With ``cursor``, only if this
        socket is still there (else it catches up on its own), and its cursor moves to ``reached``."""
        if cursor is None:
            await self.send(text_data=text)
            return
        async with self.sync_lock:
            current = self.cursors.get(room_id)
            if current is None:
                return
            if (current[0], current[1]) != cursor:
                assert reached is not None
                self.spawn(self.catch_up(room_id, reached[1], self.access_epoch))
                return
            assert reached is not None
            current[0], current[1] = max(current[0], reached[0]), max(current[1], reached[1])
            await self.send(text_data=text)
