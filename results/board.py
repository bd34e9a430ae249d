"""The board's aggregates and its one filter parser, computed in the database with GROUP BY.

What counts: the current version of each result, unless it is voided (a voided result counts
nowhere: no total, breakdown or compliance cell; it stays in lists, struck through). Intercepted
quantities are the goods lines of counted versions whose outcome is seized or detained.

Units of measure are never added together. Every figure carries ``units`` (pieces and packs: the
headline count of articles), ``kg`` and ``litres`` side by side, and a share is a share of
``units``. Sums are exact: each quantity is summed as a whole number of thousandths (the column
has three decimals), so neither SQLite (whose SUM of a decimal column is a float) nor PostgreSQL
ever rounds, and the result is turned back into a Decimal here.

``parse_filter`` is the one reading of a board filter, for the API (422 with field messages) and
the board socket (an ``invalid_filter`` error frame) alike. ``BoardFilter`` narrows every
aggregate the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Round, TruncDate
from django.utils.translation import gettext

from cencomm.chain import chain_head
from cencomm.formats import exact, number
from operations.models import Operation, OperationCategory
from operations.selectors import category_labels, operation_administrations, operation_entry_points
from products.selectors import brand_label_sql
from results.chain import results_chain_name
from results.models import INTERCEPTED, BoardSequence, GoodsLine, NilReturn, ResultVersion, Unit

#: The figures every row carries, and the units of measure each one adds up. Nothing else is added.
MEASURES: dict[str, tuple[str, ...]] = {
    "units": (Unit.PIECES, Unit.PACKS),
    "kg": (Unit.KG,),
    "litres": (Unit.LITRES,),
}
#: The unit each goods line's quantity counts under (its MEASURES key).
MEASURE_OF = {unit: measure for measure, units in MEASURES.items() for unit in units}
MILLI = 1000  # quantities have three decimals: sums are done in whole thousandths
MAX_ID = 2**53  # beyond: a crashing query, not a filter


@dataclass(frozen=True)
class BoardFilter:
    administration_id: int | None = None
    entry_point_id: int | None = None
    category_id: int | None = None
    day: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "administration": self.administration_id,
            "entry_point": self.entry_point_id,
            "category": self.category_id,
            "day": self.day.isoformat() if self.day else None,
        }


NO_FILTER = BoardFilter()
UTC_DAY = TruncDate("inspected_at", tzinfo=dt.UTC)


# --- the filter ----------------------------------------------------------------------------------


def _given(value: Any) -> bool:
    return value is not None and value != ""


def _id_in(
    value: Any, choices: QuerySet[Any], unknown: str, errors: dict[str, list[str]], field: str
) -> int | None:
    if not _given(value):
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        errors[field] = [gettext("Give a whole number from 1.")]
        return None
    if not choices.filter(pk=int(text)).exists():
        errors[field] = [unknown % {"value": text}]
        return None
    return int(text)


def parse_filter(
    operation: Operation,
    *,
    administration: Any = None,
    entry_point: Any = None,
    category: Any = None,
    day: Any = None,
) -> BoardFilter:
    """A board filter from what a client sent (query strings or JSON), or ValidationError by field.

    An administration or entry point must be one of the operation's, a category one that exists,
    a day an ISO date (``YYYY-MM-DD``). Empty values mean "all".
    """
    errors: dict[str, list[str]] = {}
    administration_id = _id_in(
        administration,
        operation_administrations(operation),
        gettext("No administration %(value)s takes part in this operation."),
        errors,
        "administration",
    )
    entry_point_id = _id_in(
        entry_point,
        operation_entry_points(operation),
        gettext("No entry point %(value)s takes part in this operation."),
        errors,
        "entry_point",
    )
    category_id = None
    if _given(category):
        code = str(category)
        category_id = (
            OperationCategory.objects.filter(operation=operation, category__code=code)
            .values_list("category_id", flat=True)
            .first()
            if len(code) <= 40
            else None
        )
        if category_id is None:
            errors["category"] = [gettext("Unknown commodity category %(code)s.") % {"code": repr(code[:40])}]
    parsed_day = None
    if _given(day):
        try:
            parsed_day = dt.date.fromisoformat(str(day)) if len(str(day)) == 10 else None
        except ValueError:
            parsed_day = None
        if parsed_day is None:
            errors["day"] = [gettext("Give a day as YYYY-MM-DD.")]
    if errors:
        raise ValidationError(errors)
    return BoardFilter(administration_id, entry_point_id, category_id, parsed_day)


# --- what counts ---------------------------------------------------------------------------------


def current_versions(operation: Operation, flt: BoardFilter = NO_FILTER) -> QuerySet[ResultVersion]:
    """Current versions of the operation's results, voided ones too (lists), narrowed by the filter."""
    versions = ResultVersion.objects.filter(result__operation=operation, is_current=True)
    if flt.administration_id is not None:
        versions = versions.filter(result__administration_id=flt.administration_id)
    if flt.entry_point_id is not None:
        versions = versions.filter(result__entry_point_id=flt.entry_point_id)
    if flt.day is not None:
        versions = versions.annotate(day=UTC_DAY).filter(day=flt.day)
    if flt.category_id is not None:
        versions = versions.filter(
            Exists(GoodsLine.objects.filter(version=OuterRef("pk"), category_id=flt.category_id))
        )
    return versions


def counted_versions(operation: Operation, flt: BoardFilter = NO_FILTER) -> QuerySet[ResultVersion]:
    """The versions every figure counts: current and not voided."""
    return current_versions(operation, flt).filter(voided=False)


def intercepted_lines(operation: Operation, flt: BoardFilter = NO_FILTER) -> QuerySet[GoodsLine]:
    """Goods lines of counted (current, not voided), seized-or-detained versions, narrowed by the filter."""
    lines = GoodsLine.objects.filter(
        version__result__operation=operation,
        version__is_current=True,
        version__voided=False,
        version__outcome__in=INTERCEPTED,
    )
    if flt.administration_id is not None:
        lines = lines.filter(version__result__administration_id=flt.administration_id)
    if flt.entry_point_id is not None:
        lines = lines.filter(version__result__entry_point_id=flt.entry_point_id)
    if flt.category_id is not None:
        lines = lines.filter(category_id=flt.category_id)
    if flt.day is not None:
        lines = lines.annotate(day=TruncDate("version__inspected_at", tzinfo=dt.UTC)).filter(day=flt.day)
    return lines


# --- exact sums, one per unit of measure ---------------------------------------------------------


def milli_quantity(field: str = "quantity") -> Cast:
    """A goods line's quantity in whole thousandths (exact on both databases)."""
    scaled = ExpressionWrapper(
        F(field) * Value(MILLI), output_field=DecimalField(max_digits=20, decimal_places=3)
    )
    return Cast(Round(scaled), output_field=BigIntegerField())


def measure_sums(prefix: str = "") -> dict[str, Sum]:
    """One exact SUM per measure, over the lines whose unit counts under it."""
    return {
        measure: Sum(milli_quantity(f"{prefix}quantity"), filter=Q(**{f"{prefix}unit__in": units}), default=0)
        for measure, units in MEASURES.items()
    }


def from_milli(value: Any) -> Decimal:
    """A sum of thousandths back to the exact Decimal quantity."""
    return Decimal(int(value or 0)).scaleb(-3)


def measures(row: dict[str, Any]) -> dict[str, int | float]:
    """The row's sums of thousandths as JSON-ready quantities, one per measure."""
    return {measure: number(from_milli(row[measure])) for measure in MEASURES}


def ordering(row: dict[str, Any]) -> tuple[Any, ...]:
    """Biggest first: units, then kilograms, then litres, then the key."""
    return (*(-row[m] for m in MEASURES), str(row["key"] or ""))


def _grouped(lines: QuerySet[GoodsLine], key: str, label: str | None = None) -> list[dict[str, Any]]:
    values = [key] + ([label] if label else [])
    rows = lines.values(*values).annotate(**measure_sums(), cases=Count("version", distinct=True)).order_by()
    found = [
        {"key": r[key], "label": r[label] if label else r[key], **measures(r), "cases": r["cases"]}
        for r in rows
    ]
    return sorted(found, key=ordering)


def with_share(rows: list[dict[str, Any]], units: Any) -> list[dict[str, Any]]:
    """Each row's share of the units (pieces and packs); kilograms and litres have no share."""
    total = exact(units) or Decimal(1)
    for row in rows:
        row["share"] = round(float(exact(row["units"]) / total), 6)
    return rows


# --- the board's figures -------------------------------------------------------------------------


def board_totals(operation: Operation, flt: BoardFilter = NO_FILTER) -> dict[str, Any]:
    agg = intercepted_lines(operation, flt).aggregate(**measure_sums(), cases=Count("version", distinct=True))
    return {**measures(agg), "cases": agg["cases"], "results": counted_versions(operation, flt).count()}


def units_by_category(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    rows = _grouped(intercepted_lines(operation, flt), "category_id")
    labels = category_labels(operation.pk)  # the operation's names, in the reader's language
    for row in rows:
        row["label"] = labels.get(row["key"], str(row["key"]))
    return with_share(rows, sum(exact(r["units"]) for r in rows))


def by_brand(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    """Goods lines whose GTIN resolves to a right holder's product, by brand and right holder."""
    lines = intercepted_lines(operation, flt).exclude(gtin="").annotate(brand=brand_label_sql())
    return _grouped(lines.exclude(brand=None), "brand")


def by_origin(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    return _grouped(intercepted_lines(operation, flt), "version__origin_country")


def by_administration(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    return _grouped(
        intercepted_lines(operation, flt),
        "version__result__administration_id",
        "version__result__administration__name",
    )


def by_entry_point(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    return _grouped(
        intercepted_lines(operation, flt),
        "version__result__entry_point_id",
        "version__result__entry_point__name",
    )


def by_day(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    lines = intercepted_lines(operation, flt).annotate(
        utc_day=TruncDate("version__inspected_at", tzinfo=dt.UTC)
    )
    rows = (
        lines.values("utc_day")
        .annotate(**measure_sums(), cases=Count("version", distinct=True))
        .order_by("utc_day")
    )
    return [
        {
            "key": r["utc_day"].isoformat(),
            "label": r["utc_day"].isoformat(),
            **measures(r),
            "cases": r["cases"],
        }
        for r in rows
    ]


def by_transport_mode(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    return _grouped(intercepted_lines(operation, flt), "version__transport_mode")


def by_detection_method(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    return _grouped(intercepted_lines(operation, flt), "version__detection_method")


def _reported_days(operation: Operation, entry_point_ids: set[int] | None = None) -> set[tuple[int, dt.date]]:
    """(entry point, local day) of every counted version: the day on the entry point's own clock, as
    nil returns are (voided results report no day). One query per time zone of the entry points."""
    entry_points = operation_entry_points(operation)
    if entry_point_ids is not None:
        entry_points = entry_points.filter(pk__in=entry_point_ids)
    zones: dict[str, list[int]] = {}
    for pk, time_zone in entry_points.values_list("pk", "time_zone"):
        zones.setdefault(time_zone, []).append(pk)
    reported: set[tuple[int, dt.date]] = set()
    for time_zone, pks in zones.items():
        rows = (
            ResultVersion.objects.filter(
                result__operation=operation, result__entry_point_id__in=pks, is_current=True, voided=False
            )
            .annotate(local_day=TruncDate("inspected_at", tzinfo=_zone(time_zone)))
            .values_list("result__entry_point_id", "local_day")
            .distinct()
        )
        reported.update(rows)
    return reported


def _zone(time_zone: str) -> dt.tzinfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def local_day(moment: dt.datetime, time_zone: str) -> dt.date:
    """The date of ``moment`` on the clock of ``time_zone`` (an entry point's; unknown: UTC)."""
    return moment.astimezone(_zone(time_zone)).date()


def compliance_grid(operation: Operation, flt: BoardFilter = NO_FILTER) -> dict[str, Any]:
    """Per entry point and day of the window: "results", "nil" or "none" (not reported).

    A cell's day is a day on the entry point's own clock, as a nil return's is: a result inspected
    at 00:30 in Durrës (23:30 UTC the day before) fills that morning's cell."""
    entry_points = operation_entry_points(operation)
    if flt.administration_id is not None:
        entry_points = entry_points.filter(administration_id=flt.administration_id)
    if flt.entry_point_id is not None:
        entry_points = entry_points.filter(pk=flt.entry_point_id)
    days = operation.window_days
    reported = _reported_days(operation)
    nil = set(NilReturn.objects.filter(operation=operation).values_list("entry_point_id", "day"))
    rows = []
    for ep in entry_points:
        cells = []
        for day in days:
            state = "results" if (ep.pk, day) in reported else "nil" if (ep.pk, day) in nil else "none"
            cells.append(state)
        rows.append({"entry_point": ep.pk, "name": ep.name, "cells": cells})
    return {"days": [d.isoformat() for d in days], "rows": rows}


def compliance_cells(operation: Operation, pairs: list[tuple[int, dt.date]]) -> list[dict[str, Any]]:
    """The compliance state of a few (entry point, local day) cells."""
    pairs = list(dict.fromkeys(pairs))
    reported = _reported_days(operation, {entry_point_id for entry_point_id, _ in pairs})
    cells = []
    for entry_point_id, day in pairs:
        nil = NilReturn.objects.filter(operation=operation, entry_point_id=entry_point_id, day=day).exists()
        state = "results" if (entry_point_id, day) in reported else "nil" if nil else "none"
        cells.append({"entry_point": entry_point_id, "day": day.isoformat(), "state": state})
    return cells


def latest_results(
    operation: Operation, flt: BoardFilter = NO_FILTER, *, limit: int = 20
) -> list[dict[str, Any]]:
    """The newest current versions (voided ones marked so), with their non-sensitive fields only."""
    versions = (
        current_versions(operation, flt)
        .select_related("result__entry_point", "result__administration")
        .prefetch_related("lines__category")
        .order_by("-chain_seq")[:limit]
    )
    labels = category_labels(operation.pk)
    return [version_summary(v, labels=labels) for v in versions]


def version_summary(version: ResultVersion, *, labels: dict[int, str] | None = None) -> dict[str, Any]:
    """``labels``: category_labels() of the operation, when summing up many versions."""
    result = version.result
    labels = category_labels(result.operation_id) if labels is None else labels
    return {
        "uuid": str(result.uuid),
        "version": version.number,
        "entry_point": result.entry_point.name,
        "administration": result.administration.name,
        "inspected_at": version.inspected_at.isoformat(),
        "outcome": version.outcome,
        "origin": version.origin_country,
        "validation": result.validation,
        "late": result.late,
        "voided": version.voided,
        "reason": version.reason if version.voided else "",  # why it was voided, shown with it
        "lines": [
            {
                "category": labels.get(line.category_id, line.category.name),
                "quantity": number(line.quantity),
                "unit": line.unit,
            }
            for line in version.lines.all()
        ],
    }


def board_snapshot(operation: Operation, flt: BoardFilter = NO_FILTER) -> dict[str, Any]:
    """Everything the board shows, from one consistent read of the database.

    The sequence number and the figures come from the same snapshot (REPEATABLE READ on
    PostgreSQL; SQLite's read transaction), so applying later events never counts one twice.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        return _board_snapshot(operation, flt)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _board_snapshot(operation, flt)


def _board_snapshot(operation: Operation, flt: BoardFilter) -> dict[str, Any]:
    head = chain_head(results_chain_name(operation.pk))
    seq = BoardSequence.objects.filter(operation=operation).values_list("seq", flat=True).first()
    return {
        "seq": seq or 0,
        "filter": flt.as_dict(),
        "totals": board_totals(operation, flt),
        "categories": units_by_category(operation, flt),
        "brands": by_brand(operation, flt),
        "origins": by_origin(operation, flt),
        "administrations": by_administration(operation, flt),
        "entry_points": by_entry_point(operation, flt),
        "days": by_day(operation, flt),
        "transport_modes": by_transport_mode(operation, flt),
        "detection_methods": by_detection_method(operation, flt),
        "compliance": compliance_grid(operation, flt),
        "latest": latest_results(operation, flt),
        "chain_head": {"seq": head.seq, "hash": head.hash},
    }


def utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()
