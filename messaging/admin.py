"""Read-only admin views of rooms and their records: ids and metadata, never sealed bodies."""

from django.contrib import admin

from messaging.models import Acknowledgement, Attachment, Message, Room


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Room)
class RoomAdmin(ReadOnly):
    list_display = ["pk", "operation", "kind", "name", "last_seq", "last_rev"]
    list_filter = ["kind"]


@admin.register(Message)
class MessageAdmin(ReadOnly):
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
class AcknowledgementAdmin(ReadOnly):
    list_display = ["message", "user", "at"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnly):
    list_display = ["uid", "room", "content_type", "size", "sha256", "uploaded_by", "created_at"]
    exclude = ["name", "original", "display"]
