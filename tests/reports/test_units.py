"""Units that mean something (issue 10), on SQLite and PostgreSQL alike (run with DATABASE_URL):
pieces and packs are the headline units, kilograms and litres stand beside them and are never added
to them, and every sum is an exact decimal in the board, the API's board and every report format
(three posts of 0.1 kg are 0.3 kg, never 0.30000000000000004)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from results.board import board_snapshot
from results.services import LineInput, ResultInput, result_post
from tests.conftest import verified_client
from tests.reports.conftest import generate
from tests.reports.helpers import as_text, cen_rows, xlsx_sheets, zip_csvs
from tests.results.conftest import api_post, body
from tests.world import membership

pytestmark = pytest.mark.django_db

FLOAT_NOISE = ("0.30000000000000004", "0.30000000000000004", "3888013.3000000003", "0.6000000000000001")


def _post(world: SimpleNamespace, lines: list[tuple[str, str, str]], handling_code: str = "H0") -> None:
    content = ResultInput(
        inspected_at=timezone.now() - dt.timedelta(hours=3),
        origin="CN",
        outcome="seized",
        lines=tuple(LineInput(category=c, quantity=Decimal(q), unit=u) for c, q, u in lines),
        handling_code=handling_code,
    )
    result_post(
        membership=membership(world, world.officer_al),
        entry_point_id=world.durres.pk,
        client_id=str(uuid.uuid4()),
        content=content,
    )


@pytest.fixture
def mixed(world: SimpleNamespace) -> SimpleNamespace:
    """1,200 pieces and 300 packs of medicines, 3 x 0.1 kg of foodstuffs, 0.2 + 0.4 litres of medicines."""
    _post(world, [("medicines", "1200", "pieces"), ("medicines", "300", "packs")])
    for _ in range(3):
        _post(world, [("foodstuffs", "0.1", "kg")])
    _post(world, [("medicines", "0.2", "litres")])
    _post(world, [("medicines", "0.4", "litres")])
    return world


def test_the_board_gives_totals_per_unit_exactly(mixed: SimpleNamespace) -> None:
    board = board_snapshot(mixed.op)

    def exact(row: dict[str, Any]) -> tuple[Decimal, ...]:
        return tuple(Decimal(str(row[m])) for m in ("units", "kg", "litres"))

    assert exact(board["totals"]) == (Decimal(1500), Decimal("0.3"), Decimal("0.6"))
    assert (board["totals"]["cases"], board["totals"]["results"]) == (6, 6)
    rows = {c["label"]: c for c in board["categories"]}
    assert exact(rows["Medicines"]) == (Decimal(1500), 0, Decimal("0.6"))
    assert exact(rows["Foodstuffs and beverages"]) == (0, Decimal("0.3"), 0)
    assert rows["Medicines"]["share"] == 1  # a share is a share of units: kg and litres have none
    api = verified_client(mixed.coordinator).get("/api/v1/operations/TEST-OP/board")
    text = api.content.decode()
    assert not any(noise in text for noise in FLOAT_NOISE)
    assert api.json()["totals"] == {"units": 1500, "kg": 0.3, "litres": 0.6, "cases": 6, "results": 6}


def test_the_json_report_is_exact_and_never_adds_units(mixed: SimpleNamespace) -> None:
    raw = generate(mixed, mixed.coordinator, "public", "json").decode()
    assert not any(noise in raw for noise in FLOAT_NOISE)
    data = json.loads(raw)
    assert (data["totals"]["units"], data["totals"]["kg"], data["totals"]["litres"]) == (1500, 0.3, 0.6)
    assert "1,500 units of goods" in data["headline"][0]
    assert "0.3 kg and 0.6 litres besides" in data["headline"][1]
    assert "1,500.9" not in raw and "1500.9" not in raw  # never pieces + kg + litres


@pytest.mark.parametrize("fmt", ["html", "pdf", "csv", "xlsx"])
def test_every_format_carries_the_exact_per_unit_totals(mixed: SimpleNamespace, fmt: str) -> None:
    text = " ".join(as_text(fmt, generate(mixed, mixed.coordinator, "restricted", fmt)).split())
    assert not any(noise in text for noise in FLOAT_NOISE), fmt
    assert "1,500" in text or "1500" in text
    assert "0.3" in text and "0.6" in text
    assert "1,500.9" not in text and "1500.9" not in text


def test_the_csv_and_xlsx_tables_keep_a_column_per_unit(mixed: SimpleNamespace) -> None:
    csvs = zip_csvs(generate(mixed, mixed.coordinator, "restricted", "csv"))
    header, *rows = next(v for k, v in csvs.items() if k.startswith("categories"))
    assert {"units", "kilograms", "litres"} <= {h.lower() for h in header}
    sheets = xlsx_sheets(generate(mixed, mixed.coordinator, "restricted", "xlsx"))
    header, *rows = sheets["categories"]
    columns = [str(h).lower() for h in header]
    food = next(r for r in rows if r[0] == "Foodstuffs and beverages")
    assert Decimal(str(food[columns.index("kilograms")])) == Decimal("0.3")


def test_the_cen_export_gives_each_line_in_its_own_unit(mixed: SimpleNamespace) -> None:
    rows = cen_rows(generate(mixed, mixed.coordinator, "restricted", "cen"))
    assert sorted((r["quantity"], r["unit"]) for r in rows) == sorted(
        [
            ("1200", "pieces"),
            ("300", "packs"),
            ("0.1", "kg"),
            ("0.1", "kg"),
            ("0.1", "kg"),
            ("0.2", "litres"),
            ("0.4", "litres"),
        ]
    )


@pytest.mark.parametrize(
    ("quantity", "unit", "status"),
    [
        ("2.5", "pieces", 422),
        ("2.5", "packs", 422),
        ("2.5", "kg", 201),
        ("0.25", "litres", 201),
        ("3", "pieces", 201),
    ],
)
def test_pieces_and_packs_are_whole(world: SimpleNamespace, quantity: str, unit: str, status: int) -> None:
    response = api_post(
        verified_client(world.officer_al),
        "/operations/TEST-OP/results",
        body(world, lines=[{"category": "medicines", "quantity": quantity, "unit": unit}]),
    )
    assert response.status_code == status, response.json()
    if status == 422:
        assert "lines.0.quantity" in response.json()["errors"]
