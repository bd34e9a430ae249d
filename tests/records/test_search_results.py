"""Results in the search: found by their open fields by whoever may see them, by their sealed fields
(reference, parties, notes, brands) only by their administration; every version replaces the last."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from cencomm.models import SearchDocument
from records.search import SearchFilter, search
from results import services
from tests.world import membership

pytestmark = pytest.mark.django_db

GTIN = "4006381333931"


def content(**overrides):
    fields = {
        "inspected_at": timezone.now() - dt.timedelta(hours=3),
        "origin": "CN",
        "outcome": "seized",
        "transport_mode": "sea_container",
        "lines": (
            services.LineInput(
                category="medicines",
                quantity=Decimal(1200),
                description="sildenafil blister packs",
                gtin=GTIN,
                brand="Pfizzer",
            ),
        ),
        "reference": "TGHU 482913-1",
        "parties": "consignee Adriatica Import srl",
        "notes": "behind kitchenware cartons",
    }
    fields.update(overrides)
    return services.ResultInput(**fields)


def post(world, user=None, entry_point=None, **overrides):
    result, _ = services.result_post(
        membership=membership(world, user or world.officer_al),
        entry_point_id=(entry_point or world.durres).pk,
        client_id=str(uuid.uuid4()),
        content=content(**overrides),
    )
    return result


def count(world, user, q, **filters):
    return search(membership(world, user), q, SearchFilter(**filters)).count


def test_a_result_is_found_by_its_gtin_and_description_by_everyone_who_sees_it(world):
    post(world)
    for user in (world.coordinator, world.analyst, world.observer, world.ncp_al, world.officer_al):
        assert count(world, user, GTIN) == 1, user
        assert count(world, user, "sildenafil blister", kind="result") == 1, user
    assert count(world, world.officer_it, GTIN) == 0  # an officer sees his entry point's results only
    page = search(membership(world, world.coordinator), GTIN)
    assert page.answers[0].link == f"/operations/TEST-OP/results/{page.answers[0].result}/"
    assert f"<mark>{GTIN}</mark>" in page.answers[0].snippet


def test_sealed_fields_are_found_only_by_the_results_administration(world):
    post(world)
    for q in ("TGHU4829131", "Adriatica", "kitchenware", "Pfizzer"):
        assert count(world, world.officer_al, q) == 1, q
        assert count(world, world.ncp_al, q) == 1, q
        for user in (world.coordinator, world.analyst, world.observer, world.officer_it):
            assert count(world, user, q) == 0, (user, q)
    # Nor do open and sealed words add up for someone who may not read the sealed ones.
    assert count(world, world.coordinator, "sildenafil Adriatica") == 0
    assert count(world, world.ncp_al, "sildenafil Adriatica") == 1
    snippet = search(membership(world, world.coordinator), "sildenafil").answers[0].snippet
    assert "Adriatica" not in snippet and "TGHU" not in snippet


def test_a_correction_replaces_the_words_and_a_void_keeps_it_findable_marked(world):
    result = post(world)
    officer = membership(world, world.officer_al)
    services.result_correct(
        membership=officer,
        result_uuid=result.uuid,
        content=content(
            lines=(
                services.LineInput(
                    category="medicines", quantity=Decimal(10), description="tadalafil strips"
                ),
            )
        ),
        reason="wrong goods",
    )
    assert count(world, world.coordinator, "sildenafil") == 0
    assert count(world, world.coordinator, GTIN) == 0
    assert count(world, world.coordinator, "tadalafil") == 1
    assert count(world, world.officer_al, "Adriatica") == 1  # sealed fields left as they were
    assert SearchDocument.objects.get(result_id=result.pk).version == 2
    services.result_void(membership=officer, result_uuid=result.uuid, reason="a duplicate")
    page = search(membership(world, world.coordinator), "tadalafil")
    assert page.count == 1 and page.answers[0].voided


def test_a_correction_rolled_back_leaves_the_index_as_it_was(world):
    result = post(world)
    officer = membership(world, world.officer_al)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.result_correct(
            membership=officer,
            result_uuid=result.uuid,
            content=content(
                lines=(
                    services.LineInput(category="medicines", quantity=Decimal(10), description="tadalafil"),
                )
            ),
            reason="wrong goods",
        )
        assert count(world, world.coordinator, "tadalafil") == 1
        raise RuntimeError("the request failed after the correction")
    assert count(world, world.coordinator, "tadalafil") == 0
    assert count(world, world.coordinator, "sildenafil") == 1
    assert SearchDocument.objects.get(result_id=result.pk).version == 1


def test_results_filter_by_entry_point_author_and_day(world):
    post(world)
    post(world, user=world.officer_it, entry_point=world.bari)
    assert count(world, world.coordinator, "sildenafil") == 2
    assert count(world, world.coordinator, "sildenafil", entry_point=world.bari.pk) == 1
    assert count(world, world.coordinator, "sildenafil", author=world.officer_al.pk) == 1
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date()
    assert count(world, world.coordinator, "sildenafil", date_from=tomorrow) == 0
