"""Read-only admin views of rooms and their records: ids and metadata, never sealed bodies."""

from django.contrib import admin

from cencomm.admin import ReadOnlyAdmin
from messaging.models import Acknowledgement, Attachment, Message, Room


@admin.register(Room)
class RoomAdmin(ReadOnlyAdmin):
    list_display = ["pk", "operation", "kind", "name", "last_seq", "last_rev"]
    list_filter = ["kind"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "room",
        "seq",
        "kind",
        "author",
        "handling",
        "version",
        "created_at",
        "withdrawn_at",
    ]
    list_filter = ["kind", "handling"]
    exclude = ["body"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["message", "user", "at"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["uid", "room", "content_type", "size", "sha256", "uploaded_by", "created_at"]
    exclude = ["name", "original", "display"]
