"""Every API endpoint, page and socket route, tried by people who should not reach it.

Outsiders and officers of another operation get exactly what a request for a non-existent object
gets (same status, same body), and nothing is written. Members without the right role, or officers
of another entry point, are refused and nothing is written. Endpoints are read from the served
OpenAPI schema, so new ones are attacked without a change here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from tests.conftest import verified_client, ws_communicator
from tests.security.conftest import (
    fill,
    missing_values,
    openapi_operations,
    page_routes,
    path_values,
    result_body,
    row_counts,
    seed_operation,
    socket_routes,
)

ENDPOINTS = openapi_operations()
ENDPOINT_IDS = [f"{m} {p}" for m, p, _ in ENDPOINTS]


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def valid_body(method: str, template: str, w: SimpleNamespace) -> dict[str, Any] | None:
    """A body the endpoint would accept from a member allowed to call it (None: send no body)."""
    posted_on = (timezone.now() - dt.timedelta(hours=1)).astimezone(ZoneInfo(w.durres.time_zone)).date()
    nil_day = posted_on - dt.timedelta(days=1)
    content = {k: v for k, v in result_body(w).items() if k not in ("client_id", "entry_point")}
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/operations/{code}/categories"): {"code": "pesticides", "name": "Pesticides"},
        ("PATCH", "/operations/{code}/categories/{category_code}"): {"name": "Renamed medicines"},
        ("POST", "/operations/{code}/reclassifications"): {
            "from_category": "medicines",
            "to_category": "other",
            "reason": "r",
        },
        # a day before the one the results are posted on (an hour ago, at Durrës): it has none
        ("POST", "/operations/{code}/nil-returns"): {"entry_point": w.durres.pk, "day": nil_day.isoformat()},
        ("POST", "/operations/{code}/results"): result_body(w),
        ("POST", "/operations/{code}/results/{result_uuid}/corrections"): {**content, "reason": "typo"},
        ("POST", "/operations/{code}/results/{result_uuid}/validation"): {
            "decision": "validated",
            "comment": "",
        },
        ("POST", "/operations/{code}/reports"): {"edition": "public", "format": "csv"},
        ("POST", "/operations/{code}/transitions"): {"to_state": "follow_up"},
        ("POST", "/operations/{code}/rooms"): {"name": "Side room", "members": []},
        ("POST", "/operations/{code}/rooms/{room_id}/messages"): {
            "client_id": str(uuid.uuid4()),
            "text": "hello",
        },
        ("PATCH", "/operations/{code}/messages/{message_id}"): {"text": "edited"},
        ("PUT", "/operations/{code}/rooms/{room_id}/read"): {"seq": 1},
        ("POST", "/tokens"): {"operation": "TEST-OP", "name": "stolen"},
    }
    return bodies.get((method, template), {} if method in ("POST", "PUT", "PATCH") else None)


def call(
    client: Client,
    method: str,
    template: str,
    operation: dict[str, Any],
    values: dict[str, Any],
    w: SimpleNamespace,
) -> Any:
    path = "/api/v1" + fill(template, values)
    content_types = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content_types:
        upload = io.BytesIO(png_bytes())
        upload.name = "goods.png"
        return client.post(path, {"file": upload, "handling": "operation"})
    body = valid_body(method, template, w)
    if body is None:
        return getattr(client, method.lower())(path)
    return getattr(client, method.lower())(
        path, json.dumps(body, default=str), content_type="application/json"
    )


def answer(response: Any) -> tuple[int, Any]:
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.content


@pytest.fixture
def attack(world: SimpleNamespace) -> SimpleNamespace:
    seed = seed_operation(world)
    from cencomm.models import ApiToken
    from operations.services import api_token_create

    token, _ = api_token_create(user=world.coordinator, operation=world.op, name="coordinator's", days=5)
    seed.token_id = token.pk
    assert ApiToken.objects.filter(pk=token.pk).exists()
    return SimpleNamespace(
        w=world, seed=seed, real=path_values(seed), missing=missing_values(path_values(seed))
    )


@pytest.mark.parametrize("who", ["outsider", "officer_other"])
@pytest.mark.parametrize(("method", "template", "operation"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_non_member_gets_what_a_missing_object_gets_and_writes_nothing(
    attack, who, method, template, operation
):
    w = attack.w
    client = verified_client(getattr(w, who))
    before = row_counts()
    real = answer(call(client, method, template, operation, attack.real, w))
    assert row_counts() == before, f"{who} wrote rows through {method} {template}"
    if "{" not in template:  # the caller's own things: nothing of TEST-OP in them
        assert b"TEST-OP" not in json.dumps(real[1], default=str).encode()
        assert real[0] in (200, 201, 404, 422), real
        return
    missing = answer(call(client, method, template, operation, attack.missing, w))
    assert real == missing, f"{who} can tell a real object from a missing one at {method} {template}"
    assert real[0] in (404, 422), real


# Members of TEST-OP whose role does not allow the action: refused, and nothing stored.
ROLE_REFUSALS = [
    ("observer", "POST", "/operations/{code}/categories"),
    ("observer", "PATCH", "/operations/{code}/categories/{category_code}"),
    ("observer", "POST", "/operations/{code}/reclassifications"),
    ("observer", "POST", "/operations/{code}/transitions"),
    ("observer", "POST", "/operations/{code}/results"),
    ("observer", "POST", "/operations/{code}/nil-returns"),
    ("observer", "POST", "/operations/{code}/results/{result_uuid}/corrections"),
    ("observer", "POST", "/operations/{code}/results/{result_uuid}/validation"),
    ("observer", "POST", "/operations/{code}/rooms"),
    ("observer", "POST", "/operations/{code}/rooms/{room_id}/messages"),
    ("observer", "PATCH", "/operations/{code}/messages/{message_id}"),
    ("observer", "DELETE", "/operations/{code}/messages/{message_id}"),
    ("officer_al", "POST", "/operations/{code}/categories"),
    ("officer_al", "POST", "/operations/{code}/transitions"),
    ("officer_al", "POST", "/operations/{code}/reclassifications"),
    ("officer_al", "POST", "/operations/{code}/rooms"),
    # An officer of another entry point: not for Durrës, not someone else's result or message.
    ("officer_it", "POST", "/operations/{code}/results"),
    ("officer_it", "POST", "/operations/{code}/nil-returns"),
    ("officer_it", "POST", "/operations/{code}/results/{result_uuid}/corrections"),
    ("officer_it", "POST", "/operations/{code}/results/{result_uuid}/validation"),
    ("officer_it", "PATCH", "/operations/{code}/messages/{message_id}"),
    ("officer_it", "DELETE", "/operations/{code}/messages/{message_id}"),
    ("ncp_al", "POST", "/operations/{code}/categories"),
]


@pytest.mark.parametrize(
    ("who", "method", "template"), ROLE_REFUSALS, ids=[" ".join(r) for r in ROLE_REFUSALS]
)
def test_member_without_the_role_is_refused_and_nothing_is_stored(attack, who, method, template):
    operation = next((op for m, t, op in ENDPOINTS if (m, t) == (method, template)), None)
    if operation is None:
        pytest.skip(f"{method} {template} is not in the API (yet)")
    w = attack.w
    client = verified_client(getattr(w, who))
    before = row_counts()
    status, body = answer(call(client, method, template, operation, attack.real, w))
    # 422 only where the refusal is about a field the caller chose (another entry point).
    assert status in (403, 404, 409) or (status == 422 and "entry_point" in body.get("errors", {})), (
        status,
        body,
    )
    assert row_counts() == before, f"{who} wrote rows through {method} {template}"


def test_the_allowed_member_succeeds_with_the_same_bodies(attack):
    """The refusals above are refusals of the role, not of a broken body: the right people succeed."""
    w = attack.w
    allowed = [
        ("coordinator", "POST", "/operations/{code}/categories", 201),
        ("coordinator", "POST", "/operations/{code}/rooms", 201),
        ("officer_al", "POST", "/operations/{code}/results", 201),
        ("officer_al", "POST", "/operations/{code}/nil-returns", 201),
        ("officer_al", "POST", "/operations/{code}/results/{result_uuid}/corrections", 201),
        ("ncp_al", "POST", "/operations/{code}/results/{result_uuid}/validation", 200),
        ("officer_al", "PATCH", "/operations/{code}/messages/{message_id}", 200),
    ]
    for who, method, template, expected in allowed:
        operation = next((op for m, t, op in ENDPOINTS if (m, t) == (method, template)), None)
        if operation is None:
            continue
        status, body = answer(
            call(verified_client(getattr(w, who)), method, template, operation, attack.real, w)
        )
        assert status == expected, (who, method, template, status, body)


def test_every_path_parameter_has_a_value():
    """A new endpoint with a new path parameter must get a value here, so that it is attacked."""
    for _, template, _ in ENDPOINTS:
        fill(template, path_values(None))
    for route in socket_routes() + page_routes():
        fill(route, path_values(None))


# --- pages --------------------------------------------------------------------------------------


def page(client: Client, path: str) -> Any:
    response = client.get(path)
    return client.post(path, {"to_state": "follow_up"}) if response.status_code == 405 else response


@pytest.mark.parametrize("route", [r for r in page_routes() if "<" in r])
def test_pages_of_an_operation_are_not_found_for_non_members(attack, route):
    for who in ("outsider", "officer_other"):
        client = verified_client(getattr(attack.w, who))
        real, missing = (page(client, fill(route, values)) for values in (attack.real, attack.missing))
        assert real.status_code == missing.status_code == 404, (who, route, real.status_code)


# --- sockets ------------------------------------------------------------------------------------

OPERATION_SOCKETS = [r for r in socket_routes() if "code" in r]


async def close_code(path: str, client: Client) -> int | None:
    communicator = ws_communicator(path, client=client)
    connected, code = await communicator.connect()
    assert connected, "refused with HTTP 403: a refusal is a close code (docs/protocol.md)"
    output = await communicator.receive_output(timeout=2)
    await communicator.disconnect()
    return output.get("code") if output["type"] == "websocket.close" else 1000


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", OPERATION_SOCKETS)
@pytest.mark.parametrize("who", ["outsider", "officer_other"])
async def test_socket_of_an_operation_closes_4404_for_non_members_like_a_missing_one(tworld, route, who):
    client = await sync_to_async(verified_client)(getattr(tworld, who))
    before = await sync_to_async(row_counts)()
    real = await close_code(fill(route, {"code": "TEST-OP"}), client)
    missing = await close_code(fill(route, {"code": "NO-SUCH-OP"}), client)
    assert real == missing == 4404
    assert await sync_to_async(row_counts)() == before


@pytest.mark.django_db(transaction=True)
async def test_board_socket_is_refused_to_roles_without_the_board(tworld):
    from results.selectors import BOARD_ROLES

    route = next((r for r in OPERATION_SOCKETS if "board" in r), None)
    if route is None:
        pytest.skip("no board socket")
    for who in ("officer_al", "officer_it", "ncp_al", "observer", "coordinator"):
        user = getattr(tworld, who)
        role = await sync_to_async(lambda u=user: tworld.op.memberships.get(user=u).role)()
        client = await sync_to_async(verified_client)(user)
        code = await close_code(fill(route, {"code": "TEST-OP"}), client)
        if role in BOARD_ROLES:
            assert code == 1000, (who, code)
        else:
            assert code == 4404, (who, code)


def rooms_route() -> str | None:
    return next((r for r in OPERATION_SOCKETS if "rooms" in r), None)


async def rooms_socket(user: Any) -> Any:
    client = await sync_to_async(verified_client)(user)
    communicator = ws_communicator(fill(rooms_route(), {"code": "TEST-OP"}), client=client)
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from(timeout=3)
    assert hello["type"] == "hello"
    return communicator, hello


async def closed(communicator: Any) -> dict[str, Any]:
    """Read until the server closes the socket; the close message (its ``code``)."""
    while True:
        output = await communicator.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            return output


async def next_frame(communicator: Any, *types: str) -> dict[str, Any]:
    while True:
        frame = await communicator.receive_json_from(timeout=3)
        if frame["type"] in types:
            return frame


@pytest.mark.django_db(transaction=True)
async def test_rooms_socket_frames_for_rooms_and_messages_of_another_operation_get_not_found(tworld):
    if rooms_route() is None:
        pytest.skip("no rooms socket")
    from messaging import services
    from messaging.models import Message, Room

    def other_operation_room() -> tuple[int, int]:
        services.rooms_ensure(operation=tworld.other)
        room = Room.objects.get(operation=tworld.other, kind=Room.Kind.OPERATION)
        membership = tworld.other.memberships.get(user=tworld.officer_other)
        message, _ = services.message_post(
            membership=membership,
            room=room,
            client_id=uuid.uuid4(),
            text="Piraeus only",
            kind="chat",
            handling="operation",
            reply_to_id=None,
            warning_id=None,
            entry_point_ids=[],
            attachment_ids=[],
        )
        return room.pk, message.pk

    room_id, message_id = await sync_to_async(other_operation_room)()
    communicator, _ = await rooms_socket(tworld.coordinator)
    before = await sync_to_async(Message.objects.count)()
    frames = [
        {"type": "subscribe", "ref": "a", "rooms": [{"room": room_id, "after_seq": 0}]},
        {"type": "send", "ref": "b", "room": room_id, "client_id": str(uuid.uuid4()), "text": "intrusion"},
        {"type": "edit", "ref": "c", "message": message_id, "text": "defaced"},
        {"type": "withdraw", "ref": "d", "message": message_id},
        {"type": "ack", "ref": "e", "message": message_id},
        {"type": "read", "ref": "f", "room": room_id, "seq": 1},
        {"type": "history", "ref": "g", "room": room_id, "before_seq": 2},
    ]
    for frame in frames:
        await communicator.send_json_to(frame)
        reply = await next_frame(
            communicator, "error", "messages", "history", "subscribed", "sent", "done", "read"
        )
        assert reply["type"] == "error" and reply["code"] == "not_found", (frame["type"], reply)
        assert "Piraeus" not in json.dumps(reply)
        # ...and the same as for a room or message that does not exist at all.
        missing = {**frame, **{k: 987654321 for k in ("room", "message") if k in frame}}
        if "rooms" in frame:
            missing["rooms"] = [{"room": 987654321, "after_seq": 0}]
        await communicator.send_json_to(missing)
        missing_reply = await next_frame(
            communicator, "error", "messages", "history", "subscribed", "sent", "done", "read"
        )
        strip = lambda f: {k: v for k, v in f.items() if k != "fields"}  # noqa: E731 - fields name the id sent
        assert strip(missing_reply) == strip(reply)
    assert await sync_to_async(Message.objects.count)() == before
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_observer_cannot_post_and_officer_cannot_send_warnings_on_the_socket(tworld):
    if rooms_route() is None:
        pytest.skip("no rooms socket")
    from messaging.models import Message

    for who, kind in (("observer", "chat"), ("officer_al", "warning"), ("officer_al", "alert")):
        communicator, hello = await rooms_socket(getattr(tworld, who))
        room = next(r["id"] for r in hello["rooms"] if r["kind"] == "operation")
        await communicator.send_json_to(
            {
                "type": "send",
                "ref": "s",
                "room": room,
                "client_id": str(uuid.uuid4()),
                "text": "not allowed",
                "kind": kind,
            }
        )
        reply = await next_frame(communicator, "error", "sent")
        assert reply["type"] == "error", (who, kind, reply)
        await communicator.disconnect()
    assert await sync_to_async(Message.objects.count)() == 0


@pytest.mark.django_db(transaction=True)
async def test_officer_does_not_get_the_other_administrations_room(tworld):
    if rooms_route() is None:
        pytest.skip("no rooms socket")
    from messaging.models import Room

    communicator, hello = await rooms_socket(tworld.officer_al)
    mine = {r["id"] for r in hello["rooms"]}
    italian = await sync_to_async(
        lambda: Room.objects.get(operation=tworld.op, administration=tworld.it).pk
    )()
    coordinators = await sync_to_async(
        lambda: Room.objects.get(operation=tworld.op, kind="coordinators").pk
    )()
    assert italian not in mine and coordinators not in mine
    await communicator.send_json_to(
        {"type": "subscribe", "ref": "x", "rooms": [{"room": italian, "after_seq": 0}]}
    )
    reply = await next_frame(communicator, "error", "subscribed")
    assert reply["type"] == "error" and reply["code"] == "not_found"
    await communicator.disconnect()


# --- permission changes reach open sockets at once -------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", OPERATION_SOCKETS)
async def test_removed_member_socket_closes_at_once(tworld, route):
    from operations.services import membership_remove

    who = tworld.coordinator  # the coordinator may open every operation socket
    client = await sync_to_async(verified_client)(who)
    communicator = ws_communicator(fill(route, {"code": "TEST-OP"}), client=client)
    assert (await communicator.connect())[0]
    membership = await sync_to_async(lambda: tworld.op.memberships.get(user=who))()
    await sync_to_async(membership_remove)(membership=membership, actor=None)
    assert (await closed(communicator))["code"] == 4404


@pytest.mark.django_db(transaction=True)
async def test_role_change_takes_the_board_away_from_an_open_socket(tworld):
    from operations.models import Membership
    from operations.services import membership_add, membership_remove
    from results.selectors import BOARD_ROLES

    route = next((r for r in OPERATION_SOCKETS if "board" in r), None)
    if route is None:
        pytest.skip("no board socket")
    assert Membership.Role.OFFICER not in BOARD_ROLES
    client = await sync_to_async(verified_client)(tworld.coordinator)
    communicator = ws_communicator(fill(route, {"code": "TEST-OP"}), client=client)
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from(timeout=3))["type"] == "board.snapshot"

    def demote() -> None:
        membership_remove(membership=tworld.op.memberships.get(user=tworld.coordinator), actor=None)
        membership_add(
            operation=tworld.op,
            user=tworld.coordinator,
            role=Membership.Role.OFFICER,
            entry_point=tworld.durres,
            actor=None,
        )

    await sync_to_async(demote)()
    assert (await closed(communicator))["code"] == 4404


@pytest.mark.django_db(transaction=True)
async def test_a_frame_after_removal_is_refused_even_if_the_event_was_lost(tworld):
    """authorize() runs before every frame: a lost access.changed event does not keep the door open."""
    from operations.models import Membership

    client = await sync_to_async(verified_client)(tworld.coordinator)
    for route in OPERATION_SOCKETS:
        communicator = ws_communicator(fill(route, {"code": "TEST-OP"}), client=client)
        assert (await communicator.connect())[0]
        # Removed behind the services' back: no live event at all.
        await sync_to_async(
            lambda: Membership.objects.filter(user=tworld.coordinator, operation=tworld.op).delete()
        )()
        await communicator.send_json_to({"type": "ping", "ref": "p"})
        while True:
            output = await communicator.receive_output(timeout=2)
            if output["type"] == "websocket.close":
                break
            assert "pong" not in output.get("text", ""), route
        assert output["code"] == 4404
        from operations.services import membership_add

        await sync_to_async(membership_add)(
            operation=tworld.op, user=tworld.coordinator, role=Membership.Role.COORDINATOR, actor=None
        )


@pytest.mark.parametrize("route", [r for r in page_routes() if "<int:" in r])
def test_an_id_past_the_database_range_on_a_page_is_not_found_not_a_server_error(world, route):
    values = {**path_values(None), **{name: 10**20 for name in path_values(None) if name != "code"}}
    client = verified_client(world.coordinator)
    client.raise_request_exception = False
    assert page(client, fill(route, values)).status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_an_officer_cannot_edit_or_withdraw_another_officers_message_on_the_socket(tworld):
    if rooms_route() is None:
        pytest.skip("no rooms socket")
    from messaging.models import Message

    seed = await sync_to_async(seed_operation)(tworld)  # a message by the Durrës officer
    communicator, _ = await rooms_socket(tworld.officer_it)
    for frame in (
        {"type": "edit", "ref": "e", "message": seed.message_id, "text": "forged"},
        {"type": "withdraw", "ref": "w", "message": seed.message_id},
    ):
        await communicator.send_json_to(frame)
        reply = await next_frame(communicator, "error", "done")
        assert reply["type"] == "error", reply
    await communicator.disconnect()
    message = await sync_to_async(Message.objects.get)(pk=seed.message_id)
    assert (message.version, message.withdrawn_at) == (1, None)


def test_members_reach_only_their_own_rooms_attachments_and_reports(attack):
    """Inside the operation: another administration's room and photo, the coordinators' room and a
    coordinator's restricted report are what a missing object is to an officer."""
    from messaging.models import Room
    from reports.services import report_run_pending

    w = attack.w
    albanian = Room.objects.get(operation=w.op, administration=w.al).pk
    coordinators = Room.objects.get(operation=w.op, kind="coordinators").pk
    upload = io.BytesIO(png_bytes())
    upload.name = "seal.png"
    photo = verified_client(w.officer_al).post(
        f"/api/v1/operations/TEST-OP/rooms/{albanian}/attachments", {"file": upload}
    )
    assert photo.status_code == 201
    report = verified_client(w.coordinator).post(
        "/api/v1/operations/TEST-OP/reports",
        {"edition": "restricted", "format": "json"},
        content_type="application/json",
    )
    assert report.status_code == 202
    report_run_pending()
    italian = verified_client(w.officer_it)
    base = "/api/v1/operations/TEST-OP"
    for path, missing in [
        (f"{base}/attachments/{photo.json()['id']}", f"{base}/attachments/{uuid.uuid4()}"),
        (
            f"{base}/attachments/{photo.json()['id']}?original=true",
            f"{base}/attachments/{uuid.uuid4()}?original=true",
        ),
        (f"{base}/rooms/{albanian}/messages", f"{base}/rooms/987654321/messages"),
        (f"{base}/rooms/{coordinators}/messages", f"{base}/rooms/987654321/messages"),
        (f"{base}/reports/{report.json()['id']}", f"{base}/reports/987654321"),
        (f"{base}/reports/{report.json()['id']}/download", f"{base}/reports/987654321/download"),
        (
            f"/operations/TEST-OP/reports/{report.json()['id']}/download",
            "/operations/TEST-OP/reports/987654321/download",
        ),
        (f"/operations/TEST-OP/rooms/{coordinators}/", "/operations/TEST-OP/rooms/987654321/"),
    ]:
        real, absent = answer(italian.get(path)), answer(italian.get(missing))
        assert real[0] == 404 and real == absent, (path, real[0])
    # The owner does reach them (the refusals above are about who asks).
    assert verified_client(w.officer_al).get(f"{base}/attachments/{photo.json()['id']}").status_code == 200
    assert (
        verified_client(w.coordinator).get(f"{base}/reports/{report.json()['id']}/download").status_code
        == 200
    )
