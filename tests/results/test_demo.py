"""The Balkan Gate demo reproduces the article's figures, and seeding again changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from hub.demo import demo_setup
from results.board import board_snapshot
from results.chain import results_chain_verify
from results.models import NilReturn, Result, ResultVersion


@pytest.mark.slow
def test_demo_reproduces_published_totals_and_is_idempotent(db: None, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    operation, _ = demo_setup()
    board = board_snapshot(operation)
    assert board["totals"]["units"] == 3_888_013 and board["totals"]["cases"] == 130
    units = {c["label"]: c["units"] for c in board["categories"]}
    assert units["Medicines"] == 3_369_544
    assert units["Accessories (bags, belts, watches, jewellery)"] > 180_000
    assert 86_000 <= units["Games and toys"] <= 88_000
    assert units["Electronic appliances"] == 77_840
    assert units["Foodstuffs and beverages"] == 75_660
    cases = {o["key"]: o["cases"] for o in board["origins"]}
    assert cases["CN"] == 81 and cases["TR"] == 19
    assert len(board["entry_points"]) == 10
    assert NilReturn.objects.exists()
    assert any("none" in row["cells"][:3] for row in board["compliance"]["rows"])
    counts = (Result.objects.count(), ResultVersion.objects.count(), NilReturn.objects.count())

    demo_setup()
    assert (Result.objects.count(), ResultVersion.objects.count(), NilReturn.objects.count()) == counts
    assert board_snapshot(operation)["totals"] == board["totals"]
    assert results_chain_verify(operation.pk) is None
