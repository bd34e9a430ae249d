"""The public edition carries aggregates only: none of a seeded operation's restricted strings."""

from __future__ import annotations

import json

import pytest

from tests.reports.conftest import RESTRICTED_STRINGS, generate
from tests.reports.helpers import as_text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fmt", ["json", "html", "pdf", "csv", "xlsx"])
def test_public_edition_contains_no_restricted_string(seeded, fmt):
    text = as_text(fmt, generate(seeded, seeded.ncp_al, "public", fmt))
    assert "2,070" in text or "2070" in text  # the figures are there
    leaked = [s for s in RESTRICTED_STRINGS if s in text]
    assert leaked == []


def test_public_edition_has_no_case_rows(seeded):
    data = json.loads(generate(seeded, seeded.coordinator, "public", "json"))
    assert all("case" not in item and "reference" not in item for item in data["notable"]["by_units"])
    # only the H0 result may leave the operation as a notable seizure
    assert [item["handling_code"] for item in data["notable"]["by_units"]] == ["H0"]


def test_restricted_edition_for_the_own_administration_shows_sealed_fields(seeded):
    """The control for the test above: the same strings do appear where the reader may see them."""
    text = as_text("csv", generate(seeded, seeded.ncp_al, "restricted", "csv"))
    assert all(s in text for s in ("MSKU7731990-REF", "Secretname", "Zeta Shadow"))
    coordinator = as_text("csv", generate(seeded, seeded.coordinator, "restricted", "csv"))
    assert "MSKU7731990-REF" not in coordinator  # references stay national (results.selectors.may_see_sealed)
