"""Board events: what services publish, and the delta a board consumer makes of one for its filter.

An event carries the board sequence number and, for a changed result, the contribution of its
previous and new current version: the aggregated (plain) fields only, never sealed ones. A board
consumer turns that into a delta for its own filter without touching the database; anything it
cannot express as a delta (a renamed or reclassified category) is a ``resync`` and the board
re-reads its snapshot. What a board does with a delta (board.js) is written out, and tested against
the snapshot, in ``tests/results/board_reference.py``.

Like the snapshot (``results.board``), a delta keeps units, kilograms and litres apart, adds them
as exact decimals, and counts nothing of a voided version.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from cencomm.formats import number
from operations.selectors import category_labels
from products.selectors import brands_of_gtins
from results.board import (
    MEASURE_OF,
    MEASURES,
    BoardFilter,
    compliance_cells,
    local_day,
    utc_day,
    version_summary,
)
from results.models import INTERCEPTED, GoodsLine, ResultVersion

Event = dict[str, Any]
EVENT_TYPE = "board.event"
LATEST_LIMIT = 20
# Snapshot list -> the contribution field that keys it (categories are keyed per line).
DIMENSIONS = {
    "origins": ("origin", "origin"),
    "administrations": ("adm", "adm_label"),
    "entry_points": ("ep", "ep_label"),
    "days": ("day", "day"),
    "transport_modes": ("mode", "mode"),
    "detection_methods": ("method", "method"),
}


#: Every list of the snapshot a delta changes: those keyed per goods line (a version's lines may
#: fall in several rows), then the others.
LINE_KEYED = ("categories", "brands", *DIMENSIONS)


def contribution(version: ResultVersion, labels: dict[int, str]) -> dict[str, Any]:
    """The aggregated fields of one version, as the board counts them; ``labels``: the operation's
    names for its categories (``category_labels``), read once for the event."""
    result = version.result
    lines = _lines(version)
    brands = brands_of_gtins(line.gtin for line in lines)  # a GTIN of a right holder's product
    return {
        "uuid": str(result.uuid),
        "adm": result.administration_id,
        "adm_label": result.administration.name,
        "ep": result.entry_point_id,
        "ep_label": result.entry_point.name,
        "day": utc_day(version.inspected_at).isoformat(),
        "origin": version.origin_country,
        "mode": version.transport_mode,
        "method": version.detection_method,
        "intercepted": version.outcome in INTERCEPTED,
        "voided": version.voided,
        "lines": [
            {
                "cat": line.category_id,
                "cat_label": labels.get(line.category_id, line.category.name),
                "qty": f"{line.quantity:.3f}",
                "unit": line.unit,
                "brand": brands.get(line.gtin),
            }
            for line in lines
        ],
    }


def _lines(version: ResultVersion) -> list[GoodsLine]:
    """The version's goods lines with their categories, in order: prefetched by ``version_changed``
    (once for the contribution and the summary), else read."""
    if "lines" in getattr(version, "_prefetched_objects_cache", {}):
        return list(version.lines.all())
    return list(version.lines.select_related("category").order_by("position"))


def version_changed(*, seq: int, old: ResultVersion | None, new: ResultVersion, kind: str) -> Event:
    lines = Prefetch("lines", queryset=GoodsLine.objects.select_related("category").order_by("position"))
    new = (
        ResultVersion.objects.select_related(
            "result__entry_point", "result__administration", "result__operation"
        )
        .prefetch_related(lines)
        .get(pk=new.pk)
    )
    zone = new.result.entry_point.time_zone  # compliance cells are the entry point's local days
    days = [local_day(new.inspected_at, zone)] + ([local_day(old.inspected_at, zone)] if old else [])
    operation = new.result.operation
    labels = category_labels(operation.pk)
    return {
        "type": EVENT_TYPE,
        "seq": seq,
        "epoch": operation.access_epoch,  # held by the write (operation_hold_state): see BoardConsumer
        "kind": kind,
        "old": contribution(old, labels) if old else None,
        "new": contribution(new, labels),
        "latest": version_summary(new, labels=labels),
        "compliance": compliance_cells(operation, [(new.result.entry_point_id, d) for d in days]),
        "chain_head": {"seq": new.chain_seq, "hash": new.hash},
    }


def validation_changed(*, seq: int, version: ResultVersion) -> Event:
    version = ResultVersion.objects.select_related(
        "result__entry_point", "result__administration", "result__operation"
    ).get(pk=version.pk)
    return {
        "type": EVENT_TYPE,
        "seq": seq,
        "epoch": version.result.operation.access_epoch,
        "kind": "validation",
        "latest": version_summary(version),
    }


def compliance_changed(*, seq: int, cells: list[dict[str, Any]]) -> Event:
    return {"type": EVENT_TYPE, "seq": seq, "kind": "nil_return", "compliance": cells}


def resync(*, seq: int, kind: str) -> Event:
    return {"type": EVENT_TYPE, "seq": seq, "kind": kind, "resync": True}


# --- from an event to a board's delta ------------------------------------------------------------


def _matches(contrib: dict[str, Any] | None, flt: BoardFilter) -> bool:
    return contrib is not None and (
        (flt.administration_id is None or contrib["adm"] == flt.administration_id)
        and (flt.entry_point_id is None or contrib["ep"] == flt.entry_point_id)
        and (flt.day is None or contrib["day"] == flt.day.isoformat())
        and (flt.category_id is None or any(ln["cat"] == flt.category_id for ln in contrib["lines"]))
    )


Figures = dict[str, Decimal]


def _zero() -> Figures:
    return dict.fromkeys(MEASURES, Decimal(0))


def _add(table: dict[Any, dict[str, Any]], key: Any, label: Any, sums: Figures, sign: int) -> None:
    row = table.setdefault(key, {"label": label, **_zero(), "cases": 0})
    for measure, amount in sums.items():
        row[measure] += sign * amount
    row["cases"] += sign


def _sums(lines: list[dict[str, Any]]) -> Figures:
    sums = _zero()
    for ln in lines:
        sums[MEASURE_OF[ln.get("unit", "pieces")]] += Decimal(ln["qty"])
    return sums


def _count(contrib: dict[str, Any] | None, flt: BoardFilter, sign: int, delta: dict[str, Any]) -> None:
    """Add (sign=1) or take away (sign=-1) one version's share of every figure."""
    if not _matches(contrib, flt):
        return
    assert contrib is not None
    if contrib.get("voided"):
        return  # a voided result counts nowhere
    delta["totals"]["results"] += sign
    if not contrib["intercepted"]:
        return
    lines = [ln for ln in contrib["lines"] if flt.category_id is None or ln["cat"] == flt.category_id]
    if not lines:
        return
    sums = _sums(lines)
    for measure, amount in sums.items():
        delta["totals"][measure] += sign * amount
    delta["totals"]["cases"] += sign
    by_category: dict[int, list[dict[str, Any]]] = {}
    for ln in lines:
        by_category.setdefault(ln["cat"], []).append(ln)
    for cat, cat_lines in by_category.items():
        _add(delta["categories"], cat, cat_lines[0]["cat_label"], _sums(cat_lines), sign)
    by_brand: dict[str, list[dict[str, Any]]] = {}
    for ln in lines:
        if ln.get("brand"):
            by_brand.setdefault(ln["brand"], []).append(ln)
    for brand, brand_lines in by_brand.items():
        _add(delta["brands"], brand, brand, _sums(brand_lines), sign)
    for name, (key, label) in DIMENSIONS.items():
        _add(delta[name], contrib[key], contrib[label], sums, sign)


def _figures(row: dict[str, Any]) -> dict[str, int | float]:
    return {measure: number(row[measure]) for measure in MEASURES}


def board_delta(event: Event, flt: BoardFilter) -> dict[str, Any] | None:
    """The frame a board with filter ``flt`` gets for ``event``; None when it needs a snapshot."""
    if event.get("resync"):
        return None
    old, new = event.get("old"), event.get("new")
    if _matches(old, flt) and new is not None and not _matches(new, flt):
        return None  # a result left this board's filter: its latest list needs refilling
    delta: dict[str, Any] = {"totals": {**_zero(), "cases": 0, "results": 0}}
    delta |= {name: {} for name in LINE_KEYED}
    _count(old, flt, -1, delta)
    _count(new, flt, 1, delta)
    frame: dict[str, Any] = {"type": "board.delta", "seq": event["seq"], "kind": event["kind"]}
    frame["totals"] = delta["totals"] | _figures(delta["totals"])
    for name in LINE_KEYED:
        frame[name] = [
            {"key": key, "label": row["label"], **_figures(row), "cases": row["cases"]}
            for key, row in delta[name].items()
            if row["cases"] or any(row[m] for m in MEASURES)
        ]
    latest = event.get("latest")
    if latest is not None and (new is None or _matches(new, flt)):
        frame["latest"] = latest
    if event.get("compliance"):
        frame["compliance"] = event["compliance"]
    if event.get("chain_head"):
        frame["chain_head"] = event["chain_head"]
    return frame
