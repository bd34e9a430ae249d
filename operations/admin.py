from django import forms
from django.contrib import admin

from operations.models import (
    Administration,
    CommodityCategory,
    EntryPoint,
    LegalHold,
    Membership,
    Operation,
    OperationTransition,
    Participation,
)
from operations.selectors import standing_hold
from operations.services import (
    legal_hold_lift,
    legal_hold_set,
    membership_add,
    membership_remove,
    operation_announce,
)


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
    # The lifecycle moves through operation_transition, with its history; the access epoch only
    # through operations.services.access_epoch_bump (a saved stale value would undo a bump).
    readonly_fields = ["state", "access_epoch"]
    inlines = [ParticipationInline, MembershipInline]
    filter_horizontal = ["target_categories"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Retention is chosen on the add form; then it changes through operation_retention_set
        # (audited: the operation's page, the API, load_operation). The close and the shredding
        # are written by the lifecycle and by apply_retention only.
        kept = ["closed_at", "shredded_at", *(["retention_days"] if obj is not None else [])]
        return [*super().get_readonly_fields(request, obj), *kept]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            super().save_model(request, obj, form, change)
            return
        fields = [f.name for f in obj._meta.concrete_fields if f.name not in ("id", "access_epoch")]
        obj.save(update_fields=fields)

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


class LegalHoldForm(forms.ModelForm):
    """What the services would refuse, said on the form: a second standing hold, a shredded
    operation, a lift without a reason."""

    class Meta:
        model = LegalHold
        fields = ["operation", "reason", "lift_reason"]

    def clean(self) -> dict:  # type: ignore[type-arg]
        data = super().clean()
        operation = data.get("operation") or getattr(self.instance, "operation", None)
        if self.instance.pk is None and operation is not None:
            if operation.shredded_at is not None:
                raise forms.ValidationError("This operation's records were shredded already.")
            if standing_hold(operation) is not None:
                raise forms.ValidationError("A legal hold already stands on this operation.")
        elif self.instance.pk is not None and self.instance.lifted_at is None:
            if not (data.get("lift_reason") or "").strip():
                self.add_error("lift_reason", "Give the reason the hold is lifted.")
        return data


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    """A hub administrator sets a hold (add: operation and reason) and lifts it (change: the lift
    reason), both through the audited services; a hold is never deleted."""

    form = LegalHoldForm
    list_display = ["operation", "reason", "set_by", "set_at", "lifted_by", "lifted_at"]
    list_filter = ["lifted_at"]

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return ["operation", "reason"]
        return ["operation", "reason", "set_by", "set_at", "lift_reason", "lifted_by", "lifted_at"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return []
        done = ["lift_reason"] if obj.lifted_at else []
        return ["operation", "reason", "set_by", "set_at", "lifted_by", "lifted_at", *done]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            obj.pk = legal_hold_set(
                operation=obj.operation, reason=obj.reason, actor=request.user, membership=None
            ).pk
        elif obj.lifted_at is None and obj.lift_reason.strip():
            legal_hold_lift(operation=obj.operation, reason=obj.lift_reason, actor=request.user, membership=None)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
