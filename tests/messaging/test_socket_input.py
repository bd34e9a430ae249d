"""Bad frames on the rooms socket: an error frame, nothing stored, abusers closed, others unaffected."""

from __future__ import annotations

import json
import uuid

import pytest
from channels.db import database_sync_to_async

from messaging.models import Message
from tests.conftest import verified_client, ws_communicator
from tests.messaging.conftest import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def count() -> int:
    return Message.objects.count()


@pytest.mark.parametrize(
    "frame, code",
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        (json.dumps({"type": "room.message", "room": 1, "seq": 99}), "unknown_type"),  # a layer event type
        (json.dumps({"type": "access_changed"}), "unknown_type"),
        (
            json.dumps({"type": "send", "room": "1", "client_id": str(uuid.UUID(int=1)), "text": "x"}),
            "invalid_frame",
        ),
        (json.dumps({"type": "send", "room": 1, "client_id": "nope", "text": "x"}), "invalid_frame"),
        (
            json.dumps(
                {"type": "send", "room": 1, "client_id": str(uuid.UUID(int=1)), "text": "x", "author": 3}
            ),
            "invalid_frame",
        ),
        (
            json.dumps({"type": "send", "room": 1, "client_id": str(uuid.UUID(int=1)), "text": "x" * 4001}),
            "invalid_frame",
        ),
        (
            json.dumps({"type": "send", "room": 1, "client_id": str(uuid.UUID(int=1)), "text": "  "}),
            "invalid",
        ),
        (
            json.dumps(
                {"type": "send", "room": 1, "client_id": str(uuid.UUID(int=1)), "text": "x", "kind": "alert"}
            ),
            "refused",
        ),
        (json.dumps({"type": "subscribe", "rooms": [{"room": 1, "after_seq": -1}]}), "invalid_frame"),
    ],
)
async def test_malformed_unknown_and_forged_frames_get_an_error_and_store_nothing(tworld, frame, code):
    durres = await open_socket(tworld.officer_al)
    room = durres.room("operation")
    await durres.comm.send_to(text_data=frame.replace('"room": 1', f'"room": {room}'))
    error = await durres.frame("error")
    assert error["code"] == code
    assert await database_sync_to_async(count)() == 0
    # The socket is still usable after one bad frame.
    assert (await durres.post(room, "still here"))["type"] == "sent"
    await durres.close()


async def test_oversized_frame_closes_the_socket_and_others_carry_on(tworld):
    bari = await open_socket(tworld.officer_it, subscribe={})
    durres = await open_socket(tworld.officer_al)
    room = durres.room("operation")
    await durres.comm.send_to(
        text_data=json.dumps(
            {"type": "send", "room": room, "client_id": str(uuid.uuid4()), "text": "x" * 70000}
        )
    )
    assert (await durres.frame("error"))["code"] == "too_large"
    assert (await durres.comm.receive_output())["code"] == 4413
    coordinator = await open_socket(tworld.coordinator)
    await coordinator.post(room, "others unaffected")
    assert [m["text"] for m in await bari.messages(1)] == ["others unaffected"]
    await bari.close()
    await coordinator.close()


async def test_a_flood_of_frames_closes_the_abusive_socket_only(tworld):
    bari = await open_socket(tworld.officer_it, subscribe={})
    durres = await open_socket(tworld.officer_al)
    room = durres.room("operation")
    for n in range(60):
        await durres.comm.send_to(text_data=json.dumps({"type": "ping", "ref": f"p{n}"}))
    outputs = []
    while True:
        output = await durres.comm.receive_output(timeout=3)
        outputs.append(output)
        if output["type"] == "websocket.close":
            break
    assert output["code"] == 4429
    assert any('"rate_limited"' in o.get("text", "") for o in outputs)
    coordinator = await open_socket(tworld.coordinator)
    await coordinator.post(room, "after the flood")
    assert [m["text"] for m in await bari.messages(1)] == ["after the flood"]
    await bari.close()
    await coordinator.close()


async def test_other_operations_member_and_outsider_cannot_open_the_socket(tworld):
    for user in (tworld.officer_other, tworld.outsider):
        client = await database_sync_to_async(verified_client)(user)
        comm = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
        connected, code = await comm.connect()
        if connected:
            code = (await comm.receive_output())["code"]
        assert code == 4404
    comm = ws_communicator("/ws/operations/TEST-OP/rooms/")  # no session at all
    connected, _ = await comm.connect()
    assert not connected or (await comm.receive_output())["code"] == 4401


async def test_other_operations_room_and_message_through_this_socket(tworld):
    other = await open_socket(tworld.officer_other, "OTHER-OP", subscribe={})
    other_room = other.room("operation")
    sent = await other.post(other_room, "Piraeus only")
    durres = await open_socket(tworld.officer_al)
    assert (await durres.post(other_room, "x"))["code"] == "not_found"
    await durres.send({"type": "ack", "ref": "a", "message": sent["id"]})
    assert (await durres.frame("error"))["code"] == "not_found"
    await durres.send({"type": "history", "ref": "h", "room": other_room, "before_seq": 5})
    assert (await durres.frame("error"))["code"] == "not_found"
    assert await database_sync_to_async(count)() == 1
    await other.close()
    await durres.close()


async def test_history_pages_back_in_order(tworld):
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    for n in range(1, 8):
        await coordinator.post(room, f"m{n}")
    await coordinator.send({"type": "history", "ref": "h", "room": room, "before_seq": 6, "limit": 3})
    page = await coordinator.frame("history")
    assert [m["text"] for m in page["messages"]] == ["m3", "m4", "m5"] and page["complete"] is False
    await coordinator.send({"type": "history", "ref": "h2", "room": room, "before_seq": 3, "limit": 3})
    page = await coordinator.frame("history")
    assert [m["text"] for m in page["messages"]] == ["m1", "m2"] and page["complete"] is True
    await coordinator.close()
