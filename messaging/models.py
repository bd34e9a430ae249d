"""Rooms, messages and what members do with them. No plaintext: bodies and files are sealed.

Every text and file is encrypted with the room's data key and bound to its record
(``messaging.sealing`` says how; see docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models

from operations.models import Administration, EntryPoint, Operation

# Limits of a message, shared by the services, the draft schema (API and socket) and the pages.
MAX_TEXT_CHARS = 4000
MAX_ATTACHMENTS_PER_MESSAGE = 10
EDIT_WINDOW = dt.timedelta(minutes=15)  # an author may edit or withdraw for this long


class Handling(models.TextChoices):
    """What may be done with a message or file beyond the room (exports and reports respect it)."""

    OPERATION = "operation", "May be shared within the operation only"
    HUB_ONLY = "hub_only", "May not leave the hub"


class Room(models.Model):
    class Kind(models.TextChoices):
        OPERATION = "operation", "Whole operation"
        COORDINATORS = "coordinators", "Coordinators"
        ADMINISTRATION = "administration", "Administration"
        CUSTOM = "custom", "Selected members"

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="rooms")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    administration = models.ForeignKey(Administration, null=True, blank=True, on_delete=models.PROTECT)
    name = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    # The room's counters, bumped under a row lock: ``last_seq`` numbers messages, ``last_rev``
    # numbers every change (a post, an edit, a withdrawal) so a client can catch up on edits too.
    last_seq = models.PositiveBigIntegerField(default=0)
    last_rev = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["operation", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "kind"],
                condition=models.Q(kind__in=["operation", "coordinators"]),
                name="room_one_per_operation_kind",
            ),
            models.UniqueConstraint(
                fields=["operation", "administration"],
                condition=models.Q(kind="administration"),
                name="room_one_per_administration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation.code}: {self.name}"


class RoomMember(models.Model):
    """An explicit member of a custom room; they must still be a member of the operation."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="room_member_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} in room {self.room_id}"


class Message(models.Model):
    class Kind(models.TextChoices):
        CHAT = "chat", "Message"
        WARNING = "warning", "Warning"
        FEEDBACK = "feedback", "Feedback"
        ALERT = "alert", "Alert"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveBigIntegerField()
    rev = models.PositiveBigIntegerField()
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client_id = models.UUIDField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHAT)
    handling = models.CharField(max_length=10, choices=Handling.choices, default=Handling.OPERATION)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    warning = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="feedback"
    )
    # Who a warning or alert is addressed to (``acknowledgements.is_addressee``): everyone in the room, or
    # the members at these entry points or of these administrations (places), narrowed to these
    # roles; a reminder goes to the listed recipients only.
    entry_points = models.ManyToManyField(EntryPoint, blank=True, related_name="+")
    administrations = models.ManyToManyField(Administration, blank=True, related_name="+")
    roles = models.JSONField(default=list, blank=True)  # Membership.Role values, sorted
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    reminder_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    version = models.PositiveIntegerField(default=1)
    body = models.BinaryField()  # the current version, sealed (messaging.sealing)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="message_room_seq"),
            models.UniqueConstraint(fields=["room", "client_id"], name="message_room_client_id"),
        ]
        indexes = [models.Index(fields=["room", "rev"], name="message_room_rev")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.seq} in room {self.room_id}"

    @property
    def needs_acknowledgement(self) -> bool:
        return self.kind in (self.Kind.WARNING, self.Kind.ALERT)


class MessageVersion(models.Model):
    """Every text a message ever had, sealed; an edit adds a version, nothing is overwritten."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    body = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message", "version"]
        constraints = [models.UniqueConstraint(fields=["message", "version"], name="message_version_unique")]

    def __str__(self) -> str:
        return f"message {self.message_id} v{self.version}"


class Acknowledgement(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="acknowledgement_unique")]

    def __str__(self) -> str:
        return f"message {self.message_id} acknowledged by user {self.user_id}"


class ReadPosition(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="read_positions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="read_position_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} read room {self.room_id} to #{self.seq}"


class Attachment(models.Model):
    """A photo or document, sealed in the database: the original (evidence, with its SHA-256) and,
    for images, a re-encoded copy without metadata that the room shows."""

    class ContentType(models.TextChoices):
        JPEG = "image/jpeg", "JPEG image"
        PNG = "image/png", "PNG image"
        PDF = "application/pdf", "PDF document"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    content_type = models.CharField(max_length=20, choices=ContentType.choices)
    handling = models.CharField(max_length=10, choices=Handling.choices, default=Handling.OPERATION)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    name = models.BinaryField()  # the file name as uploaded, sealed
    original = models.BinaryField()
    display = models.BinaryField(null=True, blank=True)  # images only: re-encoded, metadata removed
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_content_type_display()} {self.uid}"


class Connection(models.Model):
    """An open socket, for "who is online at which entry point"; refreshed by the heartbeat."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["operation", "seen_at"], name="connection_recent")]

    def __str__(self) -> str:
        return f"user {self.user_id} online in operation {self.operation_id}"
