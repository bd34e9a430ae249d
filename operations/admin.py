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
from operations.services import membership_add, membership_remove, operation_announce


class ParticipationInline(admin.TabularInline):
    model = Participation
    filter_horizontal = ["entry_points"]
    extra = 0


class MembershipInline(admin.TabularInline):
    """Read-only here: membership changes go through MembershipAdmin, so they are audited and
    close the sockets of people removed."""

    model = Membership
    extra = 0
    fields = ["user", "role", "administration", "entry_point"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "state", "window_start", "window_end"]
    readonly_fields = ["state"]  # the lifecycle moves through operation_transition, with its history
    inlines = [ParticipationInline, MembershipInline]
    filter_horizontal = ["target_categories"]

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        operation_announce(operation=form.instance)  # its rooms follow its administrations


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


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "operation", "role", "administration", "entry_point"]
    list_filter = ["operation", "role"]
    raw_id_fields = ["user"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        saved = membership_add(
            operation=obj.operation,
            user=obj.user,
            role=obj.role,
            actor=request.user,
            administration=obj.administration,
            entry_point=obj.entry_point,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        membership_remove(membership=obj, actor=request.user)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        for membership in queryset:
            membership_remove(membership=membership, actor=request.user)
