"""What a board does with a delta frame: the reference board.js follows, run by the tests only.

``results.events.board_delta`` makes the frame a board consumer sends; ``apply_delta`` applies it
to the board a client shows, as ``frontend/static/frontend/js/board.js`` does. The board tests check
that snapshot + deltas equals a fresh snapshot, so a change to the frame that board.js would
misapply fails here first. Units, kilograms and litres stay apart and add as exact decimals.
"""

from __future__ import annotations

from typing import Any

from cencomm.formats import exact, number
from results.board import MEASURES, ordering, with_share
from results.events import LATEST_LIMIT, LINE_KEYED


def _merge(
    rows: list[dict[str, Any]], changes: list[dict[str, Any]], *, by_key: bool
) -> list[dict[str, Any]]:
    table = {r["key"]: dict(r) for r in rows}
    for change in changes:
        row = table.setdefault(
            change["key"],
            {"key": change["key"], "label": change["label"], **dict.fromkeys(MEASURES, 0), "cases": 0},
        )
        for measure in MEASURES:
            row[measure] = number(exact(row[measure]) + exact(change[measure]))
        row["cases"] += change["cases"]
        row["label"] = change["label"]
    kept = [r for r in table.values() if r["cases"] or any(r[m] for m in MEASURES)]
    if by_key:
        return sorted(kept, key=lambda r: r["key"])
    return sorted(kept, key=ordering)


def apply_delta(snapshot: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
    """The board after ``frame``: what board.js does to the figures it shows."""
    board = dict(snapshot)
    board["seq"] = frame["seq"]
    if "totals" in frame:
        totals = dict(board["totals"])
        for measure in MEASURES:
            totals[measure] = number(exact(totals[measure]) + exact(frame["totals"][measure]))
        totals["cases"] += frame["totals"]["cases"]
        totals["results"] += frame["totals"]["results"]
        board["totals"] = totals
        for name in LINE_KEYED:
            board[name] = _merge(board.get(name, []), frame.get(name, []), by_key=name == "days")
        categories = [dict(r) for r in board["categories"]]
        board["categories"] = with_share(categories, sum(exact(r["units"]) for r in categories))
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
