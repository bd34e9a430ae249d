"""The audit events of rooms and messages: one small function per action, actions in MessagingAction.

Services call these inside their transaction; ``cencomm.audit.audit_record`` chains the event.
``data`` carries identifiers and numbers only, never text or file names. The stored action strings
are part of the audit chain's hashed payload: never rename one.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from cencomm.audit import audit_record
from cencomm.models import AuditEvent
from messaging.models import Attachment, Message, Room


class MessagingAction(models.TextChoices):
    ROOM_CREATE = "room.create", "Room opened"
    ROOM_KEY_ROTATE = "room.key_rotate", "Room key rotated"
    MESSAGE_POST = "message.post", "Message posted"
    MESSAGE_EDIT = "message.edit", "Message edited"
    MESSAGE_WITHDRAW = "message.withdraw", "Message withdrawn"
    MESSAGE_ACKNOWLEDGE = "message.acknowledge", "Message acknowledged"
    ATTACHMENT_UPLOAD = "attachment.upload", "File uploaded"


Actor = AbstractBaseUser | None


def room_created(*, room: Room, actor: Actor, members: Iterable[int] | None = None) -> AuditEvent:
    """A standard room made with its operation (``actor`` None), or a custom room with its members."""
    data: dict[str, object] = {"kind": room.kind}
    if members is not None:
        data["members"] = sorted(members)
    return audit_record(
        action=MessagingAction.ROOM_CREATE, actor=actor, operation=room.operation, target=room, data=data
    )


def room_key_rotated(*, room: Room, actor: Actor, key_version: int, resealed: int) -> AuditEvent:
    return audit_record(
        action=MessagingAction.ROOM_KEY_ROTATE,
        actor=actor,
        operation=room.operation,
        target=room,
        data={"key_version": key_version, "resealed": resealed},
    )


def message_posted(
    *, message: Message, actor: AbstractBaseUser, attachments: Iterable[Attachment]
) -> AuditEvent:
    return audit_record(
        action=MessagingAction.MESSAGE_POST,
        actor=actor,
        operation=message.room.operation,
        target=message,
        data={
            "room": message.room_id,
            "seq": message.seq,
            "kind": message.kind,
            "handling": message.handling,
            "attachments": [str(a.uid) for a in attachments],
        },
    )


def message_edited(*, message: Message, actor: AbstractBaseUser) -> AuditEvent:
    return _message_changed(MessagingAction.MESSAGE_EDIT, message, actor)


def message_withdrawn(*, message: Message, actor: AbstractBaseUser) -> AuditEvent:
    return _message_changed(MessagingAction.MESSAGE_WITHDRAW, message, actor)


def _message_changed(action: MessagingAction, message: Message, actor: AbstractBaseUser) -> AuditEvent:
    return audit_record(
        action=action,
        actor=actor,
        operation=message.room.operation,
        target=message,
        data={"room": message.room_id, "seq": message.seq, "version": message.version},
    )


def message_acknowledged(*, message: Message, actor: AbstractBaseUser) -> AuditEvent:
    return audit_record(
        action=MessagingAction.MESSAGE_ACKNOWLEDGE,
        actor=actor,
        operation=message.room.operation,
        target=message,
        data={"room": message.room_id, "seq": message.seq},
    )


def attachment_uploaded(*, attachment: Attachment, actor: AbstractBaseUser) -> AuditEvent:
    return audit_record(
        action=MessagingAction.ATTACHMENT_UPLOAD,
        actor=actor,
        operation=attachment.room.operation,
        target=attachment,
        data={
            "room": attachment.room_id,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "sha256": attachment.sha256,
        },
    )
