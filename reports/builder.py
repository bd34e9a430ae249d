"""The report's content, from one consistent read of the operation's record.

Every figure comes from a GROUP BY in the database (the board's own selectors in
``results.selectors`` where they exist, so the report and the board cannot disagree); Python only
touches the grouped rows, never the goods lines. The result is plain JSON-ready data: the JSON
format writes it as it is, the other formats render it.

Editions: aggregates are the same in both (they count every current result, like the board);
handling codes and the edition govern case-level material: the public edition has no case rows,
no references, no free text and no nominal data, and its notable seizures come only from results
whose handling code lets them leave the operation (H0).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from cencomm.chain import chain_head
from operations.countries import country_name
from operations.models import CommodityCategory, Operation
from operations.selectors import operation_administrations, operation_entry_points
from reports import aggregates, record
from reports.models import Report
from reports.selectors import MAY_LEAVE_OPERATION, Audience, case_visibility
from results import selectors as rs
from results.models import (
    INTERCEPTED,
    BoardSequence,
    DetectionMethod,
    GoodsLine,
    NilReturn,
    Outcome,
    Result,
    ResultVersion,
    TransportMode,
)

Progress = Callable[[int, str], None]
Table = dict[str, Any]
NOTABLE = 5
MAX_SENTENCE_ITEMS = 5


def number(value: Any) -> Any:
    """Whole quantities as int, others as float (JSON has no Decimal)."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def fmt(value: Any) -> str:
    """A number with thousands separators: 3,888,013 or 12,345.5."""
    value = number(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _column(key: str, label: str, kind: str = "text") -> dict[str, str]:
    return {"key": key, "label": label, "kind": kind}


UNITS = _column("units", "Units", "int")
CASES = _column("cases", "Cases", "int")
SHARE = _column("share", "Share", "pct")


def _table(
    key: str, title: str, columns: list[dict[str, str]], rows: list[list[Any]], chart: str = ""
) -> Table:
    return {"key": key, "title": title, "columns": columns, "rows": rows, "chart": chart}


def _with_share(rows: list[dict[str, Any]], total: Any) -> list[dict[str, Any]]:
    total = number(total) or 1
    for row in rows:
        row["share"] = round(number(row["units"]) / total, 6)
    return rows


def _labelled(rows: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    for row in rows:
        row["label"] = labels.get(row["key"] or "", row["key"] or "not given")
    return rows


# --- the sections --------------------------------------------------------------------------------


def operation_facts(operation: Operation) -> dict[str, Any]:
    entry_points = list(operation_entry_points(operation))
    administrations = [
        {
            "country": a.country,
            "name": a.name,
            "entry_points": [
                {
                    "name": e.name,
                    "kind": e.get_kind_display(),
                    "unlocode": e.unlocode,
                    "time_zone": e.time_zone,
                }
                for e in entry_points
                if e.administration_id == a.pk
            ],
        }
        for a in operation_administrations(operation)
    ]
    return {
        "code": operation.code,
        "name": operation.name,
        "objectives": operation.objectives,
        "state": operation.state,
        "state_label": operation.get_state_display(),
        "window_start": operation.window_start.astimezone(dt.UTC).isoformat(),
        "window_end": operation.window_end.astimezone(dt.UTC).isoformat(),
        "window_days": len(operation.window_days),
        "administrations": administrations,
        "administration_count": len(administrations),
        "entry_point_count": len(entry_points),
        "participants": operation.memberships.count(),
    }


def _named(rows: list[dict[str, Any]], names: dict[int, str]) -> list[dict[str, Any]]:
    for row in rows:
        row["key"] = int(row["key"])
        row["label"] = names.get(row["key"], str(row["key"]))
    return rows


def _breakdowns(operation: Operation) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The totals and every breakdown, grouped in the database (see aggregates.py)."""
    found = aggregates.breakdowns(operation.pk)
    total = found.pop("total")[0] if found["total"] else {"units": 0, "cases": 0}
    units = total["units"]
    outcome_labels = dict(Outcome.choices)
    found["categories"] = _named(
        found["categories"], dict(CommodityCategory.objects.values_list("pk", "name"))
    )
    found["administrations"] = _named(
        found["administrations"], dict(operation_administrations(operation).values_list("pk", "name"))
    )
    found["entry_points"] = _named(
        found["entry_points"], dict(operation_entry_points(operation).values_list("pk", "name"))
    )
    for row in found["origins"]:
        row["label"] = country_name(row["key"], "en")  # reports are written in English
    for row in found["days"]:
        row["label"] = row["key"]
    for row in found["units_by_unit"]:
        row["label"] = row["key"]
    for name in (
        "categories",
        "origins",
        "administrations",
        "entry_points",
        "transport_modes",
        "detection_methods",
        "seized_pending",
    ):
        _with_share(found[name], units)
    _labelled(found["transport_modes"], dict(TransportMode.choices))
    _labelled(found["detection_methods"], dict(DetectionMethod.choices))
    _labelled(found["seized_pending"], outcome_labels)
    found["outcomes"] = _labelled(
        [
            {"key": r["outcome"], "cases": r["cases"]}
            for r in rs.current_versions(operation)
            .values("outcome")
            .annotate(cases=Count("id"))
            .order_by("-cases", "outcome")
        ],
        outcome_labels,
    )
    totals = {
        "units": units,
        "cases": total["cases"],
        "results": rs.current_versions(operation).count(),
        "seized_units": sum(r["units"] for r in found["seized_pending"] if r["key"] == Outcome.SEIZED),
        "pending_units": sum(r["units"] for r in found["seized_pending"] if r["key"] == Outcome.DETAINED),
    }
    return totals, found


def headline(totals: dict[str, Any], breakdowns: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The sentences a press release would print."""
    units, cases = totals["units"], totals["cases"]
    if not cases:
        return ["No goods were reported intercepted in this operation."]
    sentences = [
        f"Participating administrations intercepted {fmt(units)} units of goods (seized and pending a decision) "
        f"in {fmt(cases)} case{'s' if cases != 1 else ''}."
    ]
    categories = breakdowns["categories"]
    if categories:
        first = categories[0]
        sentences.append(
            f"{first['label']} represented the most numerous category, with {fmt(first['units'])} units, "
            f"about {pct(first['share'])} of the total."
        )
        rest = [
            f"{c['label'].lower()} {fmt(c['units'])} ({pct(c['share'])})"
            for c in categories[1:MAX_SENTENCE_ITEMS]
        ]
        if rest:
            sentences.append("Next came " + _enumerate(rest) + ".")
    origins = sorted(
        (o for o in breakdowns["origins"] if o["key"]), key=lambda o: (-o["cases"], -o["units"])
    )[:3]
    if origins:
        first, *others = origins
        text = f"{first['label']} was named as the country of origin in {fmt(first['cases'])} of the {fmt(cases)} cases"
        if others:
            text += ", " + _enumerate([f"{o['label']} in {fmt(o['cases'])}" for o in others])
        sentences.append(text + ".")
    return sentences


def _enumerate(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def compliance(operation: Operation) -> dict[str, Any]:
    grid = rs.compliance_grid(operation)
    counts = {"results": 0, "nil": 0, "none": 0}
    for row in grid["rows"]:
        for cell in row["cells"]:
            counts[cell] += 1
    grid["counts"] = counts
    grid["expected"] = sum(counts.values())
    return grid


def _local(moment: dt.datetime, time_zone: str) -> str:
    try:
        return moment.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M %Z")
    except (KeyError, ValueError):
        return ""


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def notable_seizures(
    operation: Operation, *, edition: str, audience: Audience
) -> dict[str, list[dict[str, Any]]]:
    """The largest intercepted results by units and by declared value, with what the edition allows."""
    allowed = rs.current_versions(operation).filter(outcome__in=INTERCEPTED)
    if edition == Report.Edition.PUBLIC:
        allowed = allowed.filter(MAY_LEAVE_OPERATION)
    else:
        allowed = allowed.filter(case_visibility(audience))
    by_units = list(
        GoodsLine.objects.filter(version__in=allowed.values("pk"))
        .values("version_id")
        .annotate(units=Sum("quantity"))
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


def _sealed(version: Any, audience: Audience) -> dict[str, str]:
    """References, notes and names stay national (results.selectors.may_see_sealed): they appear
    only in a restricted edition built for the result's own administration."""
    if not audience.sees_nominal(version.result.administration_id):
        return {field: "" for field in rs.SEALED_FIELDS}
    return record.reveal(version)


def _seizure(version: Any, *, restricted: bool, audience: Audience) -> dict[str, Any]:
    result: Result = version.result
    lines = list(version.lines.all())
    item: dict[str, Any] = {
        "entry_point": result.entry_point.name,
        "administration": result.administration.name,
        "inspected_at_utc": _utc(version.inspected_at),
        "inspected_at_local": _local(version.inspected_at, result.entry_point.time_zone),
        "origin": version.origin_country,
        "origin_name": country_name(version.origin_country, "en"),
        "outcome": version.get_outcome_display(),
        "units": number(sum((line.quantity for line in lines), Decimal(0))),
        "categories": sorted({line.category.name for line in lines}),
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


def communications(operation: Operation) -> dict[str, Any]:
    """Messages by kind and acknowledgement times, if the messaging app has its tables."""
    try:
        from messaging.models import Acknowledgement, Message
    except ImportError:
        return {"available": False}
    kinds = dict(Message.Kind.choices)
    messages = Message.objects.filter(room__operation=operation, withdrawn_at__isnull=True)
    by_kind = [
        {"key": r["kind"], "label": kinds.get(r["kind"], r["kind"]), "count": r["count"]}
        for r in messages.values("kind").annotate(count=Count("id")).order_by("kind")
    ]
    delay = ExpressionWrapper(F("at") - F("message__created_at"), output_field=DurationField())
    acks = (
        Acknowledgement.objects.filter(
            message__in=messages, message__kind__in=[Message.Kind.WARNING, Message.Kind.ALERT]
        )
        .annotate(delay=delay)
        .values("message__kind")
        .annotate(
            count=Count("id"),
            first=Min("delay"),
            last=Max("delay"),
            mean=Avg("delay"),
            messages=Count("message", distinct=True),
        )
        .order_by("message__kind")
    )
    unacknowledged = (
        messages.filter(kind__in=[Message.Kind.WARNING, Message.Kind.ALERT], acknowledgements__isnull=True)
        .values("kind")
        .annotate(count=Count("id"))
    )
    missing = {r["kind"]: r["count"] for r in unacknowledged}
    return {
        "available": True,
        "by_kind": by_kind,
        "total": sum(r["count"] for r in by_kind),
        "acknowledgements": [
            {
                "kind": r["message__kind"],
                "label": kinds.get(r["message__kind"], r["message__kind"]),
                "count": r["count"],
                "messages": r["messages"],
                "fastest": _duration(r["first"]),
                "slowest": _duration(r["last"]),
                "average": _duration(r["mean"]),
                "unacknowledged": missing.get(r["message__kind"], 0),
            }
            for r in acks
        ],
        "unacknowledged": sum(missing.values()),
    }


def _duration(value: dt.timedelta | None) -> str:
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def record_state(operation: Operation) -> dict[str, Any]:
    """The inputs' state: enough to tell whether the record changed since the report was made."""
    head = chain_head(rs.results_chain_name(operation.pk))
    counts = Result.objects.filter(operation=operation).aggregate(results=Count("id"))
    versions = rs.current_versions(operation).aggregate(versions=Count("id"), last=Max("chain_seq"))
    lines = GoodsLine.objects.filter(version__result__operation=operation, version__is_current=True).count()
    board = BoardSequence.objects.filter(operation=operation).values_list("seq", flat=True).first() or 0
    return {
        "chain": rs.results_chain_name(operation.pk),
        "chain_seq": head.seq,
        "chain_head": head.hash,
        "results": counts["results"],
        "current_versions": versions["versions"],
        "goods_lines": lines,
        "nil_returns": NilReturn.objects.filter(operation=operation).count(),
        "board_seq": board,
        "operation_state": operation.state,
    }


def verify_results_chain(operation: Operation, *, snapshot_id: str | None = None) -> dict[str, Any]:
    """The results chain check; ``first_broken`` None means every link matches its record."""
    return record.verify_chain(operation, snapshot_id=snapshot_id)


# --- the whole -----------------------------------------------------------------------------------


def _tables(data: dict[str, Any]) -> list[Table]:
    b = data["breakdowns"]
    share_rows = lambda rows: [[r["label"], r["units"], r["cases"], r["share"]] for r in rows]  # noqa: E731
    label = _column("label", "")
    tables = [
        _table(
            "categories",
            "Units by commodity category",
            [{**label, "label": "Category"}, UNITS, CASES, SHARE],
            share_rows(b["categories"]),
            "bar",
        ),
        _table(
            "origins",
            "Cases and units by origin country",
            [_column("code", "ISO"), {**label, "label": "Country"}, CASES, UNITS, SHARE],
            [[r["key"], r["label"], r["cases"], r["units"], r["share"]] for r in b["origins"]],
            "bar",
        ),
        _table(
            "administrations",
            "By administration",
            [{**label, "label": "Administration"}, UNITS, CASES, SHARE],
            share_rows(b["administrations"]),
            "bar",
        ),
        _table(
            "entry_points",
            "By entry point",
            [{**label, "label": "Entry point"}, UNITS, CASES, SHARE],
            share_rows(b["entry_points"]),
            "bar",
        ),
        _table(
            "days",
            "By day (UTC)",
            [{**label, "label": "Day"}, UNITS, CASES],
            [[r["label"], r["units"], r["cases"]] for r in b["days"]],
            "line",
        ),
        _table(
            "transport_modes",
            "By transport mode",
            [{**label, "label": "Transport mode"}, UNITS, CASES, SHARE],
            share_rows(b["transport_modes"]),
            "bar",
        ),
        _table(
            "detection_methods",
            "By detection method",
            [{**label, "label": "Detection method"}, UNITS, CASES, SHARE],
            share_rows(b["detection_methods"]),
            "bar",
        ),
        _table(
            "seized_pending",
            "Seized and pending a decision",
            [{**label, "label": "Outcome"}, UNITS, CASES, SHARE],
            share_rows(b["seized_pending"]),
            "pie",
        ),
        _table(
            "units_by_unit",
            "Intercepted quantities by unit",
            [{**label, "label": "Unit"}, UNITS, CASES],
            [[r["key"], r["units"], r["cases"]] for r in b["units_by_unit"]],
        ),
        _table(
            "outcomes",
            "Outcomes of all inspections reported",
            [{**label, "label": "Outcome"}, CASES],
            [[r["label"], r["cases"]] for r in b["outcomes"]],
        ),
    ]
    grid = data["compliance"]
    tables.append(
        _table(
            "compliance",
            "Reporting compliance (results, nil return, or not reported)",
            [_column("entry_point", "Entry point"), *[_column(day, day) for day in grid["days"]]],
            [[row["name"], *row["cells"]] for row in grid["rows"]],
        )
    )
    comms = data["communications"]
    if comms.get("available"):
        tables.append(
            _table(
                "communications",
                "Messages by kind",
                [_column("label", "Kind"), _column("count", "Messages", "int")],
                [[r["label"], r["count"]] for r in comms["by_kind"]],
            )
        )
        tables.append(
            _table(
                "acknowledgements",
                "Acknowledgements of warnings and alerts",
                [
                    _column("label", "Kind"),
                    _column("messages", "Acknowledged messages", "int"),
                    _column("count", "Acknowledgements", "int"),
                    _column("fastest", "Fastest"),
                    _column("average", "Average"),
                    _column("slowest", "Slowest"),
                    _column("unacknowledged", "Not acknowledged", "int"),
                ],
                [
                    [
                        r["label"],
                        r["messages"],
                        r["count"],
                        r["fastest"],
                        r["average"],
                        r["slowest"],
                        r["unacknowledged"],
                    ]
                    for r in comms["acknowledgements"]
                ],
            )
        )
    return tables


@contextmanager
def snapshot() -> Iterator[str | None]:
    """One read-only REPEATABLE READ transaction on PostgreSQL, so every figure and the chain head
    come from the same state of the record (inside a caller's transaction, that transaction).

    Yields the id of the exported snapshot on PostgreSQL (another connection can read the very same
    state with it), else None.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        yield None
        return
    with transaction.atomic():
        if connection.vendor != "postgresql":
            yield None
            return
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            yield cursor.fetchone()[0]


class ChainCheck(threading.Thread):
    """The chain check in a second connection on the report's snapshot, beside the aggregation.

    It reads every goods line in Python while the aggregates wait on PostgreSQL, so the two overlap.
    """

    def __init__(self, operation: Operation, snapshot_id: str) -> None:
        super().__init__(name="report-chain-check", daemon=True)
        self.operation, self.snapshot_id = operation, snapshot_id
        self.verdict: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.verdict = record.on_snapshot(
                self.snapshot_id,
                lambda: verify_results_chain(self.operation, snapshot_id=self.snapshot_id),
            )
        except BaseException as exc:  # handed to the report's thread, which raises it
            self.error = exc

    def result(self) -> dict[str, Any]:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.verdict is not None
        return self.verdict


def build(
    operation: Operation, *, edition: str, audience: Audience, kind: str, progress: Progress | None = None
) -> dict[str, Any]:
    """Everything the report says, read in one snapshot so that figures and chain head agree."""
    step = progress or (lambda percent, stage: None)
    started = time.monotonic()
    step(
        10, gettext_noop("Reading the record and checking the chain")
    )  # progress is written outside the snapshot
    with snapshot() as snapshot_id:
        check = ChainCheck(operation, snapshot_id) if snapshot_id else None
        if check is not None:
            check.start()
        try:
            state = record_state(operation)
            totals, breakdowns = _breakdowns(operation)
            data: dict[str, Any] = {
                "report": {
                    "edition": edition,
                    "kind": kind,
                    "generated_at": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
                    "audience": audience.role if edition == Report.Edition.RESTRICTED else "public",
                },
                "operation": operation_facts(operation),
                "totals": totals,
                "headline": headline(totals, breakdowns),
                "breakdowns": breakdowns,
                "compliance": compliance(operation),
                "notable": notable_seizures(operation, edition=edition, audience=audience),
                "communications": communications(operation),
            }
            verdict = check.result() if check is not None else verify_results_chain(operation)
            data["integrity"] = {**state, "verify": verdict}
        finally:  # never leave the snapshot while the check may still be importing it
            if check is not None:
                check.join()
    data["report"]["read_seconds"] = round(time.monotonic() - started, 2)
    step(50, gettext_noop("Record read and chain checked"))
    data["tables"] = _tables(data)
    return data


def case_rows(
    operation: Operation, *, audience: Audience, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """Restricted edition only: one row per visible current result (the first ``limit`` by time)."""
    versions = rs.current_versions(operation).filter(case_visibility(audience))
    if limit is not None:  # pick the few first, then sum their lines: no GROUP BY over the whole record
        first = list(versions.order_by("inspected_at", "pk").values_list("pk", flat=True)[:limit])
        versions = ResultVersion.objects.filter(pk__in=first)
    versions = (
        versions.select_related("result__entry_point", "result__administration")
        .annotate(units=Sum("lines__quantity"), line_count=Count("lines"))
        .order_by("inspected_at", "pk")
    )
    for v in versions.iterator(chunk_size=2000):
        result = v.result
        row = {
            "case": str(result.uuid),
            "version": v.number,
            "entry_point": result.entry_point.name,
            "administration": result.administration.country,
            "inspected_at_utc": _utc(v.inspected_at),
            "inspected_at_local": _local(v.inspected_at, result.entry_point.time_zone),
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
            "units": number(v.units),
            "estimated_value": number(v.estimated_value) if v.estimated_value is not None else "",
            "currency": v.currency,
            "handling_code": v.handling_code,
            "validation": result.validation,
            "late": result.late,
            **_sealed(v, audience),
        }
        yield row


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
    "estimated_value",
    "currency",
    "handling_code",
    "validation",
    "late",
    "reference",
    "notes",
    "parties",
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


def goods_line_rows(operation: Operation, *, audience: Audience | None) -> Iterator[dict[str, Any]]:
    """One row per goods line of the current versions, flat, with ISO codes.

    ``audience=None`` is the CEN simplified-form export: intercepted results whose handling code
    lets them leave the operation (H0), and nothing nominal (no references, parties, brands, notes).
    """
    versions = rs.current_versions(operation)
    if audience is None:
        versions = versions.filter(MAY_LEAVE_OPERATION, outcome__in=INTERCEPTED)
    else:
        versions = versions.filter(case_visibility(audience))
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
