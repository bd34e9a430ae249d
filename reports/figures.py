"""The report's figures: totals and breakdowns per unit of measure, the headline, reporting
compliance, communications, and the state of the record they were read from.

Figures count what the board counts (``results.board``): current versions, voided ones left out,
intercepted outcomes only, and units (pieces and packs), kilograms and litres never added together.
A share is a share of units. Aggregates are the same in both editions.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max

from cencomm.chain import chain_head
from messaging.acknowledgements import communication_stats
from messaging.models import Message
from operations.countries import country_name
from operations.models import Operation
from operations.selectors import category_labels, operation_administrations, operation_entry_points
from reports import aggregates
from reports.formatting import duration, enumerate_items, fmt, pct
from results.board import (
    MEASURE_OF,
    MEASURES,
    compliance_grid,
    counted_versions,
    current_versions,
    with_share,
)
from results.chain import results_chain_name
from results.models import (
    BoardSequence,
    DetectionMethod,
    GoodsLine,
    NilReturn,
    Outcome,
    Result,
    TransportMode,
)

MAX_SENTENCE_ITEMS = 5
SHARED = ("categories", "origins", "administrations", "entry_points", "transport_modes", "detection_methods")


def _labelled(rows: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    for row in rows:
        row["label"] = labels.get(row["key"] or "", row["key"] or "not given")
    return rows


def _named(rows: list[dict[str, Any]], names: dict[int, str]) -> list[dict[str, Any]]:
    for row in rows:
        row["key"] = int(row["key"])
        row["label"] = names.get(row["key"], str(row["key"]))
    return rows


def breakdowns(operation: Operation) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The totals and every breakdown, grouped in the database (see aggregates.py)."""
    found = aggregates.breakdowns(operation.pk)
    total = found.pop("total")[0] if found["total"] else {**dict.fromkeys(MEASURES, 0), "cases": 0}
    outcome_labels = dict(Outcome.choices)
    found["categories"] = _named(found["categories"], category_labels(operation.pk, "en"))
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
        row["quantity"] = row[MEASURE_OF.get(row["key"], "units")]  # one unit per row: its own sum
    for name in (*SHARED, "seized_pending"):
        with_share(found[name], total["units"])
    _labelled(found["transport_modes"], dict(TransportMode.choices))
    _labelled(found["detection_methods"], dict(DetectionMethod.choices))
    _labelled(found["seized_pending"], outcome_labels)
    found["outcomes"] = _labelled(
        [
            {"key": r["outcome"], "cases": r["cases"]}
            for r in counted_versions(operation)
            .values("outcome")
            .annotate(cases=Count("id"))
            .order_by("-cases", "outcome")
        ],
        outcome_labels,
    )
    by_outcome = {r["key"]: r for r in found["seized_pending"]}
    totals = {
        **{measure: total[measure] for measure in MEASURES},
        "cases": total["cases"],
        "results": counted_versions(operation).count(),
        "seized_units": by_outcome.get(Outcome.SEIZED, {}).get("units", 0),
        "pending_units": by_outcome.get(Outcome.DETAINED, {}).get("units", 0),
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
    by_measure = [f"{fmt(totals[m])} {m}" for m in ("kg", "litres") if totals[m]]
    if by_measure:
        sentences.append(f"Goods counted by weight or volume came to {enumerate_items(by_measure)} besides.")
    categories = [c for c in breakdowns["categories"] if c["units"]]
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
            sentences.append("Next came " + enumerate_items(rest) + ".")
    origins = sorted(
        (o for o in breakdowns["origins"] if o["key"]), key=lambda o: (-o["cases"], -o["units"])
    )[:3]
    if origins:
        first, *others = origins
        text = f"{first['label']} was named as the country of origin in {fmt(first['cases'])} of the {fmt(cases)} cases"
        if others:
            text += ", " + enumerate_items([f"{o['label']} in {fmt(o['cases'])}" for o in others])
        sentences.append(text + ".")
    return sentences


def compliance(operation: Operation) -> dict[str, Any]:
    grid = compliance_grid(operation)
    counts = {"results": 0, "nil": 0, "none": 0}
    for row in grid["rows"]:
        for cell in row["cells"]:
            counts[cell] += 1
    grid["counts"] = counts
    grid["expected"] = sum(counts.values())
    return grid


def communications(operation: Operation) -> dict[str, Any]:
    """The messaging figures (``messaging.acknowledgements.communication_stats``), written for the report.

    "Not acknowledged" is messaging's one meaning: an addressee of a warning or alert (not
    withdrawn) who has not acknowledged it, counted per message and addressee.
    """
    stats = communication_stats(operation)
    kinds = dict(Message.Kind.choices)
    return {
        "available": True,
        "by_kind": [
            {"key": kind, "label": kinds.get(kind, kind), "count": count}
            for kind, count in stats["by_kind"].items()
            if count
        ],
        "total": stats["messages"],
        "withdrawn": stats["withdrawn"],
        "acknowledgements": [
            {
                "kind": a["kind"],
                "label": kinds.get(a["kind"], a["kind"]),
                "count": a["given"],
                "messages": a["acknowledged_messages"],
                "addressees": a["addressees"],
                "fastest": duration(a["seconds_min"]),
                "slowest": duration(a["seconds_max"]),
                "average": duration(a["seconds_mean"]),
                "unacknowledged": a["missing"],
            }
            for a in stats["acknowledgements"]
        ],
        "unacknowledged": stats["acknowledgements_missing"],
    }


def record_state(operation: Operation) -> dict[str, Any]:
    """The inputs' state: enough to tell whether the record changed since the report was made."""
    head = chain_head(results_chain_name(operation.pk))
    counts = Result.objects.filter(operation=operation).aggregate(results=Count("id"))
    versions = current_versions(operation).aggregate(versions=Count("id"), last=Max("chain_seq"))
    lines = GoodsLine.objects.filter(version__result__operation=operation, version__is_current=True).count()
    board = BoardSequence.objects.filter(operation=operation).values_list("seq", flat=True).first() or 0
    return {
        "chain": results_chain_name(operation.pk),
        "chain_seq": head.seq,
        "chain_head": head.hash,
        "results": counts["results"],
        "current_versions": versions["versions"],
        "voided": current_versions(operation).filter(voided=True).count(),
        "goods_lines": lines,
        "nil_returns": NilReturn.objects.filter(operation=operation).count(),
        "board_seq": board,
        "operation_state": operation.state,
    }
