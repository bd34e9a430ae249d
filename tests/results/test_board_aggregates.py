"""The board's figures equal a direct SQL computation after any mix of posts, corrections,
reclassifications and nil returns, and a board that applies the published deltas ends where a
fresh snapshot is."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cencomm.errors import Refused
from cencomm.live import capture_live_events
from cencomm.principal import Principal
from operations.models import CommodityCategory
from operations.selectors import access_membership
from results import events, services
from results.models import Result
from results.board import NO_FILTER, BoardFilter, board_snapshot
from tests.results.board_reference import apply_delta

CATEGORIES = ["medicines", "accessories", "games-toys", "electronics", "foodstuffs", "other"]
OUTCOMES = ["seized", "detained", "released", "no_irregularity"]
ORIGINS = ["CN", "TR", "AE", "IN"]

# Pieces and packs are whole; kilograms and litres may be fractions (and are never added to pieces).
quantities = st.one_of(
    st.tuples(st.integers(1, 100_000), st.sampled_from(["pieces", "packs"])),
    st.tuples(st.sampled_from(["0.5", "2.25", "1000.125"]), st.sampled_from(["kg", "litres"])),
)
lines = st.lists(st.tuples(st.sampled_from(CATEGORIES), quantities), min_size=1, max_size=3)
post = st.tuples(
    st.just("post"),
    st.integers(0, 1),
    st.integers(0, 47),
    lines,
    st.sampled_from(OUTCOMES),
    st.sampled_from(ORIGINS),
)
correct = st.tuples(
    st.just("correct"),
    st.integers(0, 20),
    st.integers(0, 47),
    lines,
    st.sampled_from(OUTCOMES),
    st.sampled_from(ORIGINS),
)
reclassify = st.tuples(st.just("reclassify"), st.sampled_from(CATEGORIES), st.sampled_from(CATEGORIES))
nil = st.tuples(st.just("nil"), st.integers(0, 1), st.integers(0, 2))
validate = st.tuples(st.just("validate"), st.integers(0, 20), st.sampled_from(["validated", "returned"]))
void = st.tuples(st.just("void"), st.integers(0, 20), st.booleans())
actions = st.lists(st.one_of(post, post, correct, reclassify, nil, validate, void), min_size=1, max_size=8)

SQL = """
SELECT {key},
       SUM(CASE WHEN gl.unit IN ('pieces', 'packs') THEN gl.quantity ELSE 0 END),
       SUM(CASE WHEN gl.unit = 'kg' THEN gl.quantity ELSE 0 END),
       SUM(CASE WHEN gl.unit = 'litres' THEN gl.quantity ELSE 0 END),
       COUNT(DISTINCT v.id)
FROM results_goodsline gl
JOIN results_resultversion v ON v.id = gl.version_id
JOIN results_result r ON r.id = v.result_id
WHERE r.operation_id = %s AND v.is_current AND NOT v.voided
  AND v.outcome IN ('seized', 'detained') {where}
GROUP BY {key}
"""
MILLI = Decimal("0.001")


def _exact(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(MILLI)


def sql_groups(
    operation_id: int, key: str, where: str = "", params: tuple[Any, ...] = ()
) -> dict[Any, tuple[Decimal, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(SQL.format(key=key, where=where), (operation_id, *params))
        return {
            row[0]: (_exact(row[1]), _exact(row[2]), _exact(row[3]), row[4]) for row in cursor.fetchall()
        }


def board_groups(rows: list[dict[str, Any]]) -> dict[Any, tuple[Decimal, ...]]:
    return {
        r["key"]: (_exact(r["units"]), _exact(r["kg"]), _exact(r["litres"]), r["cases"]) for r in rows
    }


def comparable(board: dict[str, Any]) -> dict[str, Any]:
    """The figures of a board, independent of the order of rows with equal units."""
    figures: dict[str, Any] = {
        "totals": board["totals"],
        "compliance": board["compliance"],
        "latest": [(r["uuid"], r["version"], r["validation"]) for r in board["latest"]],
    }
    for name in ("categories", *events.DIMENSIONS):
        figures[name] = board_groups(board[name])
    figures["shares"] = {r["key"]: round(r["share"], 4) for r in board["categories"]}
    return figures


def run(world: Any, action: tuple[Any, ...], uuids: list[str]) -> None:
    coordinator = access_membership(Principal(world.coordinator), operation_code="TEST-OP")
    kind = action[0]
    if kind in ("post", "correct"):
        _, target, hours, goods, outcome, origin = action
        content = services.ResultInput(
            inspected_at=timezone.now() - dt.timedelta(hours=hours, minutes=5),
            origin=origin,
            outcome=outcome,
            lines=tuple(
                services.LineInput(category=c, quantity=Decimal(str(q)), unit=unit) for c, (q, unit) in goods
            ),
        )
        if kind == "post":
            entry_point = (world.durres, world.bari)[target]
            result, _ = services.result_post(
                membership=coordinator,
                entry_point_id=entry_point.pk,
                client_id=str(uuid.uuid4()),
                content=content,
            )
            uuids.append(str(result.uuid))
        elif uuids:
            services.result_correct(
                membership=coordinator,
                result_uuid=uuids[target % len(uuids)],
                content=content,
                reason="recount",
            )
    elif kind == "reclassify" and action[1] != action[2]:
        services.goods_reclassify(
            membership=coordinator, from_category=action[1], to_category=action[2], reason="test"
        )
    elif kind == "validate":
        durres = list(Result.objects.filter(operation=world.op, entry_point=world.durres).order_by("pk"))
        if durres:
            ncp = access_membership(Principal(world.ncp_al), operation_code="TEST-OP")
            services.result_validate(
                membership=ncp,
                result_uuid=durres[action[1] % len(durres)].uuid,
                decision=action[2],
                comment="checked",
            )
    elif kind == "void" and uuids:
        uuid_ = uuids[action[1] % len(uuids)]
        try:  # void, or restore: whichever the result is not already
            (services.result_void if action[2] else services.result_restore)(
                membership=coordinator, result_uuid=uuid_, reason="duplicate"
            )
        except Refused:
            pass  # voided already / not voided: refused, nothing written
    elif kind == "nil":
        entry_point = (world.durres, world.bari)[action[1]]
        day = timezone.now().astimezone(ZoneInfo(entry_point.time_zone)).date() - dt.timedelta(days=action[2])
        try:
            services.nil_return_post(membership=coordinator, entry_point_id=entry_point.pk, day=day)
        except Refused:
            pass  # the day has a result: refused, nothing written


def follow(
    board: dict[str, Any], published: list[tuple[str, dict[str, Any]]], flt: BoardFilter, operation: Any
) -> dict[str, Any]:
    """What a board consumer does with the events: apply deltas, or re-read the snapshot."""
    for _, event in published:
        if event["seq"] <= board["seq"]:
            continue
        frame = events.board_delta(event, flt) if event["seq"] == board["seq"] + 1 else None
        board = board_snapshot(operation, flt) if frame is None else apply_delta(board, frame)
    return board


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=actions)
def test_board_equals_database_after_random_changes(
    world: Any, django_capture_on_commit_callbacks: Any, steps: list[tuple[Any, ...]]
) -> None:
    op = world.op
    medicines = CommodityCategory.objects.get(code="medicines").pk
    filters = [
        NO_FILTER,
        BoardFilter(category_id=medicines),
        BoardFilter(entry_point_id=world.durres.pk),
        BoardFilter(administration_id=world.it.pk, day=timezone.now().astimezone(dt.UTC).date()),
    ]
    with transaction.atomic():
        boards = [board_snapshot(op, f) for f in filters]
        uuids: list[str] = []
        for action in steps:
            with capture_live_events() as published, django_capture_on_commit_callbacks(execute=True):
                run(world, action, uuids)
            boards = [follow(b, published, f, op) for b, f in zip(boards, filters, strict=True)]

        fresh = board_snapshot(op)
        counted = Result.objects.filter(operation=op, versions__is_current=True, versions__voided=False)
        assert fresh["totals"]["results"] == counted.count()  # a voided result counts nowhere
        assert board_groups(fresh["categories"]) == sql_groups(op.pk, "gl.category_id")
        assert board_groups(fresh["origins"]) == sql_groups(op.pk, "v.origin_country")
        assert board_groups(fresh["entry_points"]) == sql_groups(op.pk, "r.entry_point_id")
        assert board_groups(fresh["administrations"]) == sql_groups(op.pk, "r.administration_id")
        zero = Decimal("0.000")
        totals = sql_groups(op.pk, "r.operation_id").get(op.pk, (zero, zero, zero, 0))
        assert board_groups([{"key": op.pk, **fresh["totals"]}])[op.pk] == totals
        assert board_groups(board_snapshot(op, filters[1])["origins"]) == sql_groups(
            op.pk, "v.origin_country", "AND gl.category_id = %s", (medicines,)
        )

        for board, flt in zip(boards, filters, strict=True):
            assert comparable(board) == comparable(board_snapshot(op, flt)), flt
        transaction.set_rollback(True)
