"""A voided result counts in no report (issue 10): every format and edition, the CEN export and the
compliance table leave it out; the restricted edition's record section keeps it, struck through with
its reason; the reports page says how many results each file leaves out, and why."""

from __future__ import annotations

import json
from typing import Any

import pytest

from results.models import Result
from results.services import result_restore, result_void
from tests.conftest import verified_client
from tests.reports.conftest import generate
from tests.reports.helpers import as_text, cen_rows, xlsx_sheets, zip_csvs
from tests.world import membership

pytestmark = pytest.mark.django_db

REASON = "duplicate of R-0000AL01"
FORMATS = ["json", "html", "pdf", "csv", "xlsx"]


def void_al1(world: Any) -> Result:
    """Void the H0 result of 1,230 units (1,200 medicines, 30 accessories): 2,070 become 840."""
    result = Result.objects.get(client_id="al-1")
    result_void(membership=membership(world, world.ncp_al), result_uuid=result.uuid, reason=REASON)
    return result


@pytest.mark.parametrize("edition", ["public", "restricted"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_leaves_a_voided_result_out(seeded: Any, fmt: str, edition: str) -> None:
    void_al1(seeded)
    text = " ".join(as_text(fmt, generate(seeded, seeded.coordinator, edition, fmt)).split())
    assert "840" in text
    assert "2,070" not in text and "2070" not in text
    # 1,230 units: only in the restricted record section, on the voided case's struck-through row
    assert text.count("1,230") == (1 if edition == "restricted" and fmt in ("html", "pdf") else 0)


def test_the_json_figures_and_tables_without_the_voided_result(seeded: Any) -> None:
    void_al1(seeded)
    data = json.loads(generate(seeded, seeded.coordinator, "public", "json"))
    assert data["totals"]["units"] == 840 and data["totals"]["cases"] == 2
    categories = {c["label"]: c["units"] for c in data["breakdowns"]["categories"]}
    assert categories["Medicines"] == 800 and "Accessories" not in categories
    assert {o["key"]: o["cases"] for o in data["breakdowns"]["origins"]} == {"CN": 1, "TR": 1}
    assert data["integrity"]["voided"] == 1 and data["integrity"]["verify"]["ok"] is True
    assert data["notable"]["by_units"] == []  # the only H0 result is voided


def test_the_cen_export_leaves_a_voided_result_out(seeded: Any) -> None:
    before = cen_rows(generate(seeded, seeded.coordinator, "restricted", "cen"))
    assert before and {r["case"] for r in before} == {str(Result.objects.get(client_id="al-1").uuid)}
    result = void_al1(seeded)
    assert cen_rows(generate(seeded, seeded.coordinator, "restricted", "cen")) == []
    result_restore(
        membership=membership(seeded, seeded.coordinator), result_uuid=result.uuid, reason="two seizures"
    )
    assert len(cen_rows(generate(seeded, seeded.coordinator, "restricted", "cen"))) == len(before)


def test_the_restricted_record_section_keeps_it_struck_through_with_its_reason(seeded: Any) -> None:
    result = void_al1(seeded)
    case = str(result.uuid)
    html = generate(seeded, seeded.ncp_al, "restricted", "html").decode()
    assert '<tr class="voided">' in html and f"Voided: {REASON}" in html
    assert "line-through" in html
    pdf = " ".join(as_text("pdf", generate(seeded, seeded.ncp_al, "restricted", "pdf")).split())
    assert f"Voided: {REASON}" in pdf

    sheets = xlsx_sheets(generate(seeded, seeded.ncp_al, "restricted", "xlsx"))
    header, *rows = sheets["cases"]
    voided = [dict(zip(header, r, strict=True)) for r in rows if r[header.index("case")] == case]
    assert [(v["voided"], v["voided_reason"]) for v in voided] == [("yes", REASON)]
    line_header, *lines = sheets["goods_lines"]  # the counted record only
    assert lines and case not in {r[line_header.index("case")] for r in lines}

    csvs = zip_csvs(generate(seeded, seeded.ncp_al, "restricted", "csv"))
    cases = next(v for k, v in csvs.items() if k.startswith("cases"))
    assert any(case in r and REASON in r for r in cases[1:])


def test_the_compliance_table_of_a_report_counts_no_voided_result(seeded: Any) -> None:
    before = json.loads(generate(seeded, seeded.coordinator, "public", "json"))["compliance"]
    for result in Result.objects.filter(entry_point=seeded.bari):
        result_void(
            membership=membership(seeded, seeded.coordinator), result_uuid=result.uuid, reason="in error"
        )
    after = json.loads(generate(seeded, seeded.coordinator, "public", "json"))["compliance"]

    def bari(grid: dict[str, Any]) -> list[str]:
        return next(r["cells"] for r in grid["rows"] if r["entry_point"] == seeded.bari.pk)

    assert "results" in bari(before) and "results" not in bari(after)


def test_the_reports_page_says_what_each_report_leaves_out_and_why(seeded: Any) -> None:
    void_al1(seeded)
    page = verified_client(seeded.coordinator).get("/operations/TEST-OP/reports/").content.decode()
    assert 'id="left-out"' in page
    rows = {
        key: page.split(f'data-left-out="{key}">', 1)[1].split("</tr>", 1)[0]
        for key in ("voided", "public", "restricted", "cen")
    }
    assert (
        '<td class="num">1</td>' in rows["voided"] and "Voided results count in no figure" in rows["voided"]
    )
    # counted: al-2 (H2, detained), al-3 (released), it-1 (H1); the CEN form takes intercepted H0 only
    assert '<td class="num">3</td>' in rows["cen"] and "coded H0" in rows["cen"]
    assert '<td class="num">2</td>' in rows["public"] and "H1 to H3" in rows["public"]
    # an analyst sees what concerns the editions they may ask for
    analyst = verified_client(seeded.analyst).get("/operations/TEST-OP/reports/").content.decode()
    assert 'data-left-out="voided"' in analyst
