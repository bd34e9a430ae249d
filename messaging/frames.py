"""Schemas of the frames a client sends on ``/ws/operations/<code>/rooms/`` (see docs/protocol.md).

Strict and closed: unknown fields, wrong types and out-of-range values are refused with an error
frame before any handler runs. The frame ``type`` selects a row of RoomsConsumer.frames, nothing more.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cencomm.protocol import ClientFrame
from messaging.services import MAX_ATTACHMENTS_PER_MESSAGE, MAX_TEXT_CHARS

RoomId = Field(ge=1, le=2**53)
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
Seq = Field(default=0, ge=0, le=2**53)


class RoomCursor(BaseModel):
    """Where the client is in one room: the last sequence number (and change number) it holds."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    room: int = RoomId
    after_seq: int = Seq
    after_rev: int | None = Field(default=None, ge=0, le=2**53)


class SubscribeFrame(ClientFrame):
    type: Literal["subscribe"]
    rooms: list[RoomCursor] = Field(min_length=1, max_length=200)


class SendFrame(ClientFrame):
    type: Literal["send"]
    room: int = RoomId
    client_id: str = Field(pattern=UUID_PATTERN)
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)
    kind: Literal["chat", "warning", "feedback", "alert"] = "chat"
    handling: Literal["operation", "hub_only"] = "operation"
    reply_to: int | None = Field(default=None, ge=1, le=2**53)
    warning: int | None = Field(default=None, ge=1, le=2**53)
    entry_points: list[int] = Field(default_factory=list, max_length=100)
    attachments: list[str] = Field(default_factory=list, max_length=MAX_ATTACHMENTS_PER_MESSAGE)


class EditFrame(ClientFrame):
    type: Literal["edit"]
    message: int = RoomId
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)


class WithdrawFrame(ClientFrame):
    type: Literal["withdraw"]
    message: int = RoomId


class AckFrame(ClientFrame):
    type: Literal["ack"]
    message: int = RoomId


class ReadFrame(ClientFrame):
    type: Literal["read"]
    room: int = RoomId
    seq: int = Seq


class HistoryFrame(ClientFrame):
    type: Literal["history"]
    room: int = RoomId
    before_seq: int = Field(ge=1, le=2**53)
    limit: int = Field(default=50, ge=1, le=100)


class PingFrame(ClientFrame):
    type: Literal["ping"]
