"""Open each format with its own library."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def xlsx_sheets(content: bytes) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}


def zip_csvs(content: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
            for name in archive.namelist()
        }


def cen_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def as_text(fmt: str, content: bytes) -> str:
    """Everything a reader of the file sees, as one string."""
    if fmt == "pdf":
        return pdf_text(content)
    if fmt == "xlsx":
        return json.dumps(xlsx_sheets(content), default=str, ensure_ascii=False)
    if fmt == "csv":
        return json.dumps(zip_csvs(content), ensure_ascii=False)
    return content.decode("utf-8-sig")
