"""The report's content, from one consistent read of the operation's record: the composition.

``build`` reads everything in one snapshot (``reports.snapshot``) so that figures and chain head
agree: the figures (``reports.figures``, the board's own definitions: current versions, voided ones
left out, units of measure kept apart), the case-level material the edition allows
(``reports.cases``), and the tables every format shows (``reports.tables``). The result is plain
JSON-ready data: the JSON format writes it as it is, the other formats render it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop

from operations.models import Operation
from operations.selectors import administrations_with_entry_points, operation_entry_points
from reports import cases, figures, rightholders, tables
from reports.models import Report
from reports.selectors import Audience
from reports.snapshot import ChainCheck, snapshot, verify_results_chain

Progress = Callable[[int, str], None]

# The case-level exports, for the writers (reports.services).
CASE_COLUMNS, LINE_COLUMNS = cases.CASE_COLUMNS, cases.LINE_COLUMNS
case_rows, goods_line_rows = cases.case_rows, cases.goods_line_rows


def operation_facts(operation: Operation) -> dict[str, Any]:
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
            ],
        }
        for a, entry_points in administrations_with_entry_points(operation)
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
        "entry_point_count": operation_entry_points(operation).count(),
        "participants": operation.memberships.count(),
    }


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
            state = figures.record_state(operation)
            totals, breakdowns = figures.breakdowns(operation)
            data: dict[str, Any] = {
                "report": {
                    "edition": edition,
                    "kind": kind,
                    "generated_at": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
                    "audience": audience.role if edition == Report.Edition.RESTRICTED else "public",
                },
                "operation": operation_facts(operation),
                "totals": totals,
                "headline": figures.headline(totals, breakdowns),
                "breakdowns": breakdowns,
                "compliance": figures.compliance(operation),
                "notable": cases.notable_seizures(operation, edition=edition, audience=audience),
                "communications": figures.communications(operation),
            }
            if edition == Report.Edition.RESTRICTED:  # brands and the companies behind them
                data["breakdowns"]["brands"] = rightholders.brand_breakdown(operation, totals["units"])
                data["right_holders"] = rightholders.right_holders_to_notify(operation, audience)
            verdict = check.result() if check is not None else verify_results_chain(operation)
            data["integrity"] = {**state, "verify": verdict}
        finally:  # never leave the snapshot while the check may still be importing it
            if check is not None:
                check.join()
    data["report"]["read_seconds"] = round(time.monotonic() - started, 2)
    step(50, gettext_noop("Record read and chain checked"))
    data["tables"] = tables.tables(data)
    return data
