"""Who sees, corrects and validates what: roles, administrations, operations."""

from __future__ import annotations

from typing import Any

import pytest

from cencomm.models import AuditEvent
from results.models import Result
from tests.conftest import verified_client
from tests.results.conftest import api_post


@pytest.fixture
def durres_result(world: Any, post: Any) -> str:
    response = post(world.officer_al, notes="Consignee: Mr Example", reference="MSCU1111111")
    assert response.status_code == 201
    return response.json()["uuid"]


def get(user: Any, path: str) -> Any:
    return verified_client(user).get(f"/api/v1/operations/TEST-OP{path}")


def test_officer_of_another_entry_point_cannot_see_result(world: Any, durres_result: str) -> None:
    assert get(world.officer_it, f"/results/{durres_result}").status_code == 404
    assert get(world.officer_it, "/results").json()["count"] == 0
    assert get(world.officer_al, "/results").json()["count"] == 1


@pytest.mark.parametrize("who", ["outsider", "officer_other"])
def test_non_members_see_nothing(world: Any, durres_result: str, who: str) -> None:
    user = getattr(world, who)
    assert get(user, f"/results/{durres_result}").status_code == 404
    assert get(user, "/results").status_code == 404
    assert get(user, "/board").status_code == 404
    assert get(user, f"/results/{durres_result}/versions").status_code == 404


def test_result_of_another_operation_is_not_found(world: Any, durres_result: str) -> None:
    # the same uuid asked for under another operation the caller belongs to
    client = verified_client(world.officer_other)
    assert client.get(f"/api/v1/operations/OTHER-OP/results/{durres_result}").status_code == 404
    assert get(world.coordinator, "/results/not-a-uuid").status_code == 404


def test_sealed_fields_only_for_own_administration(world: Any, durres_result: str) -> None:
    own = get(world.ncp_al, f"/results/{durres_result}").json()["current"]
    assert own["notes"] == "Consignee: Mr Example" and own["sealed_visible"] is True
    for user in (world.observer, world.coordinator):
        other = get(user, f"/results/{durres_result}").json()["current"]
        assert other["notes"] is None and other["reference"] is None and other["sealed_visible"] is False
        assert other["lines"][0]["quantity"] == "1200.000"


def test_board_is_for_coordinators_and_readers_not_officers(world: Any, durres_result: str) -> None:
    for user in (world.coordinator, world.observer, world.ncp_al):
        assert get(user, "/board").json()["totals"]["units"] == 1200
    assert get(world.officer_al, "/board").status_code == 404


def test_correction_is_a_new_version_and_old_stays_readable(world: Any, durres_result: str) -> None:
    client = verified_client(world.officer_al)
    stored = get(world.officer_al, f"/results/{durres_result}").json()["current"]
    correction = {
        "inspected_at": stored["inspected_at"],
        "origin": "TR",
        "outcome": "seized",
        "lines": [{"category": "medicines", "quantity": 1500}],
        "reason": "Recounted the pallets",
    }
    response = api_post(client, f"/operations/TEST-OP/results/{durres_result}/corrections", correction)
    assert response.status_code == 201, response.json()
    assert response.json()["current"]["number"] == 2 and response.json()["versions"] == 2
    assert response.json()["current"]["notes"] == "Consignee: Mr Example"  # sealed fields carried over
    versions = get(world.officer_al, f"/results/{durres_result}/versions").json()
    assert [(v["number"], v["current"], v["origin"]) for v in versions] == [(1, False, "CN"), (2, True, "TR")]
    board = get(world.coordinator, "/board").json()
    assert board["totals"] == {"units": 1500, "kg": 0, "litres": 0, "cases": 1, "results": 1}
    assert [o["key"] for o in board["origins"]] == ["TR"]
    missing_reason = api_post(
        client, f"/operations/TEST-OP/results/{durres_result}/corrections", correction | {"reason": " "}
    )
    assert missing_reason.status_code == 422 and "reason" in missing_reason.json()["errors"]


def test_others_cannot_correct(world: Any, durres_result: str) -> None:
    correction = {
        "inspected_at": "2026-01-01T00:00:00+00:00",
        "origin": "TR",
        "outcome": "seized",
        "lines": [{"category": "medicines", "quantity": 1}],
        "reason": "x",
    }
    path = f"/operations/TEST-OP/results/{durres_result}/corrections"
    assert api_post(verified_client(world.officer_it), path, correction).status_code == 404
    assert api_post(verified_client(world.observer), path, correction).status_code == 409
    assert api_post(verified_client(world.outsider), path, correction).status_code == 404
    assert Result.objects.get().versions.count() == 1


def test_ncp_validates_and_returns_own_administration_results(
    world: Any, durres_result: str, post: Any
) -> None:
    path = f"/operations/TEST-OP/results/{durres_result}/validation"
    ncp = verified_client(world.ncp_al)
    returned = api_post(ncp, path, {"decision": "returned", "comment": ""})
    assert returned.status_code == 422 and "comment" in returned.json()["errors"]
    returned = api_post(ncp, path, {"decision": "returned", "comment": "Quantity looks too round"})
    assert returned.status_code == 200 and returned.json()["validation"] == "returned"
    validated = api_post(ncp, path, {"decision": "validated"})
    assert validated.json()["validation"] == "validated"
    assert AuditEvent.objects.filter(action__in=["result.returned", "result.validated"]).count() == 2
    for user in (world.coordinator, world.officer_al, world.observer):
        assert api_post(verified_client(user), path, {"decision": "validated"}).status_code == 409
    bari = post(world.officer_it, entry_point=world.bari).json()["uuid"]
    refused = api_post(ncp, f"/operations/TEST-OP/results/{bari}/validation", {"decision": "validated"})
    assert refused.status_code == 409
    assert Result.objects.get(uuid=bari).validation == "pending"


def test_correction_sends_validation_back_to_pending(world: Any, durres_result: str) -> None:
    api_post(
        verified_client(world.ncp_al),
        f"/operations/TEST-OP/results/{durres_result}/validation",
        {"decision": "validated"},
    )
    stored = get(world.coordinator, f"/results/{durres_result}").json()["current"]
    correction = {
        "inspected_at": stored["inspected_at"],
        "origin": "CN",
        "outcome": "detained",
        "lines": [{"category": "medicines", "quantity": 1200}],
        "reason": "Now pending a decision",
    }
    response = api_post(
        verified_client(world.coordinator),
        f"/operations/TEST-OP/results/{durres_result}/corrections",
        correction,
    )
    assert response.status_code == 201 and response.json()["validation"] == "pending"


def test_list_filters(world: Any, post: Any) -> None:
    post(world.officer_al, lines=[{"category": "medicines", "quantity": 5}])
    post(
        world.officer_it,
        entry_point=world.bari,
        outcome="released",
        lines=[{"category": "games-toys", "quantity": 7}],
    )
    assert get(world.coordinator, "/results").json()["count"] == 2
    assert get(world.coordinator, f"/results?entry_point={world.bari.pk}").json()["count"] == 1
    assert get(world.coordinator, "/results?category=games-toys").json()["count"] == 1
    assert get(world.coordinator, "/results?outcome=seized").json()["count"] == 1
    assert get(world.coordinator, "/results?category=unicorns").status_code == 422
    # released goods are results but not intercepted units
    assert get(world.coordinator, "/board").json()["totals"] == {"units": 5, "kg": 0, "litres": 0, "cases": 1, "results": 2}


def test_categories_are_data_changed_by_coordinators_only(world: Any, post: Any) -> None:
    uid = post(
        world.officer_al,
        lines=[{"category": "other", "quantity": 40}, {"category": "medicines", "quantity": 2}],
    ).json()["uuid"]
    coordinator = verified_client(world.coordinator)
    added = api_post(
        coordinator, "/operations/TEST-OP/categories", {"code": "pesticides", "name": "Pesticides"}
    )
    assert added.status_code == 201
    officer = verified_client(world.officer_al)
    assert api_post(officer, "/operations/TEST-OP/categories", {"code": "x", "name": "X"}).status_code == 409
    dup = api_post(coordinator, "/operations/TEST-OP/categories", {"code": "pesticides", "name": "Again"})
    assert dup.status_code == 422
    renamed = coordinator.patch(
        "/api/v1/operations/TEST-OP/categories/pesticides",
        '{"name": "Pesticides and fertilisers"}',
        content_type="application/json",
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Pesticides and fertilisers"
    moved = api_post(
        coordinator,
        "/operations/TEST-OP/reclassifications",
        {"from_category": "other", "to_category": "pesticides", "reason": "New CEN category"},
    )
    assert moved.status_code == 200 and moved.json() == {"results": 1}
    versions = get(world.coordinator, f"/results/{uid}/versions").json()
    assert [v["number"] for v in versions] == [1, 2]
    assert [ln["category"] for ln in versions[1]["lines"]] == ["pesticides", "medicines"]
    assert versions[1]["reason"].startswith("Reclassified from Other to Pesticides and fertilisers")
    board = get(world.coordinator, "/board").json()
    assert {c["label"]: c["units"] for c in board["categories"]} == {
        "Pesticides and fertilisers": 40,
        "Medicines": 2,
    }
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"category.add", "category.rename", "goods.reclassify"} <= actions
    assert (
        api_post(
            officer,
            "/operations/TEST-OP/reclassifications",
            {"from_category": "pesticides", "to_category": "other", "reason": "no"},
        ).status_code
        == 409
    )
