"""Categories belong to an operation: its own list, started from the catalogue operations share.

Adding, renaming and reclassifying in one operation changes nothing in another; a category added
once joins the catalogue and is offered to the next operation; names show in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.utils import timezone

from cencomm.live import board_group, capture_live_events
from operations.models import CommodityCategory, Membership, OperationCategory
from operations.services import membership_add, operation_load
from tests.world import api_json, api_post, result_body, verified_client

PESTICIDES_AR = "مبيدات الآفات"


def _coordinate_other(world: SimpleNamespace) -> Any:
    """The world's coordinator coordinates OTHER-OP too."""
    membership_add(
        operation=world.other, user=world.coordinator, role=Membership.Role.COORDINATOR, actor=None
    )
    return verified_client(world.coordinator)


def _codes(client: Any, code: str) -> dict[str, str]:
    response = client.get(f"/api/v1/operations/{code}/categories")
    assert response.status_code == 200
    return {c["code"]: c["name"] for c in response.json()}


def _form_config(client: Any, code: str, **headers: Any) -> dict[str, Any]:
    page = client.get(f"/operations/{code}/results/new/", **headers)
    assert page.status_code == 200, page.status_code
    return page.context["config"]


def test_a_rename_in_one_operation_leaves_the_other_and_the_catalogue_unchanged(world: Any) -> None:
    client = _coordinate_other(world)
    response = api_json(
        client, "PATCH", "/api/v1/operations/TEST-OP/categories/medicines", {"name": "Medicines (all)"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Medicines (all)"
    assert _codes(client, "TEST-OP")["medicines"] == "Medicines (all)"
    assert _codes(client, "OTHER-OP")["medicines"] == "Medicines"
    assert CommodityCategory.objects.get(code="medicines").name == "Medicines"


def test_a_category_added_to_one_operation_is_not_offered_in_another(world: Any) -> None:
    client = _coordinate_other(world)
    added = api_post(client, "/operations/TEST-OP/categories", {"code": "pesticides", "name": "Pesticides"})
    assert added.status_code == 201, added.content
    assert "pesticides" in _codes(client, "TEST-OP")
    assert "pesticides" not in _codes(client, "OTHER-OP")
    # OTHER-OP's officer can neither pick it on the form nor post it
    officer = verified_client(world.officer_other)
    assert "pesticides" not in {c["code"] for c in _form_config(officer, "OTHER-OP")["categories"]}
    body = result_body(world, entry_point=world.piraeus, lines=[{"category": "pesticides", "quantity": 3}])
    refused = api_post(officer, "/operations/OTHER-OP/results", body)
    assert refused.status_code == 422 and "lines.0.category" in refused.json()["errors"]
    # ... nor can anyone post it there through the service
    ok = api_post(
        verified_client(world.officer_al),
        "/operations/TEST-OP/results",
        result_body(world, lines=[{"category": "pesticides", "quantity": 3}]),
    )
    assert ok.status_code == 201, ok.content


def test_the_catalogue_offers_a_new_category_to_the_next_operation(world: Any) -> None:
    client = _coordinate_other(world)
    names = {"fr": "Pesticides et engrais", "ar": PESTICIDES_AR}
    api_post(
        client, "/operations/TEST-OP/categories", {"code": "pesticides", "name": "Pesticides", "names": names}
    )
    # an operation that exists already picks it from the catalogue, in a minute, by its code alone
    offered = client.get("/api/v1/operations/OTHER-OP/categories/catalogue").json()
    assert "pesticides" in {c["code"] for c in offered}
    page = client.get("/operations/OTHER-OP/results/categories/").content.decode()
    assert 'value="pesticides"' in page
    picked = api_post(client, "/operations/OTHER-OP/categories", {"code": "pesticides"})
    assert picked.status_code == 201, picked.content
    assert picked.json()["name"] == "Pesticides" and picked.json()["names"] == names
    # a new operation starts from the catalogue
    start = timezone.now() - dt.timedelta(days=1)
    new = operation_load(
        {
            "code": "NEXT-OP",
            "name": "Operation Next",
            "window_start": start.isoformat(),
            "window_end": (start + dt.timedelta(days=7)).isoformat(),
            "administrations": [{"country": "AL", "name": "Albanian Customs"}],
        }
    )
    mine = OperationCategory.objects.get(operation=new, category__code="pesticides")
    assert (mine.name, mine.names) == ("Pesticides", names)
    # renaming it in NEXT-OP changes neither TEST-OP nor OTHER-OP
    mine.name = "Pesticides (NEXT)"
    mine.save()
    assert _codes(client, "TEST-OP")["pesticides"] == "Pesticides"


def test_a_category_name_in_arabic_shows_on_the_arabic_board_and_pages(world: Any) -> None:
    client = verified_client(world.coordinator)
    added = api_post(
        client,
        "/operations/TEST-OP/categories",
        {"code": "pesticides", "name": "Pesticides", "names": {"ar": PESTICIDES_AR, "fr": "Pesticides FR"}},
    )
    assert added.status_code == 201, added.content
    posted = api_post(
        verified_client(world.officer_al),
        "/operations/TEST-OP/results",
        result_body(world, lines=[{"category": "pesticides", "quantity": 40}]),
    )
    assert posted.status_code == 201, posted.content
    arabic = {"HTTP_ACCEPT_LANGUAGE": "ar"}

    board = client.get("/api/v1/operations/TEST-OP/board", **arabic).json()
    assert {c["label"] for c in board["categories"]} >= {PESTICIDES_AR}
    assert any(PESTICIDES_AR in [ln["category"] for ln in r["lines"]] for r in board["latest"])
    board_page = client.get("/operations/TEST-OP/results/board/", **arabic)
    assert {"code": "pesticides", "name": PESTICIDES_AR} in [
        {"code": c["code"], "name": c["name"]} for c in board_page.context["config"]["categories"]
    ]
    assert PESTICIDES_AR in client.get("/operations/TEST-OP/results/categories/", **arabic).content.decode()
    assert PESTICIDES_AR in client.get("/operations/TEST-OP/results/", **arabic).content.decode()
    form = _form_config(client, "TEST-OP", **arabic)
    assert {"code": "pesticides", "name": PESTICIDES_AR} in form["categories"]
    assert api_json(client, "GET", "/api/v1/operations/TEST-OP/categories", **arabic).json()[-1]["label"] in (
        PESTICIDES_AR,
        "Other",  # ordered by position: the new one may come before "Other"
    )
    # English readers (and the reports) keep the English name
    english = client.get("/api/v1/operations/TEST-OP/board", HTTP_ACCEPT_LANGUAGE="en").json()
    assert "Pesticides" in {c["label"] for c in english["categories"]}


def test_rename_gives_names_in_other_languages_and_refuses_a_bad_language(world: Any) -> None:
    client = verified_client(world.coordinator)
    path = "/api/v1/operations/TEST-OP/categories/medicines"
    renamed = api_json(client, "PATCH", path, {"names": {"ar": "الأدوية", "ru": "Лекарства"}})
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "Medicines"
    assert renamed.json()["names"] == {"ar": "الأدوية", "ru": "Лекарства"}
    bad = api_json(client, "PATCH", path, {"names": {"xx": "?"}})
    assert bad.status_code == 422
    officer = api_json(verified_client(world.officer_al), "PATCH", path, {"name": "Mine"})
    assert officer.status_code in (403, 409)


def test_reclassifying_in_one_operation_leaves_the_other_alone(world: Any) -> None:
    from results.models import GoodsLine

    client = _coordinate_other(world)
    officer = verified_client(world.officer_other)
    body = result_body(world, entry_point=world.piraeus, lines=[{"category": "other", "quantity": 7}])
    assert api_post(officer, "/operations/OTHER-OP/results", body).status_code == 201
    body = result_body(world, lines=[{"category": "other", "quantity": 5}])
    assert api_post(verified_client(world.officer_al), "/operations/TEST-OP/results", body).status_code == 201
    moved = api_post(
        client,
        "/operations/TEST-OP/reclassifications",
        {"from_category": "other", "to_category": "medicines", "reason": "test"},
    )
    assert moved.status_code == 200 and moved.json()["results"] == 1
    other_lines = GoodsLine.objects.filter(version__result__operation=world.other, version__is_current=True)
    assert [line.category.code for line in other_lines] == ["other"]


def test_the_data_migration_gives_each_operation_the_categories_it_uses(world: Any) -> None:
    """results/0004: every existing operation gets the categories its lines use and its targets;
    an operation still open keeps the whole active list it offered before."""
    from importlib import import_module

    from operations.services import operation_transition

    body = result_body(world, lines=[{"category": "games-toys", "quantity": 2}])
    assert api_post(verified_client(world.officer_al), "/operations/TEST-OP/results", body).status_code == 201
    for step in ("follow_up", "closed"):
        operation_transition(operation=world.op, to_state=step, actor=None)
    before_other = set(
        OperationCategory.objects.filter(operation=world.other).values_list("category_id", flat=True)
    )
    OperationCategory.objects.all().delete()
    import_module("results.migrations.0004_operation_categories").forwards(apps, None)
    closed = set(
        OperationCategory.objects.filter(operation=world.op).values_list("category__code", flat=True)
    )
    assert closed == {"games-toys", "medicines"}  # used, and the target category
    still_open = set(
        OperationCategory.objects.filter(operation=world.other).values_list("category_id", flat=True)
    )
    assert still_open == before_other


def test_only_the_renaming_operations_board_is_told(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = _coordinate_other(world)
    with capture_live_events() as events, django_capture_on_commit_callbacks(execute=True):
        response = api_json(
            client, "PATCH", "/api/v1/operations/TEST-OP/categories/medicines", {"name": "Medicines (all)"}
        )
        assert response.status_code == 200, response.content
        added = api_post(
            client, "/operations/TEST-OP/categories", {"code": "pesticides", "name": "Pesticides"}
        )
        assert added.status_code == 201, added.content
    groups = {group for group, _ in events}
    assert board_group(world.op.pk) in groups and board_group(world.other.pk) not in groups
