"""Every format opens with its own library and carries the same figures."""

from __future__ import annotations

import json

import pytest

from tests.reports.conftest import FORMULA, SCRIPT, generate
from tests.reports.helpers import cen_rows, pdf_text, xlsx_sheets, zip_csvs

pytestmark = pytest.mark.django_db


def test_json_holds_the_board_figures(seeded):
    data = json.loads(generate(seeded, seeded.coordinator, "public", "json"))
    # seized 1,230 + detained 800 + it 40; the released dolls do not count
    assert data["totals"]["units"] == 2070
    assert data["totals"]["cases"] == 3
    assert data["totals"]["seized_units"] == 1270 and data["totals"]["pending_units"] == 800
    categories = {c["label"]: c for c in data["breakdowns"]["categories"]}
    assert categories["Medicines"]["units"] == 2000
    assert (
        data["headline"][1]
        == "Medicines represented the most numerous category, with 2,000 units, about 96.6% of the total."
    )
    origins = {o["key"]: o["cases"] for o in data["breakdowns"]["origins"]}
    assert origins == {"CN": 2, "TR": 1}
    assert {o["key"]: o["cases"] for o in data["breakdowns"]["outcomes"]} == {
        "seized": 2,
        "detained": 1,
        "released": 1,
    }
    assert data["integrity"]["chain_seq"] == 4 and data["integrity"]["verify"]["ok"] is True
    assert {t["key"] for t in data["tables"]} >= {
        "categories",
        "origins",
        "administrations",
        "entry_points",
        "days",
        "transport_modes",
        "detection_methods",
        "seized_pending",
        "outcomes",
        "compliance",
    }


def test_pdf_text_has_headline_and_integrity(seeded):
    text = pdf_text(generate(seeded, seeded.coordinator, "public", "pdf"))
    flat = " ".join(text.split())
    assert "2,070 units intercepted" in flat
    assert "Medicines represented the most numerous category, with 2,000 units" in flat
    assert "verify_chain passed" in flat
    assert "Reporting compliance" in flat


def test_xlsx_reads_back_with_cases_and_neutralised_formulas(seeded):
    sheets = xlsx_sheets(generate(seeded, seeded.ncp_al, "restricted", "xlsx"))
    assert {"summary", "categories", "origins", "cases", "goods_lines"} <= set(sheets)
    summary = dict(row[:2] for row in sheets["summary"])
    assert summary["total_units"] == 2070
    descriptions = [row[sheets["goods_lines"][0].index("description")] for row in sheets["goods_lines"][1:]]
    assert "'" + FORMULA in descriptions and FORMULA not in descriptions
    assert SCRIPT in descriptions  # plain text in a spreadsheet, harmless there


def test_csv_zip_has_every_table_and_neutralised_formulas(seeded):
    files = zip_csvs(generate(seeded, seeded.ncp_al, "restricted", "csv"))
    assert {
        "summary.csv",
        "categories.csv",
        "origins.csv",
        "compliance.csv",
        "cases.csv",
        "goods_lines.csv",
    } <= set(files)
    header, *rows = files["goods_lines.csv"]
    descriptions = [row[header.index("description")] for row in rows]
    assert "'" + FORMULA in descriptions and FORMULA not in descriptions
    categories = {row[0]: int(row[1]) for row in files["categories.csv"][1:]}
    assert categories == {"Medicines": 2000, "Electronic appliances": 40, "Accessories": 30}


def test_cen_export_has_one_row_per_goods_line_of_h0_results_with_iso_codes(seeded):
    rows = cen_rows(generate(seeded, seeded.coordinator, "restricted", "cen"))
    assert len(rows) == 2  # the one H0 result has two goods lines
    assert {r["origin_country"] for r in rows} == {"CN"}
    assert {r["reporting_country"] for r in rows} == {"AL"}
    assert {r["entry_point_locode"] for r in rows} == {"ALDRZ"}
    assert sorted(r["commodity_category"] for r in rows) == ["accessories", "medicines"]
    assert all(not any(s in str(r) for s in ("MSKU", "Secretname", "Zeta")) for r in rows)
    assert "'" + FORMULA in [r["description"] for r in rows]


def test_html_escapes_script_and_formula(seeded):
    html = generate(seeded, seeded.coordinator, "restricted", "html").decode()
    assert SCRIPT not in html and "&lt;script&gt;alert(" in html
    pdf = " ".join(pdf_text(generate(seeded, seeded.coordinator, "restricted", "pdf")).split())
    assert "<script>alert('pwned')</script>" in pdf  # shown as text, not interpreted


def test_empty_operation_report_is_well_formed(world):
    data = json.loads(generate(world, world.coordinator, "public", "json"))
    assert data["totals"] == {"units": 0, "cases": 0, "results": 0, "seized_units": 0, "pending_units": 0, "kg": 0, "litres": 0}
    assert data["headline"] == ["No goods were reported intercepted in this operation."]
    assert data["integrity"]["chain_seq"] == 0 and data["integrity"]["verify"]["ok"] is True
    assert "No goods were reported intercepted" in pdf_text(
        generate(world, world.coordinator, "public", "pdf")
    )
    sheets = xlsx_sheets(generate(world, world.coordinator, "restricted", "xlsx"))
    assert sheets["cases"][0][:2] == ["case", "version"] and len(sheets["cases"]) == 1  # a header, no rows
    assert len(sheets["categories"]) == 1
    assert cen_rows(generate(world, world.coordinator, "restricted", "cen")) == []
