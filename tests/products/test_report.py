"""The report's brand material: the restricted edition breaks seizures down by brand and right
holder and lists the right holders to notify with their contacts; the public edition names none."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from products.models import RightHolder
from products.services import ProductInput, product_create
from results.services import LineInput, ResultInput, result_post
from tests.reports.conftest import generate
from tests.world import membership

pytestmark = pytest.mark.django_db


def _post(
    world: Any, user: Any, entry_point: Any, client_id: str, gtin: str, quantity: int, **extra: Any
) -> None:
    content = ResultInput(
        inspected_at=timezone.now() - dt.timedelta(hours=5),
        origin="CN",
        outcome=extra.pop("outcome", "seized"),
        lines=(LineInput(category="medicines", quantity=Decimal(quantity), gtin=gtin),),
        **extra,
    )
    result_post(
        membership=membership(world, user),
        entry_point_id=entry_point.pk,
        client_id=client_id,
        content=content,
    )


@pytest.fixture
def branded(world: SimpleNamespace) -> SimpleNamespace:
    veridia = RightHolder.objects.create(name="Veridia Pharma AG")
    product_create(
        right_holder=veridia,
        content=ProductInput(
            brand="Veridia",
            name="Solvantil",
            category="medicines",
            gtins=("2001234000017", "12001234000014"),
            contact_name="Brand desk",
            contact_email="desk@veridia.example",
            contact_phone="+41 61 555 01 23",
        ),
        actor=None,
    )
    _post(world, world.officer_al, world.durres, "a", "2001234000017", 100, handling_code="H0")
    _post(
        world, world.officer_al, world.durres, "b", "12001234000014", 20, handling_code="H3"
    )  # Albania only
    _post(world, world.officer_it, world.bari, "c", "2001234000017", 5, handling_code="H1")
    _post(world, world.officer_it, world.bari, "d", "2001234000017", 7, outcome="released")  # not intercepted
    _post(world, world.officer_it, world.bari, "e", "4006381333931", 9)  # no product
    return world


def test_restricted_report_lists_right_holders_to_notify_with_contacts(branded: Any) -> None:
    data = json.loads(generate(branded, branded.coordinator, "restricted", "json"))
    assert data["breakdowns"]["brands"][0]["key"] == "Veridia · Veridia Pharma AG"
    assert data["breakdowns"]["brands"][0]["units"] == 125  # every counted seizure: figures are shared
    [row] = data["right_holders"]
    assert row["right_holder"] == "Veridia Pharma AG" and row["contact_email"] == "desk@veridia.example"
    # the coordinator does not see Albania's H3 case: 100 (H0) + 5 (H1)
    assert (row["cases"], row["units"], row["shared"]) == (2, 105, 1)
    assert {"brands", "right_holders"} <= {t["key"] for t in data["tables"]}


def test_national_contact_point_sees_their_own_h3_case_in_the_list(branded: Any) -> None:
    data = json.loads(generate(branded, branded.ncp_al, "restricted", "json"))
    [row] = data["right_holders"]
    assert (row["cases"], row["units"]) == (3, 125)
    assert row["gtins"] == "12001234000014 2001234000017"


def test_restricted_html_shows_the_contacts(branded: Any) -> None:
    html = generate(branded, branded.coordinator, "restricted", "html").decode()
    assert "Right holders to notify" in html and "desk@veridia.example" in html
    assert "By brand and right holder" in html


def test_public_edition_names_no_brand_or_right_holder(branded: Any) -> None:
    content = generate(branded, branded.coordinator, "public", "json")
    data = json.loads(content)
    assert "right_holders" not in data and "brands" not in data["breakdowns"]
    assert b"Veridia" not in content
