"""manage.py report: files in every format, JSON on standard output, clear errors."""

from __future__ import annotations

import io
import json
import sys
import zipfile

import pytest
from django.core.management import CommandError, call_command

from tests.reports.helpers import pdf_text

pytestmark = pytest.mark.django_db


def test_output_dash_writes_json_to_stdout(seeded, monkeypatch):
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer, encoding="utf-8"))
    call_command("report", "TEST-OP", "--edition", "public", "--output", "-")
    sys.stdout.flush()
    data = json.loads(buffer.getvalue())
    assert data["totals"]["units"] == 2070 and data["report"]["edition"] == "public"


def test_formats_to_files(seeded, tmp_path):
    call_command(
        "report", "TEST-OP", "--edition", "restricted", "--format", "csv", "--output", str(tmp_path / "r.zip")
    )
    assert "cases.csv" in zipfile.ZipFile(tmp_path / "r.zip").namelist()
    call_command("report", "TEST-OP", "--format", "pdf", "--output", str(tmp_path / "r.pdf"))
    assert "2,070" in pdf_text((tmp_path / "r.pdf").read_bytes())


def test_errors_are_explained(seeded, tmp_path):
    with pytest.raises(CommandError, match="no operation"):
        call_command("report", "NOPE", "--output", str(tmp_path / "x.json"))
    with pytest.raises(CommandError, match="binary"):
        call_command("report", "TEST-OP", "--format", "pdf", "--output", "-")
    with pytest.raises(CommandError, match="public edition only"):
        call_command(
            "report",
            "TEST-OP",
            "--edition",
            "restricted",
            "--as",
            "officer-durres",
            "--output",
            str(tmp_path / "x.json"),
        )
    with pytest.raises(CommandError, match="not a member"):
        call_command(
            "report",
            "TEST-OP",
            "--edition",
            "restricted",
            "--as",
            "outsider",
            "--output",
            str(tmp_path / "x.json"),
        )
