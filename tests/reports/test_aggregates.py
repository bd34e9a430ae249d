"""The report's two-statement aggregates equal the board's selectors, breakdown by breakdown."""

from __future__ import annotations

import random

import pytest

from reports.figures import breakdowns
from results import board as rs
from tests.reports.conftest import post

pytestmark = pytest.mark.django_db

BOARD = {
    "categories": rs.units_by_category,
    "origins": rs.by_origin,
    "administrations": rs.by_administration,
    "entry_points": rs.by_entry_point,
    "days": rs.by_day,
    "transport_modes": rs.by_transport_mode,
    "detection_methods": rs.by_detection_method,
}


def _figures(rows):
    return sorted((str(r["key"]), r["units"], r["kg"], r["litres"], r["cases"]) for r in rows)


def test_report_aggregates_equal_the_board(seeded):
    rnd = random.Random(7)
    categories = ["medicines", "accessories", "games-toys", "electronics", "foodstuffs", "other"]
    for n in range(25):
        who, where = rnd.choice([(seeded.officer_al, seeded.durres), (seeded.officer_it, seeded.bari)])
        post(
            seeded,
            who,
            where,
            f"rnd-{n}",
            origin=rnd.choice(["CN", "TR", "AE"]),
            hours_ago=rnd.randint(1, 47),
            outcome=rnd.choice(["seized", "detained", "released", "no_irregularity"]),
            lines=[(rnd.choice(categories), rnd.randint(1, 900), "x") for _ in range(rnd.randint(1, 4))],
            transport_mode=rnd.choice(["sea_container", "road_vehicle"]),
            detection_method=rnd.choice(["dog", "scanner"]),
        )
    totals, found = breakdowns(seeded.op)
    board = rs.board_totals(seeded.op)
    assert (totals["units"], totals["cases"], totals["results"]) == (
        board["units"],
        board["cases"],
        board["results"],
    )
    for name, selector in BOARD.items():
        assert _figures(found[name]) == _figures(selector(seeded.op)), name
    assert sum(r["units"] for r in found["seized_pending"]) == board["units"]
