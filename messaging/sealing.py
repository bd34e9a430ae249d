"""What protects a room's contents: the only module that knows the key scope and the AAD contexts.

Everything in a room is sealed with the room's data key (scope ``room:<id>``, ``cencomm.crypto``)
and bound to its record through the encryption context, so a ciphertext copied to another row,
another version or another room does not open (see docs/security.md):

- a message body: ``msg:<room>:<message uid>:v<version>``;
- an attachment's file name, original and display copy: ``att:<room>:<attachment uid>:<part>``.

Services seal, selectors open, ``reseal_room`` rotates the room's key. Nothing else in messaging
builds a scope or a context.
"""

from __future__ import annotations

from typing import Literal

from cencomm.crypto import data_key_rotate, open_sealed, open_text, seal, seal_text
from cencomm.models import DataKey
from messaging.models import Attachment, Message, MessageVersion, Room

Part = Literal["original", "display"]


def _scope(room_id: int) -> str:
    return f"room:{room_id}"


def _message_context(message: Message, version: int) -> str:
    return f"msg:{message.room_id}:{message.uid}:v{version}"


def _attachment_context(attachment: Attachment, part: str) -> str:
    return f"att:{attachment.room_id}:{attachment.uid}:{part}"


# --- messages ------------------------------------------------------------------------------------


def seal_message(message: Message, *, version: int, text: str) -> bytes:
    """The sealed body of ``message`` at ``version`` (store it in Message and MessageVersion)."""
    return seal_text(scope=_scope(message.room_id), context=_message_context(message, version), text=text)


def open_message(message: Message, *, version: int | None = None, blob: bytes | None = None) -> str:
    """The text of the current version, or of ``version`` whose sealed body is ``blob``."""
    if version is None:
        version, blob = message.version, message.body
    assert blob is not None
    return open_text(
        context=_message_context(message, version), blob=bytes(blob), scope=_scope(message.room_id)
    )


def open_first_version(message: Message) -> str:
    """The text the message was posted with (what a retried draft is compared to)."""
    first = MessageVersion.objects.get(message=message, version=1)
    return open_message(message, version=1, blob=first.body)


# --- attachments ---------------------------------------------------------------------------------


def seal_attachment(attachment: Attachment, *, name: str, original: bytes, display: bytes | None) -> None:
    """Seal the file name, the original and the display copy into ``attachment`` (not saved)."""
    scope = _scope(attachment.room_id)
    attachment.name = seal_text(scope=scope, context=_attachment_context(attachment, "name"), text=name)
    attachment.original = seal(
        scope=scope, context=_attachment_context(attachment, "original"), plaintext=original
    )
    attachment.display = (
        None
        if display is None
        else seal(scope=scope, context=_attachment_context(attachment, "display"), plaintext=display)
    )


def open_attachment_name(attachment: Attachment) -> str:
    return open_text(
        context=_attachment_context(attachment, "name"),
        blob=bytes(attachment.name),
        scope=_scope(attachment.room_id),
    )


def open_attachment(attachment: Attachment, *, part: Part) -> bytes:
    """The display copy (the original when there is none), or the original."""
    if part == "display" and attachment.display is not None:
        blob, context = attachment.display, _attachment_context(attachment, "display")
    else:
        blob, context = attachment.original, _attachment_context(attachment, "original")
    return open_sealed(context=context, blob=bytes(blob), scope=_scope(attachment.room_id))


# --- key rotation --------------------------------------------------------------------------------


def reseal_room(room: Room) -> tuple[DataKey, int]:
    """Give ``room`` a new data key and re-seal every version and file in it; ``(key, count)``.

    Call with the room locked, inside the service's transaction. Everything is opened under the
    old key first; the old key version stays (inactive) so a record sealed concurrently still opens.
    """
    versions = list(MessageVersion.objects.filter(message__room=room).select_related("message"))
    texts = [open_message(v.message, version=v.version, blob=v.body) for v in versions]
    files = [
        (
            a,
            open_attachment_name(a),
            open_attachment(a, part="original"),
            open_attachment(a, part="display") if a.display is not None else None,
        )
        for a in Attachment.objects.filter(room=room)
    ]
    key = data_key_rotate(scope=_scope(room.pk))
    for version, text in zip(versions, texts, strict=True):
        version.body = seal_message(version.message, version=version.version, text=text)
        version.save(update_fields=["body"])
        if version.version == version.message.version:
            Message.objects.filter(pk=version.message_id).update(body=version.body)
    for attachment, name, original, display in files:
        seal_attachment(attachment, name=name, original=original, display=display)
        attachment.save(update_fields=["name", "original", "display"])
    return key, len(versions) + len(files)


def room_data_key(room: Room) -> DataKey:
    """The room's active data key (for operators and tests: which key seals this room now)."""
    return DataKey.objects.get(scope=_scope(room.pk), active=True)


# --- retention -----------------------------------------------------------------------------------


def shred_operation_rooms(operation_id: int) -> tuple[list[str], dict[str, int]]:
    """Delete every message, version and file of the operation's rooms: ``(key scopes, counts)``.

    The rooms stay (empty, with their counters); the caller destroys the keys of the scopes returned
    (records.retention.operation_shred, in its transaction). Messages go with what only they mean
    (versions, acknowledgements, addressees); references between them are cut first, as a warning's
    feedback or a reply may sit in another room of the same operation.
    """
    rooms = list(Room.objects.filter(operation_id=operation_id).values_list("pk", flat=True))
    messages = Message.objects.filter(room_id__in=rooms)
    counts = {
        "messages": messages.count(),
        "versions": MessageVersion.objects.filter(message__room_id__in=rooms).count(),
    }
    counts["attachments"], _ = Attachment.objects.filter(room_id__in=rooms).delete()
    messages.update(reply_to=None, warning=None, reminder_of=None)
    messages.delete()
    return [_scope(room_id) for room_id in rooms], counts
