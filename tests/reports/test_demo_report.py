"""The demo operation's report reproduces the figures published in the WCO article."""

from __future__ import annotations

import json

import pytest

from reports.models import Report
from reports.selectors import SYSTEM, Audience, report_content
from reports.services import report_generate_now
from tests.reports.helpers import pdf_text


@pytest.fixture
def demo(db, settings, tmp_path):
    from hub.demo import demo_setup

    settings.VAR_DIR = tmp_path  # the credentials file goes here, not into the developer's var/
    operation, _ = demo_setup()
    return operation


def _report(operation, fmt):
    report = report_generate_now(
        operation=operation, audience=Audience(SYSTEM), edition=Report.Edition.PUBLIC, format=fmt
    )
    assert report.state == Report.State.DONE, report.error
    return report_content(report)


def test_demo_report_reproduces_the_articles_figures(demo):
    data = json.loads(_report(demo, "json"))
    assert data["totals"]["units"] == 3_888_013
    assert data["totals"]["cases"] == 130
    medicines = data["breakdowns"]["categories"][0]
    assert (medicines["label"], medicines["units"]) == ("Medicines", 3_369_544)
    assert round(medicines["share"] * 100, 1) == 86.7
    origins = {o["key"]: o["cases"] for o in data["breakdowns"]["origins"]}
    assert origins["CN"] == 81 and origins["TR"] == 19
    assert data["headline"][1] == (
        "Medicines represented the most numerous category, with 3,369,544 units, about 86.7% of the total."
    )
    assert data["integrity"]["verify"]["ok"] is True
    comms = data["communications"]  # messaging's demo: warnings and alerts, acknowledged
    assert comms["available"] and comms["total"] > 0
    assert {a["kind"] for a in comms["acknowledgements"]} <= {"warning", "alert"} and comms[
        "acknowledgements"
    ]

    text = " ".join(pdf_text(_report(demo, "pdf")).split())
    assert "intercepted 3,888,013 units of goods" in text
    assert "with 3,369,544 units, about 86.7% of the total" in text
    assert "China was named as the country of origin in 81 of the 130 cases" in text
    assert "in 19" in text
