"""REST equivalents of the rooms socket, for programs and clients that cannot keep a socket open."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import ConfigDict, Field

from cencomm.downloads import download_response
from cencomm.errors import NotFound
from cencomm.principal import principal_of
from cencomm.protocol import ClientId, ClientIdReused
from cencomm.uploads import read_upload
from messaging import acknowledgements, rendering, selectors, services
from messaging.frames import HandlingCode, MessageDraft
from messaging.models import MAX_TEXT_CHARS, Attachment
from messaging.sealing import open_attachment
from operations.selectors import access_membership

router = Router(tags=["rooms"])


class Closed(Schema):
    model_config = ConfigDict(extra="forbid")


class RoomOut(Schema):
    id: int
    name: str
    kind: str
    seq: int
    rev: int
    read: int


class RoomIn(Closed):
    name: str = Field(max_length=120)
    members: list[int] = Field(default_factory=list, max_length=500)


class AuthorOut(Schema):
    id: int
    username: str | None
    role: str | None
    entry_point: str | None


class AttachmentOut(Schema):
    id: str
    content_type: str
    size: int
    name: str
    sha256: str
    preview: bool
    width: int | None
    height: int | None
    handling: str


class MessageOut(Schema):
    id: int
    room: int
    seq: int
    rev: int
    client_id: str
    author: AuthorOut
    kind: str
    handling: str
    text: str | None
    reply_to: int | None
    warning: int | None
    entry_points: list[int]
    administrations: list[int] = []
    roles: list[str] = []
    recipients: list[int] = []
    reminder_of: int | None = None
    version: int
    created_at: dt.datetime
    edited_at: dt.datetime | None
    withdrawn: bool
    attachments: list[AttachmentOut]
    acked: bool | None = None


class MessagePage(Schema):
    room: int
    seq: int
    rev: int
    messages: list[MessageOut]


class MessageIn(Closed, MessageDraft):
    """The ``send`` frame's draft (messaging.frames), without ``type`` and ``room``."""

    model_config = Closed.model_config


class EditIn(Closed):
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)


class ReadIn(Closed):
    seq: int = Field(ge=0)


class ReadOut(Schema):
    room: int
    seq: int


class AckOut(Schema):
    message: int
    acknowledged_at: dt.datetime


class AckStatusOut(Schema):
    user: int
    username: str
    role: str
    entry_point: str | None
    acknowledged_at: dt.datetime | None


class AckOverviewOut(Schema):
    message: MessageOut
    acknowledged: int
    total: int
    status: list[AckStatusOut]
    reminders: int = 0


@router.get("/operations/{code}/rooms", response=list[RoomOut])
def rooms_list(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    membership = access_membership(principal_of(request), operation_code=code)
    return selectors.rooms_info(membership)


@router.post("/operations/{code}/rooms", response={201: RoomOut})
def room_create(request: HttpRequest, code: str, payload: RoomIn) -> Status:
    membership = access_membership(principal_of(request), operation_code=code)
    room = services.room_create(membership=membership, name=payload.name, user_ids=payload.members)
    return Status(201, {"id": room.pk, "name": room.name, "kind": room.kind, "seq": 0, "rev": 0, "read": 0})


@router.get("/operations/{code}/rooms/{room_id}/messages", response=MessagePage)
def messages_list(
    request: HttpRequest,
    code: str,
    room_id: int,
    after_seq: int = 0,
    before_seq: int | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """Messages after ``after_seq`` in order (or the page before ``before_seq``, for history)."""
    membership, room = selectors.access_room(principal_of(request), operation_code=code, room_id=room_id)
    limit = max(1, min(int(limit), selectors.PAGE_SIZE))
    if before_seq is not None:
        page = selectors.messages_before(room, before_seq=max(1, before_seq), limit=limit)
    else:
        page = selectors.messages_after(room, after_seq=max(0, after_seq), limit=limit)
    return {
        "room": room.pk,
        "seq": room.last_seq,
        "rev": room.last_rev,
        "messages": acknowledgements.with_acknowledgements(membership, rendering.render_messages(room, page)),
    }


class ConflictOut(Schema):
    detail: str
    errors: dict[str, list[str]]
    id: int


@router.post(
    "/operations/{code}/rooms/{room_id}/messages",
    response={200: MessageOut, 201: MessageOut, 409: ConflictOut},
)
def message_post(request: HttpRequest, code: str, room_id: int, payload: MessageIn) -> Status:
    """201 with the new message; 200 with the stored one when this client ID was already used for
    the same draft; 409 with the stored one's ``id`` when it was used for a different draft."""
    membership, room = selectors.access_room(principal_of(request), operation_code=code, room_id=room_id)
    try:
        message, created = _post(membership, room, payload)
    except ClientIdReused as exc:
        return Status(
            409, {"detail": exc.message, "errors": {"client_id": [exc.message]}, "id": exc.stored_id}
        )
    (rendered,) = acknowledgements.with_acknowledgements(
        membership, rendering.render_messages(room, [message])
    )
    return Status(201 if created else 200, rendered)


def _post(membership: Any, room: Any, payload: MessageIn) -> tuple[Any, bool]:
    return services.message_post(membership=membership, room=room, **payload.post_arguments())


def _message(request: HttpRequest, code: str, message_id: int) -> tuple[Any, Any]:
    membership = access_membership(principal_of(request), operation_code=code)
    return membership, selectors.access_message(membership, message_id)


@router.patch("/operations/{code}/messages/{message_id}", response=MessageOut)
def message_edit(request: HttpRequest, code: str, message_id: int, payload: EditIn) -> dict[str, Any]:
    membership, message = _message(request, code, message_id)
    message = services.message_edit(membership=membership, message=message, text=payload.text)
    return rendering.render_messages(message.room, [message])[0]


@router.delete("/operations/{code}/messages/{message_id}", response=MessageOut)
def message_withdraw(request: HttpRequest, code: str, message_id: int) -> dict[str, Any]:
    membership, message = _message(request, code, message_id)
    message = services.message_withdraw(membership=membership, message=message)
    return rendering.render_messages(message.room, [message])[0]


@router.post("/operations/{code}/messages/{message_id}/ack", response=AckOut)
def message_acknowledge(request: HttpRequest, code: str, message_id: int) -> dict[str, Any]:
    membership, message = _message(request, code, message_id)
    ack = services.message_acknowledge(membership=membership, message=message)
    return {"message": message.pk, "acknowledged_at": ack.at}


class RemindIn(Closed):
    client_id: ClientId


@router.post(
    "/operations/{code}/messages/{message_id}/remind",
    response={200: MessageOut, 201: MessageOut, 409: ConflictOut},
)
def message_remind(request: HttpRequest, code: str, message_id: int, payload: RemindIn) -> Status:
    """A new warning or alert linked to this one (``reminder_of``), to those who have not acknowledged
    it; 201, or 200 with the stored reminder when this client ID was already used for it."""
    membership, message = _message(request, code, message_id)
    try:
        reminder, created = services.message_remind(
            membership=membership, message=message, client_id=uuid.UUID(payload.client_id)
        )
    except ClientIdReused as exc:
        return Status(
            409, {"detail": exc.message, "errors": {"client_id": [exc.message]}, "id": exc.stored_id}
        )
    rendered = acknowledgements.with_acknowledgements(
        membership, rendering.render_messages(reminder.room, [reminder])
    )[0]
    return Status(201 if created else 200, rendered)


@router.get("/operations/{code}/messages/{message_id}/acks", response=list[AckStatusOut])
def message_acknowledgements(request: HttpRequest, code: str, message_id: int) -> list[dict[str, Any]]:
    membership, message = _message(request, code, message_id)
    if not selectors.may_review_acknowledgements(membership):
        raise NotFound("message")
    return acknowledgements.acknowledgement_status(message)


@router.get("/operations/{code}/pending", response=list[MessageOut])
def pending_list(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    """The warnings and alerts this member must still acknowledge, oldest first (the rooms socket's
    ``pending``; what a page reads again on the heartbeat, in case a live hint was lost)."""
    membership = access_membership(principal_of(request), operation_code=code)
    rendered: list[dict[str, Any]] = []
    for message in acknowledgements.pending_acknowledgements(membership):
        rendered.extend(rendering.render_messages(message.room, [message]))
    return acknowledgements.with_acknowledgements(membership, rendered)


@router.get("/operations/{code}/acknowledgements", response=list[AckOverviewOut])
def acknowledgements_overview(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    """Every warning and alert in the coordinator's rooms, with who has and has not acknowledged."""
    membership = access_membership(principal_of(request), operation_code=code)
    if not selectors.may_review_acknowledgements(membership):
        raise NotFound("operation")
    return [
        {
            "message": row["rendered"],
            "acknowledged": row["acknowledged"],
            "total": row["total"],
            "status": row["status"],
            "reminders": row["reminders"],
        }
        for row in acknowledgements.acknowledgement_overview(membership)
    ]


@router.put("/operations/{code}/rooms/{room_id}/read", response=ReadOut)
def read_position_set(request: HttpRequest, code: str, room_id: int, payload: ReadIn) -> dict[str, Any]:
    membership, room = selectors.access_room(principal_of(request), operation_code=code, room_id=room_id)
    position = services.read_position_set(membership=membership, room=room, seq=payload.seq)
    return {"room": room.pk, "seq": position.seq}


def _attachment_out(attachment: Attachment, name: str) -> dict[str, Any]:
    return {
        "id": str(attachment.uid),
        "content_type": attachment.content_type,
        "size": attachment.size,
        "name": name,
        "sha256": attachment.sha256,
        "preview": attachment.display is not None,
        "width": attachment.width,
        "height": attachment.height,
        "handling": attachment.handling,
    }


@router.post("/operations/{code}/rooms/{room_id}/attachments", response={201: AttachmentOut, 413: dict})
def attachment_upload(
    request: HttpRequest,
    code: str,
    room_id: int,
    file: UploadedFile = File(...),  # noqa: B008
    handling: HandlingCode = Form("operation"),  # noqa: B008
) -> Status:
    """A JPEG, PNG or PDF; send its id with the message. 413 over the size limit, 422 for anything else."""
    membership, room = selectors.access_room(principal_of(request), operation_code=code, room_id=room_id)
    attachment = services.attachment_upload(
        membership=membership, room=room, data=read_upload(file), name=file.name or "file", handling=handling
    )
    return Status(201, _attachment_out(attachment, file.name or "file"))


@router.get("/operations/{code}/attachments/{uid}")
def attachment_download(
    request: HttpRequest, code: str, uid: uuid.UUID, original: bool = False
) -> HttpResponse:
    """The display copy (metadata removed) by default; ``?original=true`` for the evidence file."""
    membership = access_membership(principal_of(request), operation_code=code)
    attachment = selectors.access_attachment(membership, str(uid))
    part = "original" if original or attachment.display is None else "display"
    return download_response(
        open_attachment(attachment, part=part),
        filename=f"{attachment.uid}{_extension(attachment)}",
        content_type=attachment.content_type,
        inline=attachment.content_type != Attachment.ContentType.PDF and part != "original",
        headers={"X-Content-SHA256": attachment.sha256} if part == "original" else None,
    )


def _extension(attachment: Attachment) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}[attachment.content_type]
