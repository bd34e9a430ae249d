"""Every write to rooms and messages: keyword-only, atomic, audited, published on commit.

Message text and files are sealed with the room's data key before they reach the database; audit
events and live events carry identifiers only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cencomm import metrics
from cencomm.errors import NotFound, Refused
from cencomm.live import publish_on_commit, room_group, user_group
from cencomm.protocol import ClientIdReused
from cencomm.uploads import check_upload
from messaging import audit, events, indexing
from messaging.acknowledgements import acknowledgement_status, is_addressee
from messaging.models import (
    EDIT_WINDOW,  # noqa: F401 - the pages' and the socket's
    MAX_ATTACHMENTS_PER_MESSAGE,
    MAX_TEXT_CHARS,
    Acknowledgement,
    Attachment,
    Handling,
    Message,
    MessageVersion,
    ReadPosition,
    Room,
    RoomMember,
)
from messaging.sealing import (
    open_first_version,
    open_message,
    reseal_room,
    seal_attachment,
    seal_message,
)
from messaging.selectors import (
    edit_refusal,
    kinds_for,
    may_open_room,
    may_post_in,
    may_review_acknowledgements,
    may_send,
    may_upload,
    rooms_for,
)
from operations.models import Membership, Operation
from operations.selectors import operation_administrations, operation_entry_points
from operations.services import access_epoch_bump, operation_hold_state

Role = Membership.Role


# --- rooms ---------------------------------------------------------------------------------------


def operation_changed_receiver(*, operation: Operation, **kwargs: object) -> None:
    """``operations.signals.operation_changed``: the operation's rooms follow its administrations."""
    rooms_ensure(operation=operation)


@transaction.atomic
def rooms_ensure(*, operation: Operation) -> list[Room]:
    """The operation-wide room, the coordinators' room and one room per administration (idempotent).

    Made when an operation is loaded or a member added (``operation_changed_receiver``), never on a read.
    """
    wanted = [
        (Room.Kind.OPERATION, None, f"{operation.code}: everyone"),
        (Room.Kind.COORDINATORS, None, "Coordinators"),
        *(
            (Room.Kind.ADMINISTRATION, p.administration, p.administration.name)
            for p in operation.participations.select_related("administration").order_by(
                "administration__name"
            )
        ),
    ]
    rooms = []
    for kind, administration, name in wanted:
        room = Room.objects.filter(operation=operation, kind=kind, administration=administration).first()
        if room is None:
            room = Room.objects.create(
                operation=operation, kind=kind, administration=administration, name=name
            )
            audit.room_created(room=room, actor=None)
        rooms.append(room)
    return rooms


@transaction.atomic
def room_create(*, membership: Membership, name: str, user_ids: Sequence[int]) -> Room:
    """A coordinator opens a room for some of the operation's members (and themselves)."""
    if not may_open_room(membership):
        raise NotFound("room")
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        raise ValidationError({"name": "Give the room a name of at most 120 characters."})
    operation = membership.operation
    access_epoch_bump(operation_id=operation.pk)  # who may see what changes: the sockets check again
    wanted = {int(u) for u in user_ids}
    if any(not 0 < u < 2**31 for u in wanted):  # no such user; and beyond what a database column holds
        raise ValidationError({"members": "Every member must take part in this operation."})
    members = set(operation.memberships.filter(user_id__in=wanted).values_list("user_id", flat=True))
    if len(members) != len(wanted):
        raise ValidationError({"members": "Every member must take part in this operation."})
    room = Room.objects.create(
        operation=operation, kind=Room.Kind.CUSTOM, name=name, created_by=membership.user
    )
    RoomMember.objects.bulk_create([RoomMember(room=room, user_id=u) for u in members | {membership.user_id}])
    audit.room_created(room=room, actor=membership.user, members=members | {membership.user_id})
    for user_id in members | {membership.user_id}:  # their open sockets pick up the new room
        publish_on_commit(user_group(user_id), {"type": "access.changed", "operation": operation.pk})
    return room


def _locked_room(room: Room) -> Room:
    """The room under lock (serialises its sequence numbers), its operation's state held first."""
    operation = operation_hold_state(room.operation)
    locked = Room.objects.select_for_update(no_key=True, of=("self",)).get(pk=room.pk)
    locked.operation = operation
    return locked


def _require_open(room: Room) -> None:
    if not may_post_in(room.operation):
        raise Refused("The operation is closed to new messages.")


# --- messages ------------------------------------------------------------------------------------


def clean_text(text: str, *, allow_empty: bool = False) -> str:
    text = (text or "").strip()
    if not text and not allow_empty:
        raise ValidationError({"text": "Write something."})
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationError({"text": f"A message is at most {MAX_TEXT_CHARS} characters."})
    return text


@transaction.atomic
def message_post(
    *,
    membership: Membership,
    room: Room,
    client_id: uuid.UUID,
    text: str,
    kind: str = Message.Kind.CHAT,
    handling: str = Handling.OPERATION,
    reply_to_id: int | None = None,
    warning_id: int | None = None,
    entry_point_ids: Sequence[int] = (),
    administration_ids: Sequence[int] = (),
    roles: Sequence[str] = (),
    attachment_ids: Sequence[str] = (),
) -> tuple[Message, bool]:
    """Store a message with the room's next sequence number; ``(message, created)``.

    A warning or an alert goes to everyone in the room, or to the members at ``entry_point_ids`` or
    of ``administration_ids``, narrowed to ``roles`` when given (``acknowledgements.is_addressee``).

    A retry with the same client ID and the same draft returns the stored message and stores
    nothing; the same client ID with a different draft raises ClientIdReused (naming the stored one).
    """
    room = _locked_room(room)  # serialises sequence numbers and client-ID checks per room
    existing = Message.objects.filter(room=room, client_id=client_id).first()
    if existing is not None:
        if existing.author_id != membership.user_id:
            raise ValidationError({"client_id": "This client ID is already used."})
        draft = (text, kind, handling, reply_to_id, warning_id, entry_point_ids, attachment_ids)
        if not _same_draft(existing, *draft) or not _same_audience(existing, administration_ids, roles):
            raise ClientIdReused(
                "This client ID was already used for a different message.", stored_id=existing.pk
            )
        return existing, False
    _require_open(room)
    if kind not in kinds_for(membership.role):
        raise Refused(
            f"Your role cannot send a {Message.Kind(kind).label.lower()}."
            if kind in Message.Kind.values
            else "Unknown message kind.",
            field="kind",
        )
    if handling not in Handling.values:
        raise ValidationError({"handling": "Unknown handling code."})
    text = clean_text(text, allow_empty=bool(attachment_ids))
    reply_to = _reply_target(room, reply_to_id)
    warning = _warning_target(membership, kind, warning_id)
    entry_points = _entry_point_targets(membership, kind, entry_point_ids)
    administrations = _administration_targets(membership, kind, administration_ids)
    role_targets = _role_targets(kind, roles)
    attachments = _unattached(membership, room, attachment_ids)

    message = _store_new(
        room,
        membership.user,
        text,
        client_id=client_id,
        kind=kind,
        handling=handling,
        reply_to=reply_to,
        warning=warning,
        roles=role_targets,
    )
    if entry_points:
        message.entry_points.set(entry_points)
    if administrations:
        message.administrations.set(administrations)
    for attachment in attachments:
        attachment.message = message
        attachment.save(update_fields=["message"])
    indexing.message_index(message, text=text, author=membership)
    audit.message_posted(message=message, actor=membership.user, attachments=attachments)
    metrics.count_on_commit(metrics.MESSAGES_POSTED.labels(message.kind))
    publish_on_commit(room_group(room.pk), events.message_posted(message, epoch=room.operation.access_epoch))
    if message.needs_acknowledgement:  # every page of the operation shows it (alerts.js)
        publish_on_commit(events.alerts_group(room.operation_id), events.alerts_changed(message))
    return message, True


@transaction.atomic
def message_remind(*, membership: Membership, message: Message, client_id: uuid.UUID) -> tuple[Message, bool]:
    """A new warning or alert, linked to ``message``, to those addressees who have not acknowledged it.

    Same kind, room, handling and text as the first; ``(reminder, created)``. The same client ID
    answers the stored reminder (a form sent twice reminds once).
    """
    if not (may_review_acknowledgements(membership) and may_send(membership, message.kind)):
        raise NotFound("message")
    if not message.needs_acknowledgement:
        raise ValidationError({"message": "Only warnings and alerts are acknowledged."})
    root = message.reminder_of or message
    room = _locked_room(root.room)
    existing = Message.objects.filter(room=room, client_id=client_id).first()
    if existing is not None:
        if existing.author_id != membership.user_id or existing.reminder_of_id != root.pk:
            raise ClientIdReused(
                "This client ID was already used for a different message.", stored_id=existing.pk
            )
        return existing, False
    _require_open(room)
    if root.withdrawn_at is not None:
        raise Refused("This message was withdrawn.")
    missing = [row["user"] for row in acknowledgement_status(root) if row["acknowledged_at"] is None]
    if not missing:
        raise Refused("Everyone asked has acknowledged it.")
    reminder = _store_new(
        room,
        membership.user,
        open_message(root),
        client_id=client_id,
        kind=root.kind,
        handling=root.handling,
        reminder_of=root,
    )
    reminder.recipients.set(missing)
    indexing.message_index(reminder, text=open_message(root), author=membership)
    audit.message_posted(message=reminder, actor=membership.user, attachments=[])
    publish_on_commit(room_group(room.pk), events.message_posted(reminder, epoch=room.operation.access_epoch))
    publish_on_commit(events.alerts_group(room.operation_id), events.alerts_changed(reminder))
    return reminder, True


def _store_new(room: Room, author: AbstractBaseUser, text: str, **fields: object) -> Message:
    """A new message in ``room`` (locked: ``_locked_room``) with the room's next sequence and change
    numbers, its text sealed and stored as version 1."""
    room.last_seq += 1
    room.last_rev += 1
    room.save(update_fields=["last_seq", "last_rev"])
    message = Message(room=room, seq=room.last_seq, rev=room.last_rev, author=author, **fields)
    message.body = seal_message(message, version=1, text=text)
    message.save()
    MessageVersion.objects.create(message=message, version=1, body=message.body)
    return message


def _same_draft(
    message: Message,
    text: str,
    kind: str,
    handling: str,
    reply_to_id: int | None,
    warning_id: int | None,
    entry_point_ids: Sequence[int],
    attachment_ids: Sequence[str],
) -> bool:
    """Whether a retried draft is the one ``message`` was posted from (its first version)."""
    try:
        attachments = {uuid.UUID(str(u)) for u in attachment_ids}
        entry_points = {int(i) for i in entry_point_ids}
    except (TypeError, ValueError):
        return False
    return (
        (message.kind, message.handling, message.reply_to_id, message.warning_id)
        == (kind, handling, reply_to_id, warning_id)
        and entry_points == set(message.entry_points.values_list("pk", flat=True))
        and attachments == set(message.attachments.values_list("uid", flat=True))
        and (text or "").strip() == open_first_version(message)
    )


def _reply_target(room: Room, reply_to_id: int | None) -> Message | None:
    if reply_to_id is None:
        return None
    target = Message.objects.filter(room=room, pk=int(reply_to_id)).first()
    if target is None:
        raise ValidationError({"reply_to": "Reply to a message of this room."})
    return target


def _warning_target(membership: Membership, kind: str, warning_id: int | None) -> Message | None:
    if kind != Message.Kind.FEEDBACK:
        if warning_id is not None:
            raise ValidationError({"warning": "Only feedback answers a warning."})
        return None
    if warning_id is None:
        raise ValidationError({"warning": "Feedback answers a warning: say which."})
    warning = Message.objects.filter(
        pk=int(warning_id), kind=Message.Kind.WARNING, room__in=rooms_for(membership)
    ).first()
    if warning is None:
        raise ValidationError({"warning": "No such warning in your rooms."})
    return warning


def _same_audience(message: Message, administration_ids: Sequence[int], roles: Sequence[str]) -> bool:
    try:
        administrations = {int(i) for i in administration_ids}
    except (TypeError, ValueError):
        return False
    return administrations == set(message.administrations.values_list("pk", flat=True)) and sorted(
        set(roles)
    ) == sorted(message.roles or [])


def _entry_point_targets(membership: Membership, kind: str, ids: Sequence[int]) -> list[int]:
    ids = sorted({int(i) for i in ids})
    if not ids:
        return []
    if kind not in (Message.Kind.WARNING, Message.Kind.ALERT):
        raise ValidationError({"entry_points": "Only warnings and alerts are addressed to entry points."})
    known = set(operation_entry_points(membership.operation).filter(pk__in=ids).values_list("pk", flat=True))
    if known != set(ids):
        raise ValidationError({"entry_points": "Choose entry points of this operation."})
    return ids


def _administration_targets(membership: Membership, kind: str, ids: Sequence[int]) -> list[int]:
    ids = sorted({int(i) for i in ids})
    if not ids:
        return []
    if kind not in (Message.Kind.WARNING, Message.Kind.ALERT):
        raise ValidationError(
            {"administrations": "Only warnings and alerts are addressed to administrations."}
        )
    known = set(
        operation_administrations(membership.operation).filter(pk__in=ids).values_list("pk", flat=True)
    )
    if known != set(ids):
        raise ValidationError({"administrations": "Choose administrations of this operation."})
    return ids


def _role_targets(kind: str, roles: Sequence[str]) -> list[str]:
    wanted = sorted(set(roles))
    if not wanted:
        return []
    if kind not in (Message.Kind.WARNING, Message.Kind.ALERT):
        raise ValidationError({"roles": "Only warnings and alerts are addressed to roles."})
    if any(role not in Role.values for role in wanted):
        raise ValidationError({"roles": "Choose roles of the hub."})
    return wanted


def _unattached(membership: Membership, room: Room, uids: Sequence[str]) -> list[Attachment]:
    uids = list(dict.fromkeys(str(u) for u in uids))
    if len(uids) > MAX_ATTACHMENTS_PER_MESSAGE:
        raise ValidationError(
            {"attachments": f"At most {MAX_ATTACHMENTS_PER_MESSAGE} attachments per message."}
        )
    try:
        parsed = [uuid.UUID(u) for u in uids]
    except ValueError:
        raise ValidationError({"attachments": "Unknown attachment."}) from None
    found = list(
        Attachment.objects.filter(
            uid__in=parsed, room=room, uploaded_by_id=membership.user_id, message__isnull=True
        )
    )
    if len(found) != len(parsed):
        raise ValidationError(
            {"attachments": "Attach files you uploaded to this room and have not sent yet."}
        )
    return found


def _own_recent(membership: Membership, message: Message) -> Message:
    refusal = edit_refusal(membership, message)
    if refusal is not None:
        raise Refused(refusal)
    return message


def _bump(room: Room, message: Message) -> None:
    room.last_rev += 1
    room.save(update_fields=["last_rev"])
    message.rev = room.last_rev


def _publish_changed(room: Room, message: Message) -> None:
    """An edited or withdrawn message: its room's sockets re-read it; for a warning or an alert, every
    page of the operation too (what it asks to acknowledge may have changed)."""
    publish_on_commit(room_group(room.pk), events.message_changed(message, epoch=room.operation.access_epoch))
    if message.needs_acknowledgement:
        publish_on_commit(events.alerts_group(room.operation_id), events.alerts_changed(message))


@transaction.atomic
def message_edit(*, membership: Membership, message: Message, text: str) -> Message:
    """A new version; the earlier ones stay, sealed, in MessageVersion."""
    room = _locked_room(message.room)
    message = _own_recent(membership, Message.objects.select_for_update(no_key=True).get(pk=message.pk))
    _require_open(room)
    has_files = message.attachments.exists()
    text = clean_text(text, allow_empty=has_files)
    message.room = room
    _bump(room, message)
    message.version += 1
    message.body = seal_message(message, version=message.version, text=text)
    message.edited_at = timezone.now()
    message.save(update_fields=["rev", "version", "body", "edited_at"])
    MessageVersion.objects.create(message=message, version=message.version, body=message.body)
    indexing.message_index(message, text=text, author=membership)  # the new version's words only
    audit.message_edited(message=message, actor=membership.user)
    _publish_changed(room, message)
    return message


@transaction.atomic
def message_withdraw(*, membership: Membership, message: Message) -> Message:
    room = _locked_room(message.room)
    message = _own_recent(membership, Message.objects.select_for_update(no_key=True).get(pk=message.pk))
    message.room = room
    _bump(room, message)
    message.withdrawn_at = timezone.now()
    message.save(update_fields=["rev", "withdrawn_at"])
    indexing.message_unindex(message)  # shown to no one any more: found by no one
    audit.message_withdrawn(message=message, actor=membership.user)
    _publish_changed(room, message)
    return message


@transaction.atomic
def message_acknowledge(*, membership: Membership, message: Message) -> Acknowledgement:
    """Acknowledge a warning or alert, and with it the rest of its chain (the first and its reminders)
    that asks this member: one tap answers an alert however often it was sent."""
    if not message.needs_acknowledgement:
        raise ValidationError({"message": "Only warnings and alerts are acknowledged."})
    if message.withdrawn_at is not None:
        raise Refused("This message was withdrawn.")
    root_id = message.reminder_of_id or message.pk
    chain = [
        m
        for m in Message.objects.filter(Q(pk=root_id) | Q(reminder_of_id=root_id), withdrawn_at__isnull=True)
        .exclude(pk=message.pk)
        .select_related("room", "room__operation")
        if is_addressee(m, membership)
    ]
    ack = None
    for target in [message, *chain]:
        one, created = Acknowledgement.objects.get_or_create(message=target, user=membership.user)
        ack = ack or one
        if created:
            audit.message_acknowledged(message=target, actor=membership.user)
            publish_on_commit(
                room_group(target.room_id),
                events.message_acknowledged(
                    target, membership.user_id, epoch=membership.operation.access_epoch
                ),
            )
            publish_on_commit(
                events.alerts_group(target.room.operation_id),
                events.alert_acknowledged(target, membership.user_id),
            )
    assert ack is not None
    return ack


@transaction.atomic
def read_position_set(*, membership: Membership, room: Room, seq: int) -> ReadPosition:
    """Read positions only move forward. Not audited: they change on every glance at a room."""
    seq = max(0, min(int(seq), room.last_seq))
    position, _ = ReadPosition.objects.select_for_update(no_key=True).get_or_create(
        room=room, user=membership.user
    )
    if seq > position.seq:
        position.seq = seq
        position.save(update_fields=["seq", "updated_at"])
    return position


# --- attachments ---------------------------------------------------------------------------------


@transaction.atomic
def attachment_upload(
    *, membership: Membership, room: Room, data: bytes, name: str, handling: str = Handling.OPERATION
) -> Attachment:
    """Check the real type and size, keep the sealed original with its SHA-256 and a clean copy."""
    operation_hold_state(room.operation)
    _require_open(room)
    if not may_upload(membership):
        raise Refused("Observers read only.")
    if handling not in Handling.values:
        raise ValidationError({"handling": "Unknown handling code."})
    upload = check_upload(data, name)
    attachment = Attachment(
        room=room,
        uploaded_by=membership.user,
        content_type=upload.content_type,
        handling=handling,
        size=len(data),
        sha256=upload.sha256,
        width=upload.width,
        height=upload.height,
    )
    seal_attachment(attachment, name=upload.name, original=data, display=upload.display)
    attachment.save()
    audit.attachment_uploaded(attachment=attachment, actor=membership.user)
    return attachment


# --- keys ----------------------------------------------------------------------------------------


@transaction.atomic
def room_key_rotate(*, room: Room, actor: AbstractBaseUser | None) -> int:
    """A new data key for the room, and everything in it re-sealed under it; returns the count.

    The old key version stays (inactive) so a record sealed concurrently still opens.
    """
    room = _locked_room(room)
    key, count = reseal_room(room)
    audit.room_key_rotated(room=room, actor=actor, key_version=key.version, resealed=count)
    return count
