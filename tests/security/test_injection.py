"""Hostile text in every field: escaped in pages and reports, neutralised in spreadsheets, one line in logs.

tests/reports/test_formats.py checks goods-line descriptions in XLSX/CSV; this file puts hostile text
into every field a member can type (category names, room names, messages, result fields) and reads
every page and every report format back.
"""

from __future__ import annotations

import io
import logging
import re
import uuid
import zipfile
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD, verified_client
from tests.security.conftest import api_json, fill, page_routes, path_values, result_body

SCRIPT = '<script>alert("xss")</script>'
ATTR = '"><img src=x onerror=alert(1)>'
FORMULAS = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def hostile(world: SimpleNamespace) -> SimpleNamespace:
    """TEST-OP with hostile text in every field members can type."""
    coordinator, officer = verified_client(world.coordinator), verified_client(world.officer_al)
    base = "/api/v1/operations/TEST-OP"
    created = api_json(
        coordinator, "POST", f"{base}/categories", {"code": "hostile", "name": f"{FORMULAS[0]} {SCRIPT}"}
    )
    assert created.status_code == 201, created.content
    room = api_json(
        coordinator, "POST", f"{base}/rooms", {"name": f"{SCRIPT}{ATTR}", "members": [world.officer_al.pk]}
    )
    assert room.status_code == 201, room.content
    room_id = room.json()["id"]
    message = api_json(
        officer,
        "POST",
        f"{base}/rooms/{room_id}/messages",
        {"client_id": str(uuid.uuid4()), "text": f"{SCRIPT} {ATTR}"},
    )
    assert message.status_code == 201, message.content
    lines = [
        {"category": "hostile", "quantity": 10, "unit": "pieces", "description": f, "brand": f"{SCRIPT}{f}"}
        for f in FORMULAS
    ]
    result = api_json(
        officer,
        "POST",
        f"{base}/results",
        result_body(
            world,
            lines=lines,
            notes=f"{SCRIPT}{ATTR}",
            reference=FORMULAS[1],
            parties=f"{FORMULAS[3]}{SCRIPT}",
            concealment=f"{FORMULAS[0]}{SCRIPT}",
        ),
    )
    assert result.status_code == 201, result.content
    return SimpleNamespace(
        w=world, room_id=room_id, result_uuid=result.json()["uuid"], coordinator=coordinator
    )


def assert_escaped(content: bytes, where: str) -> None:
    text = content.decode("utf-8", "replace")
    for raw in (SCRIPT, "<img src=x onerror", "onerror=alert(1)>"):
        assert raw not in text, f"{raw!r} unescaped in {where}"


def test_hostile_text_is_escaped_on_every_page(hostile):
    values = {**path_values(None), "room_id": hostile.room_id, "result_uuid": hostile.result_uuid}
    shown = 0
    for route in page_routes():
        if "report_id" in route:
            continue  # reports: below
        if route.startswith("/products/"):
            continue  # the right holders' own pages (tests/products: their hostile text escaped)
        response = hostile.coordinator.get(fill(route, values))
        if response.status_code == 405:
            continue  # a form's POST target
        assert response.status_code == 200, (route, response.status_code)
        assert_escaped(response.content, route)
        shown += "&lt;script&gt;" in response.content.decode()
    assert shown >= 2, "the hostile text should appear (escaped) on some pages"


def report(w: SimpleNamespace, fmt: str, edition: str = "restricted") -> bytes:
    from reports.selectors import Audience, report_content
    from reports.services import report_generate_now

    membership = w.op.memberships.get(user=w.coordinator)
    made = report_generate_now(
        operation=w.op,
        audience=Audience.of(membership),
        edition=edition,
        format=fmt,
        requested_by=w.coordinator,
    )
    assert made.state == "done", (made.state, made.error)
    return report_content(made)


def cells_of(fmt: str, content: bytes) -> list[str]:
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True)
        return [
            str(c)
            for ws in book.worksheets
            for row in ws.iter_rows(values_only=True)
            for c in row
            if c is not None
        ]
    import csv

    out = []
    archive = zipfile.ZipFile(io.BytesIO(content)) if fmt == "csv" else None
    texts = (
        [archive.read(n).decode("utf-8-sig") for n in archive.namelist()]
        if archive
        else [content.decode("utf-8-sig")]
    )
    for text in texts:
        out += [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    return out


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "cen"])
def test_no_spreadsheet_cell_starts_a_formula(hostile, fmt):
    cells = cells_of(fmt, report(hostile.w, fmt))
    dangerous = [
        c for c in cells if c.startswith(FORMULA_STARTS) and not re.fullmatch(r"-?\d[\d.,:TZ+-]*", c)
    ]
    assert not dangerous, dangerous[:10]
    if fmt != "cen":  # the CEN form has no free text of ours
        assert any("HYPERLINK" in c for c in cells), "the hostile category should be in the export"


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_hostile_text_is_inert_in_html_and_pdf_reports(hostile, fmt):
    content = report(hostile.w, fmt)
    if fmt == "html":
        assert_escaped(content, "the HTML report")
        assert "&lt;script&gt;" in content.decode()
    else:
        from pypdf import PdfReader

        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
        assert "<script>" in text  # shown as text, not interpreted (WeasyPrint runs no script anyway)
        assert b"/JavaScript" not in content and b"/JS " not in content and b"/Launch" not in content


# --- logs: one record, one line -------------------------------------------------------------------


@pytest.fixture
def log_lines() -> Any:
    """Lines written by the project's configured log handlers (with their SafeFormatter)."""
    from cencomm.logging import SafeFormatter

    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, SafeFormatter)]
    assert handlers, "the root logger has no handler with SafeFormatter"
    buffer = io.StringIO()
    previous = [h.setStream(buffer) for h in handlers]
    yield lambda: buffer.getvalue().split("\n")
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)


LINE_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


@pytest.mark.django_db
def test_cr_lf_in_requests_cannot_forge_log_lines(world, log_lines, monkeypatch):
    forged = "2026-01-01 00:00:00,000 CRITICAL cencomm forged entry"
    Client().post("/accounts/login/", {"username": f"officer-durres\r\n{forged}", "password": "x"})
    Client().post("/accounts/login/", {"username": f"x\n{forged}", "password": PASSWORD})
    client = verified_client(world.officer_al)
    client.get(f"/operations/NOPE%0D%0A{forged.replace(' ', '%20')}/")
    # A failure whose message carries the request's CR/LF, logged with its (multi-line) traceback.
    from operations import selectors

    def explode(principal, *args, **kwargs):
        raise RuntimeError(f"no operations for {client.cookies['sessionid'].value[:4]}\r\n{forged}")

    monkeypatch.setattr(selectors, "operations_for", explode)
    client.raise_request_exception = False
    assert client.get("/").status_code == 500
    lines = [line for line in log_lines() if line]
    assert any("NOPE" in line for line in lines), "the 404 with CR/LF in its path should be logged"
    assert any("Internal Server Error" in line and "Traceback" in line for line in lines), lines
    for line in lines:
        assert LINE_START.match(line), f"a log line that is not a record of its own: {line!r}"
    assert not any(line.startswith("2026-01-01") for line in lines)
