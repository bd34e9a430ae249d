"""Results in the admin: read only. Writes go through results.services (versions, chain, audit)."""

from django.contrib import admin

from cencomm.admin import ReadOnlyAdmin, ReadOnlyMixin
from results.models import GoodsLine, NilReturn, Result, ResultVersion


class GoodsLineInline(ReadOnlyMixin, admin.TabularInline):
    model = GoodsLine
    exclude = ["brand_sealed"]
    extra = 0


@admin.register(Result)
class ResultAdmin(ReadOnlyAdmin):
    list_display = ["uuid", "operation", "entry_point", "reported_by", "created_at", "late", "validation"]
    list_filter = ["operation", "validation", "late"]


@admin.register(ResultVersion)
class ResultVersionAdmin(ReadOnlyAdmin):
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
class NilReturnAdmin(ReadOnlyAdmin):
    list_display = ["operation", "entry_point", "day", "reported_by", "created_at"]
