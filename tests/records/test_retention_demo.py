"""The demo's retention: a dry run lists the past operation due and the held one; a real run shreds
the first; setting the demo up again afterwards changes nothing and makes nothing anew."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from hub.demo import demo_setup
from operations.models import Operation
from reports.models import Report


def run(*args: str) -> str:
    out = StringIO()
    call_command("apply_retention", *args, stdout=out)
    return out.getvalue()


@pytest.mark.slow
def test_the_demo_lists_what_retention_would_shred_and_stays_rerunnable(
    db: None, settings: Any, tmp_path: Any
):
    settings.VAR_DIR = tmp_path
    demo_setup()
    dry = run("--dry-run")
    assert "Would shred BLUE-HARBOUR-2019 (closed 2019-09-30, kept 1825 days" in dry
    assert "Held: AMBER-ROUTE-2020" in dry and "BALKAN-GATE" not in dry
    assert "keeps 1 public report," in dry
    demo_setup()
    assert run("--dry-run") == dry
    assert "Shredded BLUE-HARBOUR-2019" in run()
    shredded = Operation.objects.get(code="BLUE-HARBOUR-2019")
    kept = Report.objects.get(operation=shredded)
    assert (kept.edition, kept.kind, kept.format) == ("public", "final", "pdf")
    demo_setup()
    assert Operation.objects.get(code="BLUE-HARBOUR-2019").shredded_at == shredded.shredded_at
    assert Report.objects.filter(operation=shredded).count() == 1
    assert "Nothing is due" in run("--dry-run")
