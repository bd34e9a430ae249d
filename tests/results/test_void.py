"""Void and restore (issue 10): who may, a reason each time, a chained version each, and a voided
result counts nowhere (board, API board, compliance grid, live delta) while it stays readable,
struck through with its reason, in the list and on its page."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cencomm.live import board_group, capture_live_events
from operations.models import Operation
from operations.services import operation_transition
from results.board import board_snapshot
from results.chain import results_chain_verify
from results.models import NilReturn, ResultVersion
from tests.conftest import verified_client
from tests.results.conftest import api_post, body

RESULTS = "/operations/TEST-OP/results"


def posted(world: Any, user: Any = None, **overrides: Any) -> dict[str, Any]:
    response = api_post(verified_client(user or world.officer_al), RESULTS, body(world, **overrides))
    assert response.status_code == 201, response.json()
    return response.json()


def void(user: Any, uuid: str, reason: str = "duplicate of R-12345678", action: str = "void") -> Any:
    return api_post(verified_client(user), f"{RESULTS}/{uuid}/{action}", {"reason": reason})


def test_the_poster_voids_a_duplicate_and_restores_it_each_a_chained_version(world: Any) -> None:
    result = posted(world)
    response = void(world.officer_al, result["uuid"])
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["uuid"] == result["uuid"]
    assert data["current"]["voided"] is True and data["current"]["reason"] == "duplicate of R-12345678"
    assert data["current"]["number"] == 2 and data["current"]["chain_seq"] == 2

    again = void(world.officer_al, result["uuid"])
    assert again.status_code == 409  # voided already: nothing written
    assert ResultVersion.objects.filter(result__uuid=result["uuid"]).count() == 2

    restored = void(world.officer_al, result["uuid"], "not a duplicate after all", action="restore")
    assert restored.status_code == 200, restored.json()
    assert restored.json()["current"]["voided"] is False and restored.json()["current"]["number"] == 3
    assert void(world.officer_al, result["uuid"], "again", action="restore").status_code == 409
    assert results_chain_verify(world.op.pk) is None

    versions = verified_client(world.officer_al).get(f"/api/v1{RESULTS}/{result['uuid']}/versions").json()
    assert [(v["number"], v["voided"]) for v in versions] == [(1, False), (2, True), (3, False)]


@pytest.mark.parametrize("action", ["void", "restore"])
def test_a_reason_is_required(world: Any, action: str) -> None:
    result = posted(world)
    if action == "restore":
        assert void(world.officer_al, result["uuid"]).status_code == 200
    for reason in ("", "   "):
        response = void(world.officer_al, result["uuid"], reason, action=action)
        assert response.status_code == 422, response.json()
        assert "reason" in response.json()["errors"]
    missing = api_post(verified_client(world.officer_al), f"{RESULTS}/{result['uuid']}/{action}", {})
    assert missing.status_code == 422


def test_who_may_void(world: Any) -> None:
    durres = posted(world)["uuid"]
    bari = posted(world, world.officer_it, entry_point=world.bari)["uuid"]
    # Not: another officer, the NCP of another administration, analysts, observers, outsiders.
    assert void(world.officer_it, durres).status_code in (404, 409)  # unseen, or refused
    assert void(world.ncp_al, bari).status_code in (404, 409)  # unseen, or refused
    assert void(world.analyst, durres).status_code in (404, 409)  # unseen, or refused
    assert void(world.observer, durres).status_code in (404, 409)  # unseen, or refused
    assert void(world.outsider, durres).status_code in (404, 409)  # unseen, or refused
    assert void(world.officer_other, durres).status_code in (404, 409)  # unseen, or refused
    assert not ResultVersion.objects.filter(voided=True).exists()
    # Yes: the NCP of the result's administration, the coordinator.
    assert void(world.ncp_al, durres).status_code == 200
    assert void(world.coordinator, bari).status_code == 200


def test_a_voided_result_counts_nowhere_and_the_board_gets_the_delta(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    kept = posted(world, lines=[{"category": "medicines", "quantity": 100, "unit": "pieces"}])
    duplicate = posted(world, lines=[{"category": "medicines", "quantity": 100, "unit": "pieces"}])
    before = board_snapshot(world.op)
    assert before["totals"]["units"] == 200 and before["totals"]["results"] == 2

    with capture_live_events() as events, django_capture_on_commit_callbacks(execute=True):
        assert (
            void(world.officer_al, duplicate["uuid"], f"duplicate of R-{kept['uuid'][:8]}").status_code == 200
        )
    [(group, event)] = events
    assert group == board_group(world.op.pk) and event["kind"] == "voided"
    assert event["old"]["voided"] is False and event["new"]["voided"] is True
    assert event["latest"]["voided"] is True

    after = board_snapshot(world.op)
    assert after["totals"] == {"units": 100, "kg": 0, "litres": 0, "cases": 1, "results": 1}
    assert [c["units"] for c in after["categories"]] == [100]
    assert [o["cases"] for o in after["origins"]] == [1]
    assert sum(e["cases"] for e in after["entry_points"]) == 1
    api_board = verified_client(world.coordinator).get("/api/v1/operations/TEST-OP/board").json()
    assert api_board["totals"]["units"] == 100 and api_board["totals"]["results"] == 1
    # Still listed, marked voided with the reason.
    listed = verified_client(world.coordinator).get(f"/api/v1{RESULTS}").json()["results"]
    marked = {r["uuid"]: (r["voided"], r["reason"]) for r in listed}
    assert marked == {
        kept["uuid"]: (False, ""),
        duplicate["uuid"]: (True, f"duplicate of R-{kept['uuid'][:8]}"),
    }

    with capture_live_events() as events, django_capture_on_commit_callbacks(execute=True):
        assert (
            void(world.coordinator, duplicate["uuid"], "two seizures after all", action="restore").status_code
            == 200
        )
    assert events[0][1]["kind"] == "restored"
    assert board_snapshot(world.op)["totals"]["units"] == 200


def test_a_voided_result_leaves_the_compliance_grid(world: Any) -> None:
    result = posted(world)
    day = (
        dt.datetime.fromisoformat(result["current"]["inspected_at"])
        .astimezone(ZoneInfo("Europe/Tirane"))
        .date()
    )
    column = board_snapshot(world.op)["compliance"]["days"].index(day.isoformat())

    def cell() -> str:
        grid = board_snapshot(world.op)["compliance"]
        return next(r for r in grid["rows"] if r["entry_point"] == world.durres.pk)["cells"][column]

    assert cell() == "results"
    refused = api_post(
        verified_client(world.officer_al),
        "/operations/TEST-OP/nil-returns",
        {"entry_point": world.durres.pk, "day": day.isoformat()},
    )
    assert refused.status_code == 409, refused.json()
    assert f"has results on {day.isoformat()}" in json.dumps(refused.json())
    assert not NilReturn.objects.exists()
    void(world.officer_al, result["uuid"])
    assert cell() == "none"
    # and its day may now be returned nil (refused while the result counted)
    nil = api_post(
        verified_client(world.officer_al),
        "/operations/TEST-OP/nil-returns",
        {"entry_point": world.durres.pk, "day": day.isoformat()},
    )
    assert nil.status_code == 201, nil.json()
    assert cell() == "nil"


def test_the_grid_counts_a_result_on_its_entry_points_local_day(world: Any) -> None:
    """A result inspected at 00:30 in Durrës (23:30 UTC the day before) fills that local day's cell,
    replacing its nil return; the UTC day before stays as it was."""
    tirane = ZoneInfo("Europe/Tirane")
    today = timezone.now().astimezone(tirane).date()
    day = today - dt.timedelta(days=1)
    before = day - dt.timedelta(days=1)
    days = board_snapshot(world.op)["compliance"]["days"]
    assert day.isoformat() in days and before.isoformat() in days
    client = verified_client(world.officer_al)
    nil = api_post(
        client, "/operations/TEST-OP/nil-returns", {"entry_point": world.durres.pk, "day": day.isoformat()}
    )
    assert nil.status_code == 201, nil.json()

    just_after_midnight = dt.datetime.combine(day, dt.time(0, 30), tzinfo=tirane)
    assert just_after_midnight.astimezone(dt.UTC).date() == before
    posted(world, inspected_at=just_after_midnight.isoformat())
    assert not NilReturn.objects.filter(entry_point=world.durres, day=day).exists()

    grid = board_snapshot(world.op)["compliance"]
    cells = dict(
        zip(grid["days"], next(r for r in grid["rows"] if r["entry_point"] == world.durres.pk)["cells"])
    )
    assert cells[day.isoformat()] == "results"
    assert cells[before.isoformat()] == "none"


def test_the_result_page_voids_and_shows_it_struck_through_with_its_reason(world: Any) -> None:
    result = posted(world)
    page_path = f"/operations/TEST-OP/results/{result['uuid']}/"
    officer = verified_client(world.officer_al)
    page = officer.get(page_path).content.decode()
    assert 'id="void-form"' in page and f"/results/{result['uuid']}/void" in page
    assert "result-void.js" in page and 'id="restore-form"' not in page
    # Who may not void sees no form.
    assert 'id="void-form"' not in verified_client(world.analyst).get(page_path).content.decode()

    void(world.officer_al, result["uuid"], "duplicate of R-ABCDEF12")
    page = officer.get(page_path).content.decode()
    assert 'id="voided-notice"' in page and "duplicate of R-ABCDEF12" in page
    assert 'class="card voided"' in page
    assert 'id="restore-form"' in page and 'id="void-form"' not in page

    listing = officer.get("/operations/TEST-OP/results/").content.decode()
    assert re.search(r'<tr class="[^"]*\bvoided\b[^"]*">', listing)
    assert '<span class="void-reason" dir="auto">duplicate of R-ABCDEF12</span>' in listing


def test_voided_rows_are_struck_through_by_the_style(world: Any) -> None:
    from django.template.loader import render_to_string

    css = render_to_string("results/_styles.html")
    assert "line-through" in css and ".voided" in css


def test_once_the_operation_is_closed_the_officer_no_longer_voids_but_ncp_and_coordinator_do(
    world: Any,
) -> None:
    first, second = posted(world)["uuid"], posted(world)["uuid"]
    operation_transition(operation=world.op, to_state=Operation.State.FOLLOW_UP, actor=None)
    operation_transition(operation=world.op, to_state=Operation.State.CLOSED, actor=None)
    assert void(world.officer_al, first).status_code == 409
    page = verified_client(world.officer_al).get(f"/operations/TEST-OP/results/{first}/").content.decode()
    assert 'id="void-form"' not in page
    assert void(world.ncp_al, first).status_code == 200
    assert void(world.coordinator, second).status_code == 200
    assert results_chain_verify(world.op.pk) is None
