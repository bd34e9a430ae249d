"""Board events: what services publish, and how a board applies them to its snapshot.

An event carries the board sequence number and, for a changed result, the contribution of its
previous and new current version: the aggregated (plain) fields only, never sealed ones. A board
consumer turns that into a delta for its own filter without touching the database; anything it
cannot express as a delta (a renamed or reclassified category) is a ``resync`` and the board
re-reads its snapshot. ``apply_delta`` is the reference for the JavaScript in board.js.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from results.models import INTERCEPTED, ResultVersion
from results.selectors import BoardFilter, compliance_cells, utc_day, version_summary

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


def contribution(version: ResultVersion) -> dict[str, Any]:
    """The aggregated fields of one version, as the board counts them."""
    result = version.result
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
        "lines": [
            {"cat": line.category_id, "cat_label": line.category.name, "qty": f"{line.quantity:.3f}"}
            for line in version.lines.select_related("category").order_by("position")
        ],
    }


def version_changed(*, seq: int, old: ResultVersion | None, new: ResultVersion, kind: str) -> Event:
    new = ResultVersion.objects.select_related("result__entry_point", "result__administration").get(pk=new.pk)
    days = [utc_day(new.inspected_at)] + ([utc_day(old.inspected_at)] if old else [])
    operation = new.result.operation
    return {
        "type": EVENT_TYPE,
        "seq": seq,
        "kind": kind,
        "old": contribution(old) if old else None,
        "new": contribution(new),
        "latest": version_summary(new),
        "compliance": compliance_cells(operation, [(new.result.entry_point_id, d) for d in days]),
        "chain_head": {"seq": new.chain_seq, "hash": new.hash},
    }


def validation_changed(*, seq: int, version: ResultVersion) -> Event:
    version = ResultVersion.objects.select_related("result__entry_point", "result__administration").get(
        pk=version.pk
    )
    return {"type": EVENT_TYPE, "seq": seq, "kind": "validation", "latest": version_summary(version)}


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


def _number(value: Decimal) -> int | float:
    return int(value) if value == int(value) else float(value)


def _add(table: dict[Any, dict[str, Any]], key: Any, label: Any, units: Decimal, cases: int) -> None:
    row = table.setdefault(key, {"label": label, "units": Decimal(0), "cases": 0})
    row["units"] += units
    row["cases"] += cases


def _count(contrib: dict[str, Any] | None, flt: BoardFilter, sign: int, delta: dict[str, Any]) -> None:
    """Add (sign=1) or take away (sign=-1) one version's share of every figure."""
    if not _matches(contrib, flt):
        return
    assert contrib is not None
    delta["totals"]["results"] += sign
    if not contrib["intercepted"]:
        return
    lines = [ln for ln in contrib["lines"] if flt.category_id is None or ln["cat"] == flt.category_id]
    if not lines:
        return
    units = sum((Decimal(ln["qty"]) for ln in lines), Decimal(0))
    delta["totals"]["units"] += sign * units
    delta["totals"]["cases"] += sign
    by_category: dict[int, tuple[str, Decimal]] = {}
    for ln in lines:
        label, qty = by_category.get(ln["cat"], (ln["cat_label"], Decimal(0)))
        by_category[ln["cat"]] = (label, qty + Decimal(ln["qty"]))
    for cat, (label, qty) in by_category.items():
        _add(delta["categories"], cat, label, sign * qty, sign)
    for name, (key, label) in DIMENSIONS.items():
        _add(delta[name], contrib[key], contrib[label], sign * units, sign)


def board_delta(event: Event, flt: BoardFilter) -> dict[str, Any] | None:
    """The frame a board with filter ``flt`` gets for ``event``; None when it needs a snapshot."""
    if event.get("resync"):
        return None
    old, new = event.get("old"), event.get("new")
    if _matches(old, flt) and new is not None and not _matches(new, flt):
        return None  # a result left this board's filter: its latest list needs refilling
    delta: dict[str, Any] = {"totals": {"units": Decimal(0), "cases": 0, "results": 0}}
    delta |= {name: {} for name in ("categories", *DIMENSIONS)}
    _count(old, flt, -1, delta)
    _count(new, flt, 1, delta)
    frame: dict[str, Any] = {"type": "board.delta", "seq": event["seq"], "kind": event["kind"]}
    frame["totals"] = delta["totals"] | {"units": _number(delta["totals"]["units"])}
    for name in ("categories", *DIMENSIONS):
        frame[name] = [
            {"key": key, "label": row["label"], "units": _number(row["units"]), "cases": row["cases"]}
            for key, row in delta[name].items()
            if row["units"] or row["cases"]
        ]
    latest = event.get("latest")
    if latest is not None and (new is None or _matches(new, flt)):
        frame["latest"] = latest
    if event.get("compliance"):
        frame["compliance"] = event["compliance"]
    if event.get("chain_head"):
        frame["chain_head"] = event["chain_head"]
    return frame


# --- applying a delta (the reference the JavaScript follows) ------------------------------------


def _merge(
    rows: list[dict[str, Any]], changes: list[dict[str, Any]], *, by_key: bool
) -> list[dict[str, Any]]:
    table = {r["key"]: dict(r) for r in rows}
    for change in changes:
        row = table.setdefault(
            change["key"], {"key": change["key"], "label": change["label"], "units": 0, "cases": 0}
        )
        row["units"] = _number(Decimal(str(row["units"])) + Decimal(str(change["units"])))
        row["cases"] += change["cases"]
        row["label"] = change["label"]
    kept = [r for r in table.values() if r["units"] or r["cases"]]
    if by_key:
        return sorted(kept, key=lambda r: r["key"])
    return sorted(kept, key=lambda r: (-r["units"], str(r["key"])))


def apply_delta(snapshot: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
    """The board after ``frame``: what board.js does to the figures it shows."""
    board = dict(snapshot)
    board["seq"] = frame["seq"]
    if "totals" in frame:
        totals = dict(board["totals"])
        totals["units"] = _number(Decimal(str(totals["units"])) + Decimal(str(frame["totals"]["units"])))
        totals["cases"] += frame["totals"]["cases"]
        totals["results"] += frame["totals"]["results"]
        board["totals"] = totals
        for name in ("categories", *DIMENSIONS):
            board[name] = _merge(board[name], frame[name], by_key=name == "days")
        total = sum(r["units"] for r in board["categories"]) or 1
        board["categories"] = [r | {"share": round(r["units"] / total, 6)} for r in board["categories"]]
    if "latest" in frame:
        latest = frame["latest"]
        rest = [r for r in board["latest"] if r["uuid"] != latest["uuid"]]
        if frame["kind"] == "validation":
            board["latest"] = [latest if r["uuid"] == latest["uuid"] else r for r in board["latest"]]
        else:
            board["latest"] = [latest, *rest][:LATEST_LIMIT]
    if "compliance" in frame:
        grid = board["compliance"]
        cells = {(c["entry_point"], c["day"]): c["state"] for c in frame["compliance"]}
        board["compliance"] = grid | {
            "rows": [
                row
                | {
                    "cells": [
                        cells.get((row["entry_point"], day), state)
                        for day, state in zip(grid["days"], row["cells"], strict=True)
                    ]
                }
                for row in grid["rows"]
            ]
        }
    if "chain_head" in frame:
        board["chain_head"] = frame["chain_head"]
    return board
