"""The board's brand breakdown follows its deltas: a board that applies the live events of posts,
corrections and voids shows the same brands as a fresh snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from cencomm.live import capture_live_events
from products.models import RightHolder
from products.services import ProductInput, product_create
from results import events, services
from results.board import BoardFilter, board_snapshot
from tests.results.board_reference import apply_delta
from tests.world import membership

PILL, BAG = "2001234000017", "2009876000013"


def _content(*lines: tuple[str, int, str]) -> services.ResultInput:
    return services.ResultInput(
        inspected_at=timezone.now() - dt.timedelta(hours=2),
        origin="CN",
        outcome="seized",
        lines=tuple(services.LineInput(category=c, quantity=Decimal(q), gtin=g) for c, q, g in lines),
    )


def _brands(board: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {r["key"]: (r["units"], r["cases"]) for r in board["brands"]}


def test_brand_breakdown_after_deltas_equals_a_fresh_snapshot(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    holder = RightHolder.objects.create(name="Veridia Pharma AG")
    product_create(
        right_holder=holder,
        content=ProductInput(
            brand="Veridia", name="Solvantil", category="medicines", gtins=(PILL,), contact_name="Desk"
        ),
        actor=None,
    )
    oakline = RightHolder.objects.create(name="Oakline Leather Goods Ltd")
    product_create(
        right_holder=oakline,
        content=ProductInput(
            brand="Oakline", name="Tote", category="accessories", gtins=(BAG,), contact_name="Desk"
        ),
        actor=None,
    )
    officer, coordinator = membership(world, world.officer_al), membership(world, world.coordinator)
    medicines = world.op.categories.get(category__code="medicines").category_id
    filters = [BoardFilter(), BoardFilter(category_id=medicines)]
    boards = [board_snapshot(world.op, f) for f in filters]

    def step(action: Any) -> None:
        nonlocal boards
        with capture_live_events() as published, django_capture_on_commit_callbacks(execute=True):
            action()
        for _, event in published:
            frames = [events.board_delta(event, f) for f in filters]
            boards = [
                board_snapshot(world.op, f) if frame is None else apply_delta(board, frame)
                for board, frame, f in zip(boards, frames, filters, strict=True)
            ]

    result: list[Any] = []
    step(
        lambda: result.append(
            services.result_post(
                membership=officer,
                entry_point_id=world.durres.pk,
                client_id="one",
                content=_content(("medicines", 40, PILL), ("accessories", 3, BAG), ("accessories", 2, "")),
            )[0]
        )
    )
    assert _brands(boards[0]) == {
        "Veridia · Veridia Pharma AG": (40, 1),
        "Oakline · Oakline Leather Goods Ltd": (3, 1),
    }
    step(
        lambda: services.result_correct(
            membership=officer,
            result_uuid=result[0].uuid,
            reason="the bags were not Oakline's",
            content=_content(("medicines", 45, PILL), ("accessories", 5, "")),
        )
    )
    assert _brands(boards[0]) == {"Veridia · Veridia Pharma AG": (45, 1)}
    for board, flt in zip(boards, filters, strict=True):
        assert _brands(board) == _brands(board_snapshot(world.op, flt))
    step(lambda: services.result_void(membership=coordinator, result_uuid=result[0].uuid, reason="duplicate"))
    assert _brands(boards[0]) == {} == _brands(board_snapshot(world.op))
