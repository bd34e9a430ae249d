"""Posting results: the short form, idempotent retries, sealed fields, refusals and bad input."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from cencomm.live import board_group, capture_live_events
from cencomm.models import AuditEvent, ChainHead
from operations.models import Operation
from operations.services import operation_transition
from results.models import GoodsLine, Result, ResultVersion
from tests.conftest import verified_client
from tests.results.conftest import api_post, body


def test_officer_posts_short_form_for_own_entry_point(
    world: Any, post: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with capture_live_events() as events, django_capture_on_commit_callbacks(execute=True):
        response = post(world.officer_al)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["entry_point"] == world.durres.pk and data["administration"] == "AL"
    assert data["current"]["number"] == 1 and data["current"]["chain_seq"] == 1
    assert data["late"] is False and data["validation"] == "pending"
    assert data["current"]["inspected_at_local"].endswith("Europe/Tirane")
    result = Result.objects.get()
    assert result.versions.get().lines.get().quantity == 1200
    assert AuditEvent.objects.filter(action="result.post", target_id=str(result.pk)).exists()
    assert [g for g, _ in events] == [board_group(world.op.pk)]
    assert events[0][1]["seq"] == 1 and events[0][1]["new"]["lines"][0]["qty"] == "1200.000"


def test_retry_with_same_client_id_returns_stored_result(world: Any) -> None:
    client = verified_client(world.officer_al)
    data = body(world)
    first = api_post(client, "/operations/TEST-OP/results", data)
    retry = api_post(client, "/operations/TEST-OP/results", data)
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json() == first.json()
    assert Result.objects.count() == 1 and ResultVersion.objects.count() == 1
    assert ChainHead.objects.get(name=f"results:{world.op.pk}").seq == 1


def test_same_client_id_with_another_body_is_a_conflict_naming_the_stored_result(world: Any) -> None:
    client = verified_client(world.officer_al)
    data = body(world)
    first = api_post(client, "/operations/TEST-OP/results", data)
    other = api_post(
        client, "/operations/TEST-OP/results", data | {"lines": [{"category": "other", "quantity": 1}]}
    )
    assert first.status_code == 201 and other.status_code == 409, other.json()
    assert other.json()["id"] == first.json()["uuid"] and "client_id" in other.json()["errors"]
    assert Result.objects.count() == 1 and ResultVersion.objects.count() == 1
    # the same client ID in capitals is the same ID (stored lower-cased)
    again = api_post(client, "/operations/TEST-OP/results", data | {"client_id": data["client_id"].upper()})
    assert again.status_code == 200 and again.json()["uuid"] == first.json()["uuid"]


@pytest.mark.parametrize("client_id", ["shared-id-123", "", "x" * 36, "12345678-1234-1234-1234-12345678901"])
def test_a_client_id_is_a_uuid_as_for_messages(world: Any, post: Any, client_id: str) -> None:
    response = post(world.officer_al, client_id=client_id)
    assert response.status_code == 422 and "client_id" in response.json()["errors"]
    assert Result.objects.count() == 0


def test_client_id_of_another_user_is_refused(world: Any, post: Any) -> None:
    shared = str(uuid.uuid4())
    first = post(world.officer_al, client_id=shared)
    second = post(world.coordinator, client_id=shared)
    assert first.status_code == 201
    assert second.status_code == 422 and "client_id" in second.json()["errors"]


def test_sealed_fields_are_not_stored_in_clear(world: Any, post: Any) -> None:
    response = post(
        world.officer_al,
        notes="Driver Arben Hoxha hid them",
        reference="MSCU7654321",
        parties="Importer: Shqiponja Trading sh.p.k.",
        lines=[{"category": "medicines", "quantity": 10, "brand": "Pfizer"}],
    )
    assert response.status_code == 201
    assert response.json()["current"]["notes"] == "Driver Arben Hoxha hid them"
    assert response.json()["current"]["lines"][0]["brand"] == "Pfizer"
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM results_resultversion")
        version_row = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM results_goodsline")
        line_row = repr(cursor.fetchall())
    for secret in ("Arben", "MSCU7654321", "Shqiponja"):
        assert secret not in version_row
    assert "Pfizer" not in line_row


def test_coordinator_posts_for_any_entry_point(world: Any, post: Any) -> None:
    assert post(world.coordinator, entry_point=world.bari).status_code == 201
    assert Result.objects.get().administration == world.it


def test_officer_cannot_post_for_another_entry_point(world: Any, post: Any) -> None:
    response = post(world.officer_al, entry_point=world.bari)
    assert response.status_code == 422
    assert "entry_point" in response.json()["errors"]
    assert not Result.objects.exists()


def test_one_answer_names_every_bad_field_the_entry_point_included(world: Any, post: Any) -> None:
    """A phone on a poor network should not need a second round trip to learn the next error."""
    response = post(
        world.officer_al,
        entry_point=world.bari,
        origin="XX",
        lines=[{"category": "medicines", "quantity": 5, "gtin": "4006381333932"}],
    )
    assert response.status_code == 422
    assert {"entry_point", "origin", "lines.0.gtin"} <= set(response.json()["errors"])
    assert not Result.objects.exists()


def test_entry_point_of_another_operation_is_a_field_error(world: Any, post: Any) -> None:
    response = post(world.coordinator, entry_point=world.piraeus)
    assert response.status_code == 422 and "entry_point" in response.json()["errors"]


@pytest.mark.parametrize("who", ["outsider", "officer_other"])
def test_non_members_get_not_found(world: Any, post: Any, who: str) -> None:
    response = post(getattr(world, who))
    assert response.status_code == 404
    assert not Result.objects.exists()


@pytest.mark.parametrize("who", ["observer", "ncp_al"])
def test_readers_cannot_post(world: Any, post: Any, who: str) -> None:
    response = post(getattr(world, who))
    assert response.status_code == 409
    assert not Result.objects.exists()


def test_posting_is_refused_once_operation_is_closed(world: Any, post: Any) -> None:
    operation_transition(operation=world.op, to_state=Operation.State.FOLLOW_UP, actor=None)
    late = post(world.officer_al)
    assert late.status_code == 201 and late.json()["late"] is True
    operation_transition(operation=world.op, to_state=Operation.State.CLOSED, actor=None)
    closed = post(world.officer_al)
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]
    assert Result.objects.count() == 1


def _line(**overrides: Any) -> list[dict[str, Any]]:
    return [{"category": "medicines", "quantity": 5} | overrides]


BAD_INPUT = [
    ({"origin": "XX"}, "origin"),
    ({"departure": "ZZ"}, "departure"),
    ({"transit": ["RS", "QQ"]}, "transit"),
    ({"outcome": "confiscated"}, "outcome"),
    ({"transport_mode": "teleport"}, "transport_mode"),
    ({"currency": "XYZ", "estimated_value": 100}, "currency"),
    ({"estimated_value": 100}, "currency"),
    ({"lines": _line(category="unicorns")}, "lines.0.category"),
    ({"lines": _line(gtin="4006381333932")}, "lines.0.gtin"),
    ({"lines": _line(gtin="12345")}, "lines.0.gtin"),
    ({"lines": _line(hs_code="7712")}, "lines.0.hs_code"),
    ({"lines": _line(hs_code="300490")}, None),  # a valid HS code and no error: control row
    ({"lines": _line(hs_code="98765")}, "lines.0.hs_code"),
    ({"lines": _line(quantity=-3)}, "lines.0.quantity"),
    ({"lines": _line(quantity=0)}, "lines.0.quantity"),
    ({"lines": _line(quantity=10**9)}, "lines.0.quantity"),
    ({"lines": _line(unit="barrels")}, "lines.0.unit"),
    ({"lines": []}, "lines"),
    ({"inspected_at": "2020-01-01T10:00:00+00:00"}, "inspected_at"),
    ({"inspected_at": "2026-01-01T10:00:00"}, "inspected_at"),
    ({"answers_warning": "6f1c2d1e-0000-4000-8000-000000000000"}, "answers_warning"),
    ({"unexpected": 1}, "unexpected"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_INPUT)
def test_bad_input_is_a_field_error_and_stores_nothing(
    world: Any, post: Any, overrides: dict[str, Any], field: str | None
) -> None:
    response = post(world.officer_al, **overrides)
    if field is None:
        assert response.status_code == 201
        return
    assert response.status_code == 422, response.json()
    assert field in response.json()["errors"], response.json()
    assert not Result.objects.exists() and not GoodsLine.objects.exists()
    assert not ChainHead.objects.filter(name=f"results:{world.op.pk}").exists()


def test_future_time_is_refused(world: Any, post: Any) -> None:
    response = post(world.officer_al, inspected_at=(timezone.now() + dt.timedelta(hours=3)).isoformat())
    assert response.status_code == 422 and "inspected_at" in response.json()["errors"]


def test_half_valid_post_stores_nothing(world: Any, post: Any) -> None:
    lines = [
        {"category": "medicines", "quantity": 100, "gtin": "4006381333931"},
        {"category": "games-toys", "quantity": 20, "gtin": "4006381333932"},
    ]
    response = post(world.officer_al, lines=lines)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["lines.1.gtin"]
    assert (
        not Result.objects.exists() and not ResultVersion.objects.exists() and not GoodsLine.objects.exists()
    )


def test_several_bad_fields_are_reported_together(world: Any, post: Any) -> None:
    response = post(world.officer_al, origin="XX", lines=_line(quantity=-1, hs_code="7701"))
    assert response.status_code == 422
    assert {"origin", "lines.0.quantity", "lines.0.hs_code"} <= set(response.json()["errors"])


def test_nil_return_is_idempotent_and_shows_in_compliance(world: Any) -> None:
    client = verified_client(world.officer_al)
    today = timezone.now().astimezone(dt.UTC).date()
    first = api_post(
        client, "/operations/TEST-OP/nil-returns", {"entry_point": world.durres.pk, "day": today}
    )
    again = api_post(
        client, "/operations/TEST-OP/nil-returns", {"entry_point": world.durres.pk, "day": today}
    )
    assert first.status_code == 201 and again.status_code == 200
    board = verified_client(world.coordinator).get("/api/v1/operations/TEST-OP/board").json()
    grid = board["compliance"]
    row = next(r for r in grid["rows"] if r["entry_point"] == world.durres.pk)
    assert row["cells"][grid["days"].index(today.isoformat())] == "nil"
    other = api_post(client, "/operations/TEST-OP/nil-returns", {"entry_point": world.bari.pk, "day": today})
    assert other.status_code == 422
    outside = api_post(
        client, "/operations/TEST-OP/nil-returns", {"entry_point": world.durres.pk, "day": "2020-01-01"}
    )
    assert outside.status_code == 422 and "day" in outside.json()["errors"]


def test_post_body_is_json_with_field_names(world: Any) -> None:
    client = verified_client(world.officer_al)
    response = client.post("/api/v1/operations/TEST-OP/results", "not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert not Result.objects.exists()
    assert json.loads(response.content)


def test_result_links_the_warning_it_answers(world: Any, post: Any) -> None:
    import uuid as uuid_module

    from cencomm.principal import Principal
    from messaging.models import Room
    from messaging.services import message_post, rooms_ensure
    from operations.selectors import access_membership

    rooms_ensure(operation=world.op)
    room = Room.objects.get(operation=world.op, kind=Room.Kind.OPERATION)
    coordinator = access_membership(Principal(world.coordinator), operation_code="TEST-OP")
    warning, _ = message_post(
        membership=coordinator,
        room=room,
        client_id=uuid_module.uuid4(),
        text="Watch containers from Ningbo",
        kind="warning",
    )
    chat, _ = message_post(membership=coordinator, room=room, client_id=uuid_module.uuid4(), text="hello")
    linked = post(world.officer_al, answers_warning=str(warning.uid))
    assert linked.status_code == 201 and linked.json()["current"]["answers_warning"] == str(warning.uid)
    not_a_warning = post(world.officer_al, answers_warning=str(chat.uid))
    assert not_a_warning.status_code == 422 and "answers_warning" in not_a_warning.json()["errors"]


def test_live_events_and_audit_carry_no_sealed_text(
    world: Any, post: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with capture_live_events() as events, django_capture_on_commit_callbacks(execute=True):
        uid = post(
            world.officer_al,
            notes="SECRET-NOTE-42",
            reference="SECRET-REF-42",
            parties="SECRET-PARTY-42",
            lines=[{"category": "medicines", "quantity": 3, "brand": "SECRET-BRAND-42"}],
        ).json()["uuid"]
        api_post(
            verified_client(world.ncp_al),
            f"/operations/TEST-OP/results/{uid}/validation",
            {"decision": "validated"},
        )
    assert len(events) == 2
    everything = json.dumps(events, default=str) + json.dumps(
        list(AuditEvent.objects.values("data")), default=str
    )
    assert "SECRET" not in everything


def test_programs_post_with_a_token_scoped_to_the_operation(world: Any) -> None:
    from django.test import Client

    from operations.services import api_token_create
    from tests.conftest import bearer

    _, token = api_token_create(user=world.officer_al, operation=world.op, name="bench", days=1)
    client = Client()
    response = client.post(
        "/api/v1/operations/TEST-OP/results",
        json.dumps(body(world)),
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code == 201
    membership_elsewhere = client.get("/api/v1/operations/OTHER-OP/results", **bearer(token))
    assert membership_elsewhere.status_code == 404
    assert (
        client.post(
            "/api/v1/operations/TEST-OP/results", json.dumps(body(world)), content_type="application/json"
        ).status_code
        == 401
    )
