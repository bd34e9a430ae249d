"""Schemas of the frames a client sends on ``/ws/operations/<code>/rooms/`` (see docs/protocol.md),
and of a message draft, which the ``send`` frame and the API's ``MessageIn`` both are.

Strict and closed: unknown fields, wrong types and out-of-range values are refused with an error
frame before any handler runs. The frame ``type`` selects a row of RoomsConsumer.frames, nothing more.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cencomm.protocol import ClientFrame, ClientId
from messaging.models import MAX_ATTACHMENTS_PER_MESSAGE, MAX_TEXT_CHARS, Handling, Message
from operations.models import Membership

RoomId = Field(ge=1, le=2**53)
Seq = Field(default=0, ge=0, le=2**53)
# The choices come from the models; Literal keeps them inline in the OpenAPI schema and errors.
MessageKind = Literal[tuple(Message.Kind.values)]  # type: ignore[valid-type]
HandlingCode = Literal[tuple(Handling.values)]  # type: ignore[valid-type]
RoleCode = Literal[tuple(Membership.Role.values)]  # type: ignore[valid-type]


class MessageDraft(BaseModel):
    """A message as a client writes it: the body of ``send`` (socket) and of ``MessageIn`` (API).

    Each user sets its own config (the socket is strict about types; both refuse unknown fields).
    """

    client_id: ClientId
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)
    kind: MessageKind = Message.Kind.CHAT.value
    handling: HandlingCode = Handling.OPERATION.value
    reply_to: int | None = Field(default=None, ge=1, le=2**53)
    warning: int | None = Field(default=None, ge=1, le=2**53)
    # A warning or alert's addressees (none: the whole room): places, narrowed to roles.
    entry_points: list[int] = Field(default_factory=list, max_length=100)
    administrations: list[int] = Field(default_factory=list, max_length=100)
    roles: list[RoleCode] = Field(default_factory=list, max_length=len(Membership.Role.values))
    attachments: list[str] = Field(default_factory=list, max_length=MAX_ATTACHMENTS_PER_MESSAGE)

    def post_arguments(self) -> dict[str, Any]:
        """The draft as ``messaging.services.message_post``'s keyword arguments: one mapping for
        the API's ``message_post`` and the socket's ``send`` alike."""
        return {
            "client_id": uuid.UUID(self.client_id),
            "text": self.text,
            "kind": self.kind,
            "handling": self.handling,
            "reply_to_id": self.reply_to,
            "warning_id": self.warning,
            "entry_point_ids": self.entry_points,
            "administration_ids": self.administrations,
            "roles": self.roles,
            "attachment_ids": self.attachments,
        }


class RoomCursor(BaseModel):
    """Where the client is in one room: the last sequence number (and change number) it holds."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    room: int = RoomId
    after_seq: int = Seq
    after_rev: int | None = Field(default=None, ge=0, le=2**53)


class SubscribeFrame(ClientFrame):
    type: Literal["subscribe"]
    rooms: list[RoomCursor] = Field(min_length=1, max_length=200)


class SendFrame(ClientFrame, MessageDraft):
    model_config = ClientFrame.model_config
    type: Literal["send"]
    room: int = RoomId


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
