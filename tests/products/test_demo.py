"""The demo's right holders and products: valid GTINs, some demo results carry them, and the
article's figures do not move."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.demo import demo_setup
from operations.models import Membership
from products.demo import RIGHT_HOLDERS, demo_gtins
from products.models import Product, RightHolderMember, validate_gtin
from results.board import board_snapshot
from results.models import GoodsLine


def test_every_demo_gtin_is_valid_and_of_every_length() -> None:
    gtins = [g for codes in demo_gtins().values() for g in codes]
    for gtin in gtins:
        validate_gtin(gtin)
    assert {len(g) for g in gtins} == {8, 12, 13, 14}
    assert all(g.startswith(("2", "12")) for g in gtins)  # GS1 restricted circulation: never a real item


@pytest.mark.slow
def test_demo_has_right_holders_outside_the_operation_and_results_that_name_their_products(
    db: None, settings: Any, tmp_path: Any
) -> None:
    settings.VAR_DIR = tmp_path
    operation, path = demo_setup()
    board = board_snapshot(operation)
    assert board["totals"]["units"] == 3_888_013 and board["totals"]["cases"] == 130
    brands = {r["key"]: r["units"] for r in board["brands"]}
    assert set(brands) == {
        "Veridia · Veridia Pharma AG",
        "Oakline · Oakline Leather Goods Ltd",
        "Kitebright · Kitebright Toys SA",
    }
    assert GoodsLine.objects.exclude(gtin="").exists()
    users = {u["username"]: u for u in json.loads(path.read_text())["users"]}
    for holder in RIGHT_HOLDERS:
        record = users[holder["username"]]
        assert record["role"] == "right_holder" and "api_token" not in record and record["totp_secret"]
        member = RightHolderMember.objects.get(user__username=holder["username"])
        assert member.right_holder.name == holder["name"]
        assert not Membership.objects.filter(user=member.user).exists()
    counts = Product.objects.count(), board["brands"]
    demo_setup()
    assert (Product.objects.count(), board_snapshot(operation)["brands"]) == counts
