"""The report's breakdowns in two SQL statements, for records of a million goods lines.

The board's selectors (``results.board``) group the goods lines once per breakdown with a
``COUNT(DISTINCT version)``; at a million lines that is nine passes with nine sorts. The report
sums each version's lines once (``per_version``), then groups those sums by every version-level
dimension in one statement (UNION ALL over the same CTE, which PostgreSQL computes once), and
groups the lines themselves once more for what belongs to a line (category, unit). Same
definitions as the board: current versions not voided, intercepted outcomes (seized and detained),
one exact sum per unit of measure (``results.board.MEASURES``: units = pieces and packs, kg,
litres; never added together), each a sum of whole thousandths; tests/reports/test_aggregates.py
holds the two to the same figures.

The SQL text is assembled from this module's constants and the models' table names only (hence
the S608 waivers); every value, the operation and the outcomes, is a query parameter.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from results.board import MEASURES, MILLI, measures, ordering
from results.models import INTERCEPTED, GoodsLine, Result, ResultVersion

VERSION_DIMENSIONS = {
    "origins": "v.origin_country",
    "transport_modes": "v.transport_mode",
    "detection_methods": "v.detection_method",
    "seized_pending": "v.outcome",
    "administrations": "v.administration_id",
    "entry_points": "v.entry_point_id",
    "days": "{day}",
}
LINE_DIMENSIONS = {"categories": "l.category_id", "units_by_unit": "l.unit"}


def _tables() -> dict[str, str]:
    return {"l": GoodsLine._meta.db_table, "v": ResultVersion._meta.db_table, "r": Result._meta.db_table}


def _day_sql() -> str:
    if connection.vendor == "postgresql":
        return "((v.inspected_at AT TIME ZONE 'UTC')::date)::text"
    return "date(v.inspected_at)"  # SQLite stores UTC text


def _where() -> tuple[str, list[Any]]:
    placeholders = ", ".join(["%s"] * len(INTERCEPTED))
    return f"r.operation_id = %s AND v.is_current AND NOT v.voided AND v.outcome IN ({placeholders})", [
        str(o) for o in INTERCEPTED
    ]


def _line_sums() -> str:
    """Each measure's exact sum over goods lines ``l``, in thousandths (units are code constants)."""
    milli = f"CAST(ROUND(l.quantity * {MILLI}) AS BIGINT)"
    return ", ".join(
        f"SUM(CASE WHEN l.unit IN ({', '.join(repr(str(u)) for u in units)}) THEN {milli} ELSE 0 END) AS {measure}"
        for measure, units in MEASURES.items()
    )


def _sums_of(source: str) -> str:
    return ", ".join(f"SUM({source}{measure})" for measure in MEASURES)


def breakdowns(operation_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every breakdown as ``{"key", "units", "kg", "litres", "cases"}`` rows, biggest first (days: in order)."""
    t = _tables()
    where, outcomes = _where()
    joins = f"JOIN {t['v']} v ON v.id = l.version_id JOIN {t['r']} r ON r.id = v.result_id"
    per_version = f"SELECT l.version_id AS version_id, {_line_sums()} FROM {t['l']} l {joins} WHERE {where} GROUP BY l.version_id"  # noqa: S608
    sums = ", ".join(f"pv.{m} AS {m}" for m in MEASURES)
    columns = f"{sums}, v.origin_country, v.transport_mode, v.detection_method, v.outcome, r.administration_id, r.entry_point_id, v.inspected_at"
    flat = f"SELECT {columns} FROM per_version pv JOIN {t['v']} v ON v.id = pv.version_id JOIN {t['r']} r ON r.id = v.result_id"  # noqa: S608
    day = _day_sql()
    selects = [
        f"SELECT '{name}', CAST({expr.format(day=day)} AS TEXT), {_sums_of('v.')}, COUNT(*) FROM flat v GROUP BY 2"  # noqa: S608
        for name, expr in VERSION_DIMENSIONS.items()
    ] + [f"SELECT 'total', '', {_sums_of('v.')}, COUNT(*) FROM flat v"]  # noqa: S608
    version_sql = f"WITH per_version AS ({per_version}), flat AS ({flat}) " + " UNION ALL ".join(selects)
    line_sql = " UNION ALL ".join(
        f"SELECT '{name}', CAST(key AS TEXT), {_sums_of('')}, COUNT(*) FROM ("  # noqa: S608
        f"SELECT {expr} AS key, l.version_id, {_line_sums()} FROM {t['l']} l {joins} WHERE {where} "
        f"GROUP BY {expr}, l.version_id) per_key GROUP BY key"
        for name, expr in LINE_DIMENSIONS.items()
    )
    found: dict[str, list[dict[str, Any]]] = {
        name: [] for name in [*VERSION_DIMENSIONS, *LINE_DIMENSIONS, "total"]
    }
    with connection.cursor() as cursor:
        cursor.execute(version_sql, [operation_id, *outcomes])
        rows = cursor.fetchall()
        cursor.execute(line_sql, [operation_id, *outcomes] * len(LINE_DIMENSIONS))
        rows += cursor.fetchall()
    for name, key, *sums, cases in rows:
        if name == "total" and not cases:
            continue  # no intercepted line at all: SUM over nothing
        found[name].append({"key": key, **measures(dict(zip(MEASURES, sums, strict=True))), "cases": cases})
    for name, items in found.items():
        if name == "days":
            items.sort(key=lambda r: r["key"])
        else:
            items.sort(key=ordering)
    return found
