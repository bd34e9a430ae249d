"""The live board socket: ``/ws/operations/<code>/board/``.

On connect (and on every ``snapshot`` or ``filter`` frame) the board gets a full snapshot read from
the database; after that, each board event becomes a ``board.delta`` frame computed for the
socket's filter from the event alone. A gap in the sequence, or an event that cannot be a delta,
sends a fresh snapshot instead. An event carries the operation's access epoch (none: unknown);
a board whose access was read at an older one reads it again before it sends anything, so a member
removed from the operation or from the board's roles gets no further delta even when the
``access.changed`` event is lost. See docs/protocol.md, section "Board".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from pydantic import StringConstraints

from cencomm import protocol
from cencomm.consumers import HubConsumer
from cencomm.errors import NotFound
from cencomm.live import board_group
from operations.models import Membership
from operations.selectors import access_membership, require_role
from results.board import NO_FILTER, BoardFilter, board_snapshot, parse_filter
from results.events import board_delta
from results.selectors import BOARD_ROLES


class SnapshotFrame(protocol.ClientFrame):
    type: Literal["snapshot"]


ShortText = Annotated[str, StringConstraints(max_length=100)]


class FilterFrame(protocol.ClientFrame):
    """Only the shape here: the values are read by ``results.board.parse_filter``, as the API's are."""

    type: Literal["filter"]
    administration: int | ShortText | None = None
    entry_point: int | ShortText | None = None
    category: ShortText | None = None
    day: ShortText | None = None


class PingFrame(protocol.ClientFrame):
    type: Literal["ping"]


class BoardConsumer(HubConsumer):
    frames = {
        "snapshot": (SnapshotFrame, "handle_snapshot"),
        "filter": (FilterFrame, "handle_filter"),
        "ping": (PingFrame, "handle_ping"),
    }

    membership: Membership
    board_filter: BoardFilter = NO_FILTER
    seq: int = 0
    access_epoch: int = -1  # the operation's access epoch when the access was last read
    group: str | None = None

    async def authorize(self) -> bool:
        return await super().authorize() and await self._board_member()

    @database_sync_to_async
    def _board_member(self) -> bool:
        code = self.scope["url_route"]["kwargs"]["code"]
        try:
            membership = access_membership(self.principal, operation_code=code)
            self.membership = require_role(membership, *BOARD_ROLES, what="board")
        except NotFound:
            return False
        self.access_epoch = membership.operation.access_epoch  # read with the membership
        return True

    async def opened(self) -> None:
        self.group = board_group(self.membership.operation_id)
        await self.join(self.group)  # left by the base's clean-up
        await self.send_snapshot()

    async def resync(self) -> None:
        """The channel layer is back: the board's deltas sent meanwhile are lost; a fresh snapshot."""
        await self.send_snapshot()

    async def send_snapshot(self, ref: str | None = None) -> None:
        snapshot = await database_sync_to_async(board_snapshot)(self.membership.operation, self.board_filter)
        self.seq = snapshot["seq"]
        frame: dict[str, Any] = {"type": "board.snapshot", **snapshot}
        if ref is not None:
            frame["ref"] = ref
        await self.send_json(frame)

    # --- client frames ---------------------------------------------------------------------------

    async def handle_snapshot(self, frame: SnapshotFrame) -> None:
        await self.send_snapshot(frame.ref)

    async def handle_filter(self, frame: FilterFrame) -> None:
        try:
            self.board_filter = await self._board_filter(frame)
        except ValidationError as exc:
            await self.reject_frame(
                "invalid_filter", "Invalid filter.", ref=frame.ref, fields=exc.message_dict
            )
            return
        await self.send_snapshot(frame.ref)

    async def handle_ping(self, frame: PingFrame) -> None:
        await self.send_json({"type": "pong", "ref": frame.ref, "seq": self.seq})

    @database_sync_to_async
    def _board_filter(self, frame: FilterFrame) -> BoardFilter:
        return parse_filter(
            self.membership.operation,
            administration=frame.administration,
            entry_point=frame.entry_point,
            category=frame.category,
            day=frame.day,
        )

    # --- board events (written by results.services, never by clients) ---------------------------

    async def board_event(self, event: dict[str, Any]) -> None:
        if event["seq"] <= self.seq:
            return  # already in the snapshot this board started from
        epoch = event.get("epoch")
        if not (isinstance(epoch, int) and epoch <= self.access_epoch) and not await self.authorize():
            await self.close(code=self.refusal_code())
            return
        frame = board_delta(event, self.board_filter) if event["seq"] == self.seq + 1 else None
        if frame is None:
            await self.send_snapshot()
            return
        self.seq = event["seq"]
        await self.send_json(frame)
