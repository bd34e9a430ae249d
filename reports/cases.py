"""Case-level material: notable seizures, the restricted edition's case rows, the goods-line exports.

Handling codes and the edition govern what appears: the public edition has no case rows, no
references, no free text and no nominal data, and its notable seizures come only from results whose
handling code lets them leave the operation (H0); the CEN simplified-form export carries only
intercepted H0 results and nothing nominal.

A voided result is in none of it but one place: the restricted edition's case rows (its record
section), where it stays, marked voided with the reason, so a reader can see what was taken out.
Quantities are per unit of measure (units = pieces and packs, kg, litres), never added together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext

from cencomm.formats import number
from operations.countries import country_name
from operations.models import Operation
from operations.selectors import category_labels
from reports import record
from reports.formatting import local_time, utc
from reports.models import Report
from reports.selectors import MAY_LEAVE_OPERATION, Audience, case_visibility
from results.board import MEASURE_OF, MEASURES, counted_versions, current_versions, measure_sums, measures
from results.models import INTERCEPTED, GoodsLine, Result, ResultVersion
from results.sealing import SEALED_FIELDS

NOTABLE = 5


def _sealed(version: Any, audience: Audience) -> dict[str, str]:
    """References, notes and names stay national (results.selectors.may_see_sealed): they appear
    only in a restricted edition built for the result's own administration."""
    if not audience.sees_nominal(version.result.administration_id):
        return {field: "" for field in SEALED_FIELDS}
    return record.reveal(version)


def notable_seizures(
    operation: Operation, *, edition: str, audience: Audience
) -> dict[str, list[dict[str, Any]]]:
    """The largest intercepted results by units (pieces and packs) and by declared value."""
    allowed = counted_versions(operation).filter(outcome__in=INTERCEPTED)
    if edition == Report.Edition.PUBLIC:
        allowed = allowed.filter(MAY_LEAVE_OPERATION)
    else:
        allowed = allowed.filter(case_visibility(audience))
    by_units = list(
        GoodsLine.objects.filter(version__in=allowed.values("pk"), unit__in=MEASURES["units"])
        .values("version_id")
        .annotate(units=measure_sums()["units"])
        .order_by("-units", "version_id")[:NOTABLE]
    )
    by_value = list(
        allowed.filter(estimated_value__isnull=False)
        .order_by("-estimated_value", "pk")
        .values_list("pk", flat=True)[:NOTABLE]
    )
    ids = {r["version_id"] for r in by_units} | set(by_value)
    versions = {
        v.pk: v
        for v in allowed.filter(pk__in=ids)
        .select_related("result__entry_point", "result__administration")
        .prefetch_related("lines__category")
    }
    restricted = edition == Report.Edition.RESTRICTED
    return {
        "by_units": [
            _seizure(versions[r["version_id"]], restricted=restricted, audience=audience) for r in by_units
        ],
        "by_value": [_seizure(versions[pk], restricted=restricted, audience=audience) for pk in by_value],
    }


def _line_measures(lines: list[GoodsLine]) -> dict[str, int | float]:
    sums = dict.fromkeys(MEASURES, Decimal(0))
    for line in lines:
        sums[MEASURE_OF[line.unit]] += line.quantity
    return {measure: number(amount) for measure, amount in sums.items()}


def _seizure(version: Any, *, restricted: bool, audience: Audience) -> dict[str, Any]:
    result: Result = version.result
    lines = list(version.lines.all())
    names = category_labels(result.operation_id, "en")  # the operation's names; reports are in English
    item: dict[str, Any] = {
        "entry_point": result.entry_point.name,
        "administration": result.administration.name,
        "inspected_at_utc": utc(version.inspected_at),
        "inspected_at_local": local_time(version.inspected_at, result.entry_point.time_zone),
        "origin": version.origin_country,
        "origin_name": country_name(version.origin_country, "en"),
        "outcome": version.get_outcome_display(),
        **_line_measures(lines),
        "categories": sorted({names.get(line.category_id, line.category.name) for line in lines}),
        "value": number(version.estimated_value) if version.estimated_value is not None else None,
        "currency": version.currency,
        "handling_code": version.handling_code,
        "photos": record.photos(version),
    }
    if restricted:
        item["case"] = str(result.uuid)
        item.update(_sealed(version, audience))
        item["descriptions"] = [line.description for line in lines if line.description]
        item["concealment"] = version.concealment
    return item


def case_rows(
    operation: Operation, *, audience: Audience, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """Restricted edition only: one row per visible current result (the first ``limit`` by time),
    voided ones too, marked so with their reason (they count in no figure)."""
    versions = current_versions(operation).filter(case_visibility(audience))
    if limit is not None:  # pick the few first, then sum their lines: no GROUP BY over the whole record
        first = list(versions.order_by("inspected_at", "pk").values_list("pk", flat=True)[:limit])
        versions = ResultVersion.objects.filter(pk__in=first)
    versions = (
        versions.select_related("result__entry_point", "result__administration")
        .annotate(**measure_sums("lines__"), line_count=Count("lines"))
        .order_by("inspected_at", "pk")
    )
    for v in versions.iterator(chunk_size=2000):
        result = v.result
        yield {
            "case": str(result.uuid),
            "version": v.number,
            "entry_point": result.entry_point.name,
            "administration": result.administration.country,
            "inspected_at_utc": utc(v.inspected_at),
            "inspected_at_local": local_time(v.inspected_at, result.entry_point.time_zone),
            "transport_mode": v.transport_mode,
            "detection_method": v.detection_method,
            "origin": v.origin_country,
            "departure": v.departure_country,
            "transit": ";".join(v.transit_countries or []),
            "destination": v.destination_country,
            "outcome": v.outcome,
            "infringement": v.infringement,
            "concealment": v.concealment,
            "goods_lines": v.line_count,
            **measures({m: getattr(v, m) for m in MEASURES}),
            "estimated_value": number(v.estimated_value) if v.estimated_value is not None else "",
            "currency": v.currency,
            "handling_code": v.handling_code,
            "validation": result.validation,
            "late": result.late,
            **_sealed(v, audience),
            "voided": v.voided,
            "voided_reason": v.reason if v.voided else "",
        }


CASE_COLUMNS = [
    "case",
    "version",
    "entry_point",
    "administration",
    "inspected_at_utc",
    "inspected_at_local",
    "transport_mode",
    "detection_method",
    "origin",
    "departure",
    "transit",
    "destination",
    "outcome",
    "infringement",
    "concealment",
    "goods_lines",
    "units",
    "kg",
    "litres",
    "estimated_value",
    "currency",
    "handling_code",
    "validation",
    "late",
    "reference",
    "notes",
    "parties",
    "voided",
    "voided_reason",
]


LINE_FIELDS = {
    "case": "version__result__uuid",
    "version": "version__number",
    "line": "position",
    "inspected_at_utc": "version__inspected_at",
    "reporting_country": "version__result__administration__country",
    "entry_point_locode": "version__result__entry_point__unlocode",
    "entry_point_type": "version__result__entry_point__kind",
    "transport_mode": "version__transport_mode",
    "detection_method": "version__detection_method",
    "origin_country": "version__origin_country",
    "departure_country": "version__departure_country",
    "transit_countries": "version__transit_countries",
    "destination_country": "version__destination_country",
    "outcome": "version__outcome",
    "infringement": "version__infringement",
    "concealment": "version__concealment",
    "commodity_category": "category__code",
    "hs_code": "hs_code",
    "gtin": "gtin",
    "description": "description",
    "quantity": "quantity",
    "unit": "unit",
    "case_estimated_value": "version__estimated_value",
    "currency": "version__currency",
    "handling_code": "version__handling_code",
}
LINE_COLUMNS = list(LINE_FIELDS)


def cen_versions(operation: Operation) -> Any:
    """What the CEN simplified-form export carries: counted, intercepted results coded H0."""
    return counted_versions(operation).filter(MAY_LEAVE_OPERATION, outcome__in=INTERCEPTED)


def goods_line_rows(operation: Operation, *, audience: Audience | None) -> Iterator[dict[str, Any]]:
    """One row per goods line of the counted current versions (voided ones left out), flat, ISO codes.

    ``audience=None`` is the CEN simplified-form export: intercepted results whose handling code
    lets them leave the operation (H0), and nothing nominal (no references, parties, brands, notes).
    """
    if audience is None:
        versions = cen_versions(operation)
    else:
        versions = counted_versions(operation).filter(case_visibility(audience))
    lines = (
        GoodsLine.objects.filter(version__in=versions.values("pk"))
        .order_by("version__inspected_at", "version_id", "position")
        .values_list(*LINE_FIELDS.values())
    )
    for values in lines.iterator(chunk_size=5000):
        row = dict(zip(LINE_COLUMNS, values, strict=True))
        row["case"] = str(row["case"])
        row["inspected_at_utc"] = row["inspected_at_utc"].astimezone(dt.UTC).isoformat(timespec="seconds")
        row["transit_countries"] = ";".join(row["transit_countries"] or [])
        row["quantity"] = number(row["quantity"])
        value = row["case_estimated_value"]
        row["case_estimated_value"] = number(value) if value is not None else ""
        yield row


def left_out(operation: Operation, audience: Audience) -> list[dict[str, Any]]:
    """What each edition and export leaves out of the current record, how many results, and why.

    For the reports page: the reader sees before asking what a file will not carry.
    """
    current = current_versions(operation)
    counted = counted_versions(operation)
    intercepted = counted.filter(outcome__in=INTERCEPTED)
    found = [
        {
            "key": "voided",
            "scope": gettext("Every edition and format"),
            "count": current.filter(voided=True).count(),
            "why": gettext(
                "Voided results count in no figure, table or export; the restricted edition's case "
                "list still shows them, struck through, with the reason."
            ),
        },
        {
            "key": "public",
            "scope": gettext("Public edition"),
            "count": intercepted.exclude(MAY_LEAVE_OPERATION).count(),
            "why": gettext(
                "Its figures count every result, but it has no case rows, and its notable seizures "
                "leave out intercepted results whose handling code (H1 to H3) keeps them inside the operation."
            ),
        },
        {
            "key": "restricted",
            "scope": gettext("Restricted edition, for your role"),
            "count": counted.exclude(case_visibility(audience)).count(),
            "why": gettext(
                "Case rows and goods lines leave out results whose handling code your role may not see "
                "(H2: coordinators and the own administration; H3: the own administration only)."
            ),
        },
        {
            "key": "cen",
            "scope": gettext("CEN export"),
            "count": counted.count() - cen_versions(operation).count(),
            "why": gettext(
                "The CEN simplified form carries only intercepted (seized or detained) results coded H0, "
                "which may leave the operation."
            ),
        },
    ]
    return found
