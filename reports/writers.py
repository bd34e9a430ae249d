"""The formats: HTML and PDF from one template, CSV (a zip of tables), XLSX, JSON, and the CEN form.

Spreadsheet cells that begin like a formula (= + - @, tab, carriage return) get a leading
apostrophe, so that a description such as ``=HYPERLINK(...)`` stays text in Excel and LibreOffice;
HTML (and so the PDF) escapes everything through Django's template autoescaping.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

from reports import charts
from reports.templatetags.report_format import cell

# WeasyPrint logs every layout step at INFO; fontTools logs subsetting. Neither helps an operator.
for _noisy in ("weasyprint", "fontTools"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A spreadsheet-safe cell: text that would start a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


@dataclass
class Sheet:
    """One table of a spreadsheet-like output: a name, a header and rows (maybe streamed)."""

    name: str
    header: list[str]
    rows: Iterable[list[Any]]


def sheets(
    data: dict[str, Any],
    *,
    cases: Iterator[dict[str, Any]] | None,
    lines: Iterator[dict[str, Any]] | None,
    case_columns: list[str],
    line_columns: list[str],
) -> Iterator[Sheet]:
    summary = [
        ["operation", data["operation"]["code"]],
        ["name", data["operation"]["name"]],
        ["edition", data["report"]["edition"]],
        ["kind", data["report"]["kind"]],
        ["generated_at_utc", data["report"]["generated_at"]],
        ["window_start_utc", data["operation"]["window_start"]],
        ["window_end_utc", data["operation"]["window_end"]],
        ["total_units", data["totals"]["units"]],
        ["total_kg", data["totals"]["kg"]],
        ["total_litres", data["totals"]["litres"]],
        ["seized_units", data["totals"]["seized_units"]],
        ["pending_units", data["totals"]["pending_units"]],
        ["cases", data["totals"]["cases"]],
        ["results", data["totals"]["results"]],
        ["voided_results", data["integrity"].get("voided", 0)],
        ["chain_seq", data["integrity"]["chain_seq"]],
        ["chain_head", data["integrity"]["chain_head"]],
        ["chain_verified", data["integrity"]["verify"].get("ok")],
    ]
    summary += [[f"headline_{n}", sentence] for n, sentence in enumerate(data["headline"], 1)]
    yield Sheet("summary", ["key", "value"], summary)
    for table in data["tables"]:
        yield Sheet(table["key"], [c["label"] or c["key"] for c in table["columns"]], table["rows"])
    if cases is not None:
        yield Sheet("cases", case_columns, ([row[c] for c in case_columns] for row in cases))
    if lines is not None:
        yield Sheet("goods_lines", line_columns, ([row[c] for c in line_columns] for row in lines))


def _csv_bytes(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def write_csv_zip(all_sheets: Iterable[Sheet]) -> bytes:
    """Every table as its own CSV (UTF-8 with BOM, for Excel), in one zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for sheet in all_sheets:
            archive.writestr(f"{sheet.name}.csv", _csv_bytes(sheet.header, sheet.rows))
    return buffer.getvalue()


def write_xlsx(all_sheets: Iterable[Sheet]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for sheet in all_sheets:
        worksheet = workbook.create_sheet(title=sheet.name[:31])
        worksheet.append(sheet.header)
        for row in sheet.rows:
            worksheet.append([neutralise(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_json(data: dict[str, Any]) -> bytes:
    public = {key: value for key, value in data.items() if not key.startswith("_")}
    return json.dumps(public, indent=2, ensure_ascii=False, default=str).encode()


def write_cen_csv(header: list[str], rows: Iterable[dict[str, Any]]) -> bytes:
    return _csv_bytes(header, ([row[c] for c in header] for row in rows))


def _display(table: dict[str, Any]) -> list[list[dict[str, str]]]:
    kinds = [c["kind"] for c in table["columns"]]
    return [
        [{"text": cell(value, kind), "kind": kind} for value, kind in zip(row, kinds, strict=True)]
        for row in table["rows"]
    ]


def _window(operation: dict[str, Any]) -> str:
    start, end = (operation[k][:16].replace("T", " ") for k in ("window_start", "window_end"))
    return f"{start} to {end} UTC ({operation['window_days']} days)"


def _footer(data: dict[str, Any]) -> str:
    """The PDF's running footer, for a CSS string: only characters that need no escaping there."""
    text = f"{data['operation']['code']} · {data['report']['edition']} edition · generated {data['report']['generated_at']}"
    return re.sub(r"[^A-Za-z0-9 .:+·-]", "", text)


def render_html(
    data: dict[str, Any], *, cases: list[dict[str, Any]] | None = None, cases_truncated: bool = False
) -> str:
    """The report as one self-contained HTML document (charts inlined as SVG data URIs)."""
    tables = [
        {**table, "svg": charts.chart_for(table), "display": _display(table)} for table in data["tables"]
    ]
    return render_to_string(
        "reports/report.html",
        {
            "data": data,
            "tables": tables,
            "cases": cases,
            "cases_truncated": cases_truncated,
            "window": _window(data["operation"]),
            "footer": _footer(data),
        },
    )


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # The document inlines its charts as data: URIs; WeasyPrint may fetch nothing else (no network, no files).
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
