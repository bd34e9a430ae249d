"""`make demo` any day: a second demo_setup, the next day or a week later, serves the same users and
data without error and without adding rows; the demo holds H0 results (CEN export, public report)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from typing import Any
from unittest import mock

import pytest
from django.apps import apps
from django.utils import timezone

from hub.demo import demo_setup
from operations.models import OperationCategory
from reports.models import Report
from reports.selectors import SYSTEM, Audience, report_content
from reports.services import report_generate_now
from results.board import board_snapshot
from results.chain import results_chain_verify
from results.models import Result

#: Rows a re-run must not add to (every model of the apps the demo writes to).
APPS = ("auth", "otp_totp", "cencomm", "operations", "messaging", "results")


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for label in APPS
        for model in apps.get_app_config(label).get_models()
    }


def _data() -> list[tuple[Any, ...]]:
    """What the demo's results say, result by result."""
    return sorted(
        Result.objects.filter(versions__is_current=True).values_list(
            "client_id",
            "reported_by__username",
            "entry_point__name",
            "versions__inspected_at",
            "versions__outcome",
            "versions__handling_code",
            "validation",
        )
    )


def _report(operation: Any, fmt: str, edition: str = Report.Edition.PUBLIC) -> bytes:
    report = report_generate_now(operation=operation, audience=Audience(SYSTEM), edition=edition, format=fmt)
    assert report.state == Report.State.DONE, report.error
    return report_content(report)


@pytest.fixture
def demo(db: None, settings: Any, tmp_path: Any) -> Any:
    settings.VAR_DIR = tmp_path
    operation, path = demo_setup()
    return operation, path


@pytest.mark.slow
def test_demo_setup_again_a_day_and_a_week_later_changes_nothing(demo: Any) -> None:
    operation, path = demo
    counts, data, credentials = _counts(), _data(), json.loads(path.read_text())
    board = board_snapshot(operation)
    real_now = timezone.now
    for days in (1, 7):
        later = real_now() + dt.timedelta(days=days)
        with mock.patch("django.utils.timezone.now", return_value=later):
            assert timezone.now() == later
            again, again_path = demo_setup()
        assert again.pk == operation.pk and again_path == path
        assert _counts() == counts, f"{days} day(s) later"
        assert _data() == data
        assert json.loads(path.read_text()) == credentials
    assert board_snapshot(operation)["totals"] == board["totals"]
    assert results_chain_verify(operation.pk) is None
    # client IDs are canonical UUID strings
    for client_id in Result.objects.values_list("client_id", flat=True):
        assert str(uuid.UUID(client_id)) == client_id


@pytest.mark.slow
def test_the_demo_holds_h0_results_for_the_cen_export_and_the_public_report(demo: Any) -> None:
    operation, _ = demo
    board = board_snapshot(operation)
    assert board["totals"]["units"] == 3_888_013 and board["totals"]["cases"] == 130
    cen = _report(operation, Report.Format.CEN, Report.Edition.RESTRICTED)
    rows = list(csv.DictReader(io.StringIO(cen.decode("utf-8-sig"))))
    assert rows and {row["handling_code"] for row in rows} == {"H0"}
    assert 20 <= len(rows) < 130
    public = json.loads(_report(operation, Report.Format.JSON))
    notable = public["notable"]
    assert notable["by_units"]
    assert {s["handling_code"] for s in notable["by_units"]} == {"H0"}
    # the demo's categories carry their names in the six languages
    medicines = OperationCategory.objects.get(operation=operation, category__code="medicines")
    assert medicines.label("ar") == "الأدوية" and medicines.label("en") == "Medicines"
