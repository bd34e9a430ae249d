from django.contrib import admin

from cencomm.models import ApiToken, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["chain", "seq", "at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "operation", "expires_at", "revoked_at"]
    exclude = ["digest"]
    readonly_fields = ["prefix", "user", "operation", "created_at", "expires_at", "last_used_at"]
