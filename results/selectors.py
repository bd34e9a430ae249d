"""Reads of results and the board's aggregates, computed in the database with GROUP BY.

Only current versions count. Intercepted units are the quantities of goods lines of results whose
current outcome is seized or detained. ``BoardFilter`` narrows every aggregate the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.db.models.functions import TruncDate

from cencomm.chain import chain_head, first_broken_link
from cencomm.crypto import open_sealed, open_text
from cencomm.errors import NotFound
from operations.models import Membership, Operation
from operations.selectors import operation_entry_points
from results.models import (
    INTERCEPTED,
    BoardSequence,
    GoodsLine,
    NilReturn,
    Result,
    ResultPhoto,
    ResultVersion,
    photo_context,
    sealed_context,
)

Role = Membership.Role
READ_ROLES = (Role.COORDINATOR, Role.NATIONAL_CONTACT, Role.OFFICER, Role.ANALYST, Role.OBSERVER)
BOARD_ROLES = (Role.COORDINATOR, Role.NATIONAL_CONTACT, Role.ANALYST, Role.OBSERVER)


def results_chain_name(operation_id: int) -> str:
    return f"results:{operation_id}"


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


def visible_results(membership: Membership) -> QuerySet[Result]:
    """Results the member may see: officers their entry point's, NCPs their administration's."""
    results = Result.objects.filter(operation_id=membership.operation_id)
    if membership.role == Role.OFFICER:
        return results.filter(entry_point_id=membership.entry_point_id)
    if membership.role not in READ_ROLES:
        return results.none()
    return results


def access_result(membership: Membership, result_uuid: object) -> Result:
    """A result of the member's operation that they may see, or NotFound."""
    try:
        key = uuid.UUID(str(result_uuid))
    except ValueError:
        raise NotFound("result") from None
    result = (
        visible_results(membership)
        .select_related("entry_point", "administration", "reported_by")
        .filter(uuid=key)
        .first()
    )
    if result is None:
        raise NotFound("result")
    return result


def current_version(result: Result) -> ResultVersion:
    return result.versions.get(is_current=True)


def current_versions(operation: Operation, flt: BoardFilter = NO_FILTER) -> QuerySet[ResultVersion]:
    """Current versions of the operation's results, narrowed by the filter."""
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


def intercepted_lines(operation: Operation, flt: BoardFilter = NO_FILTER) -> QuerySet[GoodsLine]:
    """Goods lines of current, seized-or-detained versions, narrowed by the filter."""
    lines = GoodsLine.objects.filter(
        version__result__operation=operation,
        version__is_current=True,
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


def _int(value: Any) -> int | float:
    """Quantities are decimals; the board shows whole units where they are whole."""
    if value is None:
        return 0
    return int(value) if value == int(value) else float(value)


def _grouped(lines: QuerySet[GoodsLine], key: str, label: str | None = None) -> list[dict[str, Any]]:
    values = [key] + ([label] if label else [])
    rows = (
        lines.values(*values)
        .annotate(units=Sum("quantity"), cases=Count("version", distinct=True))
        .order_by("-units", key)
    )
    return [
        {
            "key": r[key],
            "label": r[label] if label else r[key],
            "units": _int(r["units"]),
            "cases": r["cases"],
        }
        for r in rows
    ]


def board_totals(operation: Operation, flt: BoardFilter = NO_FILTER) -> dict[str, Any]:
    lines = intercepted_lines(operation, flt)
    agg = lines.aggregate(units=Sum("quantity"), cases=Count("version", distinct=True))
    versions = current_versions(operation, flt)
    return {
        "units": _int(agg["units"]),
        "cases": agg["cases"],
        "results": versions.count(),
    }


def units_by_category(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    rows = _grouped(intercepted_lines(operation, flt), "category_id", "category__name")
    total = sum(r["units"] for r in rows) or 1
    for r in rows:
        r["share"] = round(r["units"] / total, 6)
    return rows


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
        .annotate(units=Sum("quantity"), cases=Count("version", distinct=True))
        .order_by("utc_day")
    )
    return [
        {
            "key": r["utc_day"].isoformat(),
            "label": r["utc_day"].isoformat(),
            "units": _int(r["units"]),
            "cases": r["cases"],
        }
        for r in rows
    ]


def by_transport_mode(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    return _grouped(intercepted_lines(operation, flt), "version__transport_mode")


def by_detection_method(operation: Operation, flt: BoardFilter = NO_FILTER) -> list[dict[str, Any]]:
    return _grouped(intercepted_lines(operation, flt), "version__detection_method")


def compliance_grid(operation: Operation, flt: BoardFilter = NO_FILTER) -> dict[str, Any]:
    """Per entry point and UTC day of the window: "results", "nil" or "none" (not reported)."""
    entry_points = operation_entry_points(operation)
    if flt.administration_id is not None:
        entry_points = entry_points.filter(administration_id=flt.administration_id)
    if flt.entry_point_id is not None:
        entry_points = entry_points.filter(pk=flt.entry_point_id)
    days = operation.window_days
    reported = set(
        ResultVersion.objects.filter(result__operation=operation, is_current=True)
        .annotate(utc_day=UTC_DAY)
        .values_list("result__entry_point_id", "utc_day")
        .distinct()
    )
    nil = set(NilReturn.objects.filter(operation=operation).values_list("entry_point_id", "day"))
    rows = []
    for ep in entry_points:
        cells = []
        for day in days:
            state = "results" if (ep.pk, day) in reported else "nil" if (ep.pk, day) in nil else "none"
            cells.append(state)
        rows.append({"entry_point": ep.pk, "name": ep.name, "cells": cells})
    return {"days": [d.isoformat() for d in days], "rows": rows}


def latest_results(
    operation: Operation, flt: BoardFilter = NO_FILTER, *, limit: int = 20
) -> list[dict[str, Any]]:
    """The newest current versions, with their non-sensitive fields only."""
    versions = (
        current_versions(operation, flt)
        .select_related("result__entry_point", "result__administration")
        .prefetch_related("lines__category")
        .order_by("-chain_seq")[:limit]
    )
    return [version_summary(v) for v in versions]


def version_summary(version: ResultVersion) -> dict[str, Any]:
    result = version.result
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
        "lines": [
            {"category": line.category.name, "quantity": _int(line.quantity), "unit": line.unit}
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


def compliance_cells(operation: Operation, pairs: list[tuple[int, dt.date]]) -> list[dict[str, Any]]:
    """The compliance state of a few (entry point, UTC day) cells."""
    cells = []
    for entry_point_id, day in dict.fromkeys(pairs):
        has_results = (
            ResultVersion.objects.filter(
                result__operation=operation, result__entry_point_id=entry_point_id, is_current=True
            )
            .annotate(utc_day=UTC_DAY)
            .filter(utc_day=day)
            .exists()
        )
        nil = NilReturn.objects.filter(operation=operation, entry_point_id=entry_point_id, day=day).exists()
        state = "results" if has_results else "nil" if nil else "none"
        cells.append({"entry_point": entry_point_id, "day": day.isoformat(), "state": state})
    return cells


def utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def ciphertext_digest(blob: Any) -> str | None:
    return hashlib.sha256(bytes(blob)).hexdigest() if blob is not None else None


def version_payload(version: ResultVersion) -> dict[str, Any]:
    """What the results chain hashes for one stored version: every stored field, ciphertexts by digest."""
    result = version.result
    return {
        "operation": result.operation_id,
        "result": str(result.uuid),
        "client_id": result.client_id,
        "entry_point": result.entry_point_id,
        "administration": result.administration_id,
        "reported_by": result.reported_by_id,
        "late": result.late,
        "version": version.number,
        "created_at": version.created_at.isoformat(),
        "created_by": version.created_by_id,
        "reason": version.reason,
        "inspected_at": version.inspected_at.isoformat(),
        "transport_mode": version.transport_mode,
        "origin": version.origin_country,
        "departure": version.departure_country,
        "transit": list(version.transit_countries),
        "destination": version.destination_country,
        "detection_method": version.detection_method,
        "outcome": version.outcome,
        "infringement": version.infringement,
        "concealment": version.concealment,
        "estimated_value": None if version.estimated_value is None else f"{version.estimated_value:.2f}",
        "currency": version.currency,
        "handling_code": version.handling_code,
        "answers_warning": str(version.answers_warning) if version.answers_warning else None,
        "notes": ciphertext_digest(version.notes_sealed),
        "reference": ciphertext_digest(version.reference_sealed),
        "parties": ciphertext_digest(version.parties_sealed),
        "lines": [
            {
                "position": line.position,
                "category": line.category_id,
                "description": line.description,
                "brand": ciphertext_digest(line.brand_sealed),
                "gtin": line.gtin,
                "hs_code": line.hs_code,
                "quantity": f"{line.quantity:.3f}",
                "unit": line.unit,
            }
            for line in GoodsLine.objects.filter(version_id=version.pk).order_by("position")
        ],
    }


def chain_links(operation_id: int) -> list[tuple[int, str, str, dict[str, Any]]]:
    """The operation's results chain as stored: ``(seq, prev_hash, hash, payload)`` in order."""
    versions = (
        ResultVersion.objects.filter(result__operation_id=operation_id)
        .select_related("result")
        .order_by("chain_seq")
    )
    return [(v.chain_seq, v.prev_hash, v.hash, version_payload(v)) for v in versions]


def results_chain_verify(operation_id: int) -> int | None:
    """The chain position of the first stored version that does not match its link, or None."""
    name = results_chain_name(operation_id)
    return first_broken_link(chain_links(operation_id), chain_head(name))


def stale_current_versions(operation_id: int) -> list[str]:
    """Results whose current version is not their latest one (or that have none): tampering."""
    bad = []
    results = Result.objects.filter(operation_id=operation_id).prefetch_related("versions")
    for result in results:
        versions = sorted(result.versions.all(), key=lambda v: v.number)
        current = [v for v in versions if v.is_current]
        if not versions or current != versions[-1:]:
            bad.append(str(result.uuid))
    return bad


SEALED_FIELDS = ("notes", "reference", "parties")


def sealed_scope(result: Result) -> str:
    return f"operation:{result.operation_id}"


def _unseal(result: Result, number: int, field: str, blob: Any) -> str | None:
    if blob is None:
        return None
    return open_text(
        context=sealed_context(result.uuid, number, field), blob=bytes(blob), scope=sealed_scope(result)
    )


def sealed_fields(version: ResultVersion) -> dict[str, str | None]:
    """The version's sealed text fields, decrypted (callers decide who may see them)."""
    result = version.result
    return {f: _unseal(result, version.number, f, getattr(version, f"{f}_sealed")) for f in SEALED_FIELDS}


def line_brand(version: ResultVersion, line: GoodsLine) -> str | None:
    return _unseal(version.result, version.number, f"line{line.position}:brand", line.brand_sealed)


def may_see_sealed(membership: Membership, result: Result) -> bool:
    """Nominal data and references stay national: members of the result's administration only."""
    return (
        membership.administration_id is not None and membership.administration_id == result.administration_id
    )


def warning_visible(membership: Membership, warning_uuid: uuid.UUID) -> bool:
    """Whether the member can see a Warning with this id in one of their rooms."""
    try:
        from messaging.models import Message
        from messaging.selectors import rooms_for
    except ImportError:  # messaging not installed: no warning can be linked
        return False
    return Message.objects.filter(
        uid=warning_uuid, kind=Message.Kind.WARNING, room__in=rooms_for(membership)
    ).exists()


__all__ = [
    "chain_links",
    "results_chain_verify",
    "ciphertext_digest",
    "compliance_cells",
    "stale_current_versions",
    "utc_day",
    "version_payload",
    "warning_visible",
    "BoardFilter",
    "NO_FILTER",
    "access_result",
    "board_snapshot",
    "board_totals",
    "by_administration",
    "by_day",
    "by_detection_method",
    "by_entry_point",
    "by_origin",
    "by_transport_mode",
    "compliance_grid",
    "current_version",
    "current_versions",
    "intercepted_lines",
    "latest_results",
    "results_chain_name",
    "units_by_category",
    "visible_results",
]


def access_result_photo(membership: Membership, result_uuid: object, photo_uid: object) -> ResultPhoto:
    """A photo of a result the member may see, or NotFound."""
    result = access_result(membership, result_uuid)
    try:
        key = uuid.UUID(str(photo_uid))
    except ValueError:
        raise NotFound("photo") from None
    photo = result.photos.filter(uid=key).first()
    if photo is None:
        raise NotFound("photo")
    return photo


def photo_content(photo: ResultPhoto, *, part: str) -> bytes:
    """The display copy (no metadata) or the original, decrypted."""
    part = "original" if part == "original" else "display"
    return open_sealed(
        scope=sealed_scope(photo.result),
        context=photo_context(photo, photo.result.uuid, part),
        blob=photo.original if part == "original" else photo.display,
    )
