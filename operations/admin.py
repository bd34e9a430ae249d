from django.contrib import admin

from operations.models import (
    Administration,
    CommodityCategory,
    EntryPoint,
    Membership,
    Operation,
    OperationTransition,
    Participation,
)


class ParticipationInline(admin.TabularInline):
    model = Participation
    filter_horizontal = ["entry_points"]
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "state", "window_start", "window_end"]
    readonly_fields = ["state"]  # the lifecycle moves through operation_transition, with its history
    inlines = [ParticipationInline, MembershipInline]
    filter_horizontal = ["target_categories"]


@admin.register(OperationTransition)
class OperationTransitionAdmin(admin.ModelAdmin):
    list_display = ["operation", "from_state", "to_state", "by", "at"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


admin.site.register(Administration)
admin.site.register(EntryPoint, list_display=["name", "administration", "kind", "unlocode", "time_zone"])
admin.site.register(CommodityCategory, list_display=["name", "code", "position", "active"])
admin.site.register(Membership, list_display=["user", "operation", "role", "administration", "entry_point"])
