"""Seeded results for the report tests: posted through results.services, with restricted strings."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from tests.world import membership
from tests.world import post_result as post

REFERENCE = "MSKU7731990-REF"
NOTES = "Tip-off from informant Bardhyl Secretname"
PARTIES = "Importer: Zeta Shadow Trading Ltd, Tirana"
BRAND = "Rightsholder Quux Pharma"
FORMULA = '=HYPERLINK("http://x.example/steal","click")'
SCRIPT = "<script>alert('pwned')</script>"
RESTRICTED_STRINGS = [
    REFERENCE,
    NOTES,
    PARTIES,
    BRAND,
    FORMULA,
    SCRIPT,
    "Secretname",
    "Zeta Shadow",
    "MSKU7731990",
]


@pytest.fixture
def seeded(world: SimpleNamespace) -> SimpleNamespace:
    """Three Albanian results (one carrying every restricted string) and one Italian, all H0/H1/H2."""
    post(
        world,
        world.officer_al,
        world.durres,
        "al-1",
        lines=[("medicines", 1200, FORMULA), ("accessories", 30, SCRIPT)],
        reference=REFERENCE,
        notes=NOTES,
        parties=PARTIES,
        brand=BRAND,
        estimated_value=Decimal("25000"),
        currency="EUR",
        handling_code="H0",
    )
    post(
        world,
        world.officer_al,
        world.durres,
        "al-2",
        lines=[("medicines", 800, "tablets")],
        origin="TR",
        outcome="detained",
        handling_code="H2",
    )
    post(
        world,
        world.officer_al,
        world.durres,
        "al-3",
        lines=[("games-toys", 5, "dolls")],
        origin="CN",
        outcome="released",
    )
    post(
        world,
        world.officer_it,
        world.bari,
        "it-1",
        lines=[("electronics", 40, "chargers")],
        origin="CN",
        hours_ago=30,
    )
    return world


def generate(world: SimpleNamespace, user: Any, edition: str, fmt: str) -> bytes:
    """Generate a report for ``user``'s view (None: the command line's) and return the file."""
    from reports.selectors import SYSTEM, Audience, report_content
    from reports.services import report_generate_now

    audience = Audience.of(membership(world, user)) if user is not None else Audience(SYSTEM)
    report = report_generate_now(
        operation=world.op, audience=audience, edition=edition, format=fmt, requested_by=user
    )
    assert report.state == "done", report.error
    return report_content(report)
