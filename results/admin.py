"""Results in the admin: read only. Writes go through results.services (versions, chain, audit)."""

from typing import Any

from django.contrib import admin

from results.models import GoodsLine, NilReturn, Result, ResultVersion


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class GoodsLineInline(admin.TabularInline):
    model = GoodsLine
    exclude = ["brand_sealed"]
    extra = 0

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Result)
class ResultAdmin(ReadOnly):
    list_display = ["uuid", "operation", "entry_point", "reported_by", "created_at", "late", "validation"]
    list_filter = ["operation", "validation", "late"]


@admin.register(ResultVersion)
class ResultVersionAdmin(ReadOnly):
    list_display = [
        "result",
        "number",
        "is_current",
        "inspected_at",
        "outcome",
        "origin_country",
        "chain_seq",
    ]
    list_filter = ["outcome", "is_current"]
    exclude = ["notes_sealed", "reference_sealed", "parties_sealed"]
    inlines = [GoodsLineInline]


@admin.register(NilReturn)
class NilReturnAdmin(ReadOnly):
    list_display = ["operation", "entry_point", "day", "reported_by", "created_at"]
