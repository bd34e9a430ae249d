from typing import Any

from django.contrib import admin

from cencomm.models import ApiToken, AuditEvent


class ReadOnlyMixin:
    """For records that change only through services (audited, chained): look, never touch."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["chain", "seq", "at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "operation", "expires_at", "revoked_at"]
    exclude = ["digest"]
    readonly_fields = ["prefix", "user", "operation", "created_at", "expires_at", "last_used_at"]
