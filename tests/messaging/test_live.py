"""Rooms over the real ASGI app: live exchange, catch-up after a drop, retries, removal."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async

from cencomm import live
from messaging.consumers import RoomsConsumer
from messaging.models import Message
from operations.models import Membership
from operations.services import membership_remove
from tests.messaging.conftest import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def texts(messages):
    return [m["text"] for m in messages]


async def test_two_officers_and_a_coordinator_exchange_messages(tworld):
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    durres = await open_socket(tworld.officer_al, subscribe={})
    bari = await open_socket(tworld.officer_it, subscribe={})
    room = coordinator.room("operation")

    assert (await durres.post(room, "Durrës on station, scanner working."))["type"] == "sent"
    warning = await coordinator.post(
        room,
        "Control reefer containers from Shenzhen via Piraeus.",
        kind="warning",
        entry_points=[tworld.durres.pk, tworld.bari.pk],
    )
    assert warning["type"] == "sent"
    assert (await bari.post(room, "Bari: two containers selected.", kind="feedback", warning=warning["id"]))[
        "type"
    ] == "sent"

    expected = [
        "Durrës on station, scanner working.",
        "Control reefer containers from Shenzhen via Piraeus.",
        "Bari: two containers selected.",
    ]
    asked = {}
    for socket in (coordinator, durres, bari):
        got = await socket.messages(3)
        asked[socket] = got[1]["acked"]
        assert texts(got) == expected
        assert [m["seq"] for m in got] == [1, 2, 3]
        assert [m["kind"] for m in got] == ["chat", "warning", "feedback"]
        assert got[2]["warning"] == warning["id"]
        assert got[0]["author"]["entry_point"] == "Port of Durrës"
    # The officers are asked to acknowledge the warning; the coordinator, its author, is not.
    assert (asked[coordinator], asked[durres], asked[bari]) == (None, False, False)
    for socket in (coordinator, durres, bari):
        await socket.close()


async def test_administration_room_is_not_seen_by_the_other_administration(tworld):
    durres = await open_socket(tworld.officer_al)
    bari = await open_socket(tworld.officer_it)
    names_al = {r["name"] for r in durres.hello["rooms"]}
    names_it = {r["name"] for r in bari.hello["rooms"]}
    assert "Albanian Customs" in names_al and "Albanian Customs" not in names_it
    assert "Coordinators" not in names_al
    albanian = durres.room("administration")
    await bari.send({"type": "subscribe", "ref": "x", "rooms": [{"room": albanian, "after_seq": 0}]})
    error = await bari.frame("error")
    assert error["code"] == "not_found"
    assert (await bari.post(albanian, "sneaking in"))["code"] == "not_found"
    assert await database_sync_to_async(Message.objects.count)() == 0
    await durres.close()
    await bari.close()


async def test_reconnecting_client_receives_exactly_the_missed_messages_in_order(tworld):
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    bari = await open_socket(tworld.officer_it, subscribe={room: 0})
    await coordinator.post(room, "one")
    assert texts(await bari.messages(1)) == ["one"]
    await bari.close()  # the phone drops off the network

    for text in ("two", "three", "four"):
        await coordinator.post(room, text)

    back = await open_socket(tworld.officer_it)
    assert next(r for r in back.hello["rooms"] if r["id"] == room)["seq"] == 4
    await back.send({"type": "subscribe", "ref": "again", "rooms": [{"room": room, "after_seq": 1}]})
    caught_up = await back.messages(3)
    assert texts(caught_up) == ["two", "three", "four"]
    assert [m["seq"] for m in caught_up] == [2, 3, 4]
    subscribed = await back.frame("subscribed")
    assert subscribed["seq"] == 4
    assert await back.nothing_more()  # once, not twice

    await coordinator.post(room, "five")  # and live traffic after the catch-up
    assert texts(await back.messages(1)) == ["five"]
    await coordinator.close()
    await back.close()


async def test_a_subscribe_beyond_the_rooms_head_is_refused_with_the_head(tworld):
    """A cursor past the head (another server's database, a client's bug) would hide every message
    up to it from the socket if it were echoed: refused, with the head to start from instead."""
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    await coordinator.post(room, "one")
    await coordinator.post(room, "two")
    reader = await open_socket(tworld.officer_it)
    await reader.send({"type": "subscribe", "ref": "far", "rooms": [{"room": room, "after_seq": 99}]})
    error = await reader.frame("error")
    assert error["code"] == "beyond_head" and error["ref"] == "far" and "after_seq" in error["fields"]
    assert (error["room"], error["seq"]) == (room, 2)
    await reader.send(
        {"type": "subscribe", "ref": "rev", "rooms": [{"room": room, "after_seq": 2, "after_rev": 99}]}
    )
    assert "after_rev" in (await reader.frame("error"))["fields"]
    await coordinator.post(room, "three")  # not subscribed: nothing arrives
    assert await reader.nothing_more()
    await reader.send({"type": "subscribe", "ref": "ok", "rooms": [{"room": room, "after_seq": 2}]})
    assert texts(await reader.messages(1)) == ["three"]
    assert (await reader.frame("subscribed"))["seq"] == 3
    await coordinator.close()
    await reader.close()


async def test_a_lost_live_event_is_filled_in_by_the_heartbeat(tworld, monkeypatch):
    monkeypatch.setattr(RoomsConsumer, "heartbeat_seconds", 0.3)
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    durres = await open_socket(tworld.officer_al, subscribe={room: 0})
    monkeypatch.setattr(live, "_publish", lambda group, event: None)  # Redis "restarts": hints are lost
    await coordinator.post(room, "dropped hint")
    heartbeat = await durres.frame("heartbeat", timeout=3)
    assert heartbeat["rooms"][str(room)]["seq"] == 1
    assert texts(await durres.messages(1)) == ["dropped hint"]
    await coordinator.close()
    await durres.close()


async def test_a_retry_with_the_same_client_id_stores_one_message(tworld):
    durres = await open_socket(tworld.officer_al, subscribe={})
    room = durres.room("operation")
    client_id = uuid.uuid4()
    first = await durres.post(room, "seizure at gate 3", client_id=client_id)
    again = await durres.post(room, "seizure at gate 3", client_id=client_id)
    assert first["created"] is True and again["created"] is False
    assert first["id"] == again["id"] and first["seq"] == again["seq"] == 1
    assert await database_sync_to_async(Message.objects.filter(client_id=client_id).count)() == 1
    await durres.close()


async def test_removed_member_socket_is_closed_and_receives_nothing_more(tworld):
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    bari = await open_socket(tworld.officer_it, subscribe={room: 0})
    membership = await database_sync_to_async(Membership.objects.get)(
        user=tworld.officer_it, operation=tworld.op
    )
    await database_sync_to_async(membership_remove)(membership=membership, actor=tworld.coordinator)
    while True:
        output = await bari.comm.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            break
        assert '"messages"' not in output.get("text", "")
    assert output["code"] == 4404
    await coordinator.post(room, "after the removal")
    while not await bari.comm.receive_nothing(timeout=0.3):  # a repeated close at most, never a message
        assert (await bari.comm.receive_output())["type"] == "websocket.close"
    again = await open_socket_refused(tworld.officer_it)
    assert again == 4404
    await coordinator.close()


async def open_socket_refused(user):
    from tests.conftest import verified_client, ws_communicator

    client = await database_sync_to_async(verified_client)(user)
    comm = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
    connected, code = await comm.connect()
    if connected:
        output = await comm.receive_output()
        code = output.get("code")
    return code


async def test_an_alert_is_shown_again_until_acknowledged(tworld):
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    sent = await coordinator.post(room, "All entry points: report by 18:00 UTC.", kind="alert")
    durres = await open_socket(tworld.officer_al)
    assert [m["id"] for m in durres.hello["pending"]] == [sent["id"]]
    assert durres.hello["pending"][0]["acked"] is False
    await durres.send({"type": "ack", "ref": "a1", "message": sent["id"]})
    assert (await durres.frame("done"))["action"] == "ack"
    acked = await coordinator.frame("ack")
    assert acked["message"] == sent["id"] and acked["user"] == tworld.officer_al.pk
    await durres.close()
    durres = await open_socket(tworld.officer_al)
    assert durres.hello["pending"] == []
    await durres.close()
    await coordinator.close()


async def test_author_edits_then_withdraws_and_others_see_each_change(tworld):
    durres = await open_socket(tworld.officer_al, subscribe={})
    room = durres.room("operation")
    bari = await open_socket(tworld.officer_it, subscribe={room: 0})
    sent = await durres.post(room, "12 boxes of tablets")
    await durres.send({"type": "edit", "ref": "e", "message": sent["id"], "text": "120 boxes of tablets"})
    await durres.frame("done")
    got = await bari.messages(2)
    assert [(m["seq"], m["version"], m["text"]) for m in got] == [
        (1, 1, "12 boxes of tablets"),
        (1, 2, "120 boxes of tablets"),
    ]
    await bari.send({"type": "edit", "ref": "forged", "message": sent["id"], "text": "not mine"})
    assert (await bari.frame("error"))["code"] == "refused"
    await durres.send({"type": "withdraw", "ref": "w", "message": sent["id"]})
    await durres.frame("done")
    withdrawn = (await bari.messages(1))[0]
    assert withdrawn["withdrawn"] is True and withdrawn["text"] is None
    versions = await database_sync_to_async(lambda: Message.objects.get(pk=sent["id"]).versions.count())()
    assert versions == 2  # the original stays in the record
    # A client that was away catches up on the change too, by change number.
    late = await open_socket(tworld.officer_it)
    await late.send(
        {"type": "subscribe", "ref": "s", "rooms": [{"room": room, "after_seq": 1, "after_rev": 1}]}
    )
    assert (await late.messages(1))[0]["withdrawn"] is True
    for socket in (durres, bari, late):
        await socket.close()


async def test_a_new_room_reaches_its_members_open_sockets(tworld):
    from messaging import services

    durres = await open_socket(tworld.officer_al, subscribe={})
    bari = await open_socket(tworld.officer_it, subscribe={})

    def create():
        membership = Membership.objects.get(user=tworld.coordinator, operation=tworld.op)
        return services.room_create(
            membership=membership, name="Durrës follow-up", user_ids=[tworld.officer_al.pk]
        )

    room = await database_sync_to_async(create)()
    frame = await durres.frame("rooms")
    assert room.pk in [r["id"] for r in frame["rooms"]]
    assert await bari.nothing_more() and not any(f["type"] == "rooms" for f in bari.seen)
    await durres.close()
    await bari.close()


async def test_a_stalled_client_does_not_hold_up_the_others_and_loses_nothing(tworld):
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    stalled = await open_socket(tworld.officer_it, subscribe={room: 0})  # never reads below, until the end
    durres = await open_socket(tworld.officer_al, subscribe={room: 0})
    for n in range(30):
        await coordinator.post(room, f"update {n}")
    assert texts(await durres.messages(30)) == [f"update {n}" for n in range(30)]
    assert texts(await stalled.messages(30)) == [f"update {n}" for n in range(30)]
    assert await stalled.nothing_more()
    for socket in (coordinator, stalled, durres):
        await socket.close()
