"""The rooms' per-process fan-out, the access epoch and the cost of a connect.

A room's news is read, opened, rendered and encoded once per process for every socket in step;
each member's own acknowledgement state is added without a database call; a socket whose access
was checked before the hint's epoch checks again, so a removed member gets nothing more even when
the "you were removed" event is lost.
"""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.db import connection
from django.db.backends import utils

from cencomm import live
from cencomm.live import capture_live_events
from messaging import fanout, services
from messaging.models import Room
from operations.models import Membership, Operation
from operations.services import api_token_create, api_token_revoke, membership_add, membership_remove
from tests.conftest import verified_client, ws_communicator
from tests.messaging.conftest import open_socket

pytestmark = pytest.mark.django_db(transaction=True)

# Statements from a rooms socket's handshake to its hello (session, user and device in the middleware;
# membership with the operation's epoch; rooms with their heads and read positions; pending; who is
# online; the socket's presence row, written with others' in one statement). It was 13-15 (one read
# position per room, the rooms read twice, the user again for its name, one upsert per socket).
CONNECT_STATEMENTS = 8


def texts(messages):
    return [m["text"] for m in messages]


def epoch_of(operation_id: int) -> int:
    return Operation.objects.values_list("access_epoch", flat=True).get(pk=operation_id)


async def close_all(*sockets):
    for socket in sockets:
        await socket.close()


# --- the access epoch -----------------------------------------------------------------------------


def test_every_change_of_who_may_see_what_bumps_the_access_epoch(world):
    op, before = world.op, epoch_of(world.op.pk)
    steps = []

    def bumped(name):
        steps.append((name, epoch_of(op.pk)))

    member = Membership.objects.get(user=world.officer_it, operation=op)
    membership_add(operation=op, user=world.officer_it, role="analyst", actor=None)  # a role change
    bumped("role change")
    coordinator = Membership.objects.get(user=world.coordinator, operation=op)
    services.room_create(membership=coordinator, name="Ports", user_ids=[world.officer_al.pk])
    bumped("room members")
    token, _ = api_token_create(user=world.officer_al, operation=op, name="t", days=1)
    api_token_revoke(token=token, actor=world.officer_al)
    bumped("token revoked")
    world.observer.is_active = False
    world.observer.save()
    bumped("account deactivated")
    membership_remove(membership=Membership.objects.get(pk=member.pk), actor=None)
    bumped("membership removed")
    epochs = [before] + [epoch for _, epoch in steps]
    assert all(a < b for a, b in zip(epochs, epochs[1:], strict=False)), steps
    world.coordinator.save(update_fields=["last_login"])  # a sign-in changes nobody's access
    assert epoch_of(op.pk) == epochs[-1]
    assert epoch_of(world.other.pk) == epoch_of(world.other.pk)  # (the other operation: untouched)


def test_a_room_hint_carries_the_epoch_its_write_read_under_the_state_lock(
    world, django_capture_on_commit_callbacks
):
    coordinator = Membership.objects.get(user=world.coordinator, operation=world.op)
    room = Room.objects.get(operation=world.op, kind=Room.Kind.OPERATION)
    with capture_live_events() as published, django_capture_on_commit_callbacks(execute=True):
        services.message_post(membership=coordinator, room=room, client_id=uuid.uuid4(), text="hello")
    hint = next(event for group, event in published if group == f"room.{room.pk}")
    assert hint == {
        "type": "room.message",
        "room": room.pk,
        "seq": 1,
        "rev": 1,
        "epoch": epoch_of(world.op.pk),
    }


async def test_a_removed_member_gets_nothing_more_even_with_the_access_event_lost(tworld, monkeypatch):
    """The explicit ``access.changed`` event is dropped: the next message's hint carries a newer
    epoch than the one the socket checked its access at, so the socket checks again before it
    delivers, finds the membership gone and closes with 4404; the message never reaches it."""
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    bari = await open_socket(tworld.officer_it, subscribe={room: 0})
    durres = await open_socket(tworld.officer_al, subscribe={room: 0})
    publish = live._publish
    dropped = []

    def lossy(group, event):
        if group.startswith("user."):  # the "you were removed" event is lost on the way
            dropped.append(event)
            return
        publish(group, event)

    monkeypatch.setattr(live, "_publish", lossy)
    membership = await database_sync_to_async(Membership.objects.get)(
        user=tworld.officer_it, operation=tworld.op
    )
    await database_sync_to_async(membership_remove)(membership=membership, actor=tworld.coordinator)
    assert dropped and dropped[0]["type"] == "access.changed"
    await coordinator.post(room, "after the removal")
    assert texts(await durres.messages(1)) == ["after the removal"]  # the hint did go out
    while True:
        output = await bari.comm.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            break
        assert "after the removal" not in output.get("text", "") and '"messages"' not in output.get(
            "text", ""
        )
    assert output["code"] == 4404
    await close_all(coordinator, durres)


async def test_a_member_who_lost_a_room_gets_nothing_more_from_it_with_the_access_event_lost(
    tworld, monkeypatch
):
    """A role change takes the Albanian officer out of nothing but makes the analyst an officer of
    Italy: the Italian administration's room opens to them, the operation's room stays. The other
    way: the national contact point of Albania made an analyst loses the Albanian room."""
    ncp = await open_socket(tworld.ncp_al)
    albanian = ncp.room("administration")
    await ncp.send({"type": "subscribe", "ref": "s", "rooms": [{"room": albanian, "after_seq": 0}]})
    await ncp.frame("subscribed")
    officer = await open_socket(tworld.officer_al, subscribe={albanian: 0})
    publish = live._publish
    monkeypatch.setattr(
        live, "_publish", lambda group, event: None if group.startswith("user.") else publish(group, event)
    )
    await database_sync_to_async(membership_add)(
        operation=tworld.op, user=tworld.ncp_al, role="analyst", actor=None
    )
    await officer.post(albanian, "for Albania only")
    assert (await ncp.frame("rooms"))["rooms"]  # checked again: its rooms changed
    assert await ncp.nothing_more(timeout=0.5)
    assert texts(await officer.messages(1)) == ["for Albania only"]
    await close_all(ncp, officer)


# --- one read, one rendering, one encoding per process ------------------------------------------


async def test_a_hint_is_read_and_rendered_once_for_every_socket_in_step(tworld, monkeypatch):
    reads, encodings = [], []
    read_shared, encode = fanout._read_shared, fanout.encode

    def counted_read(*args):
        reads.append(args)
        return read_shared(*args)

    def counted_encode(frame):
        encodings.append(frame["type"])
        return encode(frame)

    monkeypatch.setattr(fanout, "_read_shared", counted_read)
    monkeypatch.setattr(fanout, "encode", counted_encode)
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    readers = [
        await open_socket(user, subscribe={room: 0})
        for user in (tworld.officer_al, tworld.officer_it, tworld.analyst, tworld.observer, tworld.ncp_al)
    ]
    reads.clear()
    await coordinator.post(room, "one for all")
    frames = [await reader.frame("messages") for reader in readers]
    assert all(texts(f["messages"]) == ["one for all"] for f in frames)
    assert all(f == frames[0] for f in frames)  # the same frame (chat: acked null for everyone)
    assert len(reads) == 1, reads  # read, opened and rendered once for the five
    assert encodings.count("messages") == 1
    for reader in readers:
        assert await reader.nothing_more()  # and each got it once
    await close_all(coordinator, *readers)


async def test_each_member_gets_their_own_acknowledgement_state_in_the_shared_frame(tworld):
    """A warning to Durrës: its officer and Albania's national contact point are asked (``acked``
    false), Bari's officer and the analyst are not (null); after Durrës acknowledges and the
    coordinator edits the warning, the changed message says true for Durrës only. The states are
    added on the event loop, where a database call would raise: none is made per socket."""
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    users = {
        "durres": tworld.officer_al,
        "bari": tworld.officer_it,
        "ncp": tworld.ncp_al,
        "analyst": tworld.analyst,
    }
    readers = {name: await open_socket(user, subscribe={room: 0}) for name, user in users.items()}
    sent = await coordinator.post(
        room, "Check reefers from Shenzhen.", kind="warning", entry_points=[tworld.durres.pk]
    )
    acked = {name: (await r.messages(1))[0]["acked"] for name, r in readers.items()}
    assert acked == {"durres": False, "bari": None, "ncp": False, "analyst": None}
    await readers["durres"].send({"type": "ack", "ref": "a", "message": sent["id"]})
    assert (await readers["durres"].frame("done"))["action"] == "ack"
    for reader in readers.values():
        assert (await reader.frame("ack"))["message"] == sent["id"]
    await coordinator.send(
        {"type": "edit", "ref": "e", "message": sent["id"], "text": "Check reefers from Ningbo."}
    )
    changed = {name: (await r.messages(1))[0] for name, r in readers.items()}
    assert {n: m["acked"] for n, m in changed.items()} == {
        "durres": True,
        "bari": None,
        "ncp": False,
        "analyst": None,
    }
    assert {m["text"] for m in changed.values()} == {"Check reefers from Ningbo."}
    await close_all(coordinator, *readers.values())


async def test_a_socket_behind_the_others_reads_its_own_catch_up_exactly(tworld):
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    for text in ("one", "two"):
        await coordinator.post(room, text)
    in_step = await open_socket(tworld.officer_al, subscribe={room: 2})
    behind = await open_socket(tworld.officer_it, subscribe={room: 2})
    behind.hello  # noqa: B018 - (the cursor moves back below: a client that lost what it held)
    await behind.send({"type": "subscribe", "ref": "again", "rooms": [{"room": room, "after_seq": 1}]})
    assert texts(await behind.messages(1)) == ["two"]
    await behind.frame("subscribed")
    await coordinator.post(room, "three")
    assert texts(await in_step.messages(1)) == ["three"]
    assert texts(await behind.messages(1)) == ["three"]
    assert await in_step.nothing_more() and await behind.nothing_more()
    await close_all(coordinator, in_step, behind)


@pytest.fixture
def memory_layer(settings):
    """The in-memory channel layer (one process, no Redis) for the duration of a test."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    saved = dict(channel_layers.backends)
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
    channel_layers.backends.update(saved)


async def test_the_fan_out_works_on_the_in_memory_layer_too(tworld, memory_layer):
    from channels.layers import get_channel_layer

    assert type(get_channel_layer()).__name__ == "InMemoryChannelLayer"
    coordinator = await open_socket(tworld.coordinator, subscribe={})
    room = coordinator.room("operation")
    readers = [await open_socket(u, subscribe={room: 0}) for u in (tworld.officer_al, tworld.officer_it)]
    for text in ("one", "two", "three"):
        await coordinator.post(room, text)
    for reader in readers:
        assert texts(await reader.messages(3)) == ["one", "two", "three"]
        assert await reader.nothing_more()
    await close_all(coordinator, *readers)
    assert not fanout.rooms_fanout().subscribers  # the last socket out left the groups


# --- the cost of a connect ------------------------------------------------------------------------


async def test_a_rooms_socket_opens_with_a_handful_of_statements(tworld, monkeypatch):
    warm = await open_socket(tworld.ncp_al)  # this process's first socket: caches, the fan-out
    client = await database_sync_to_async(verified_client)(tworld.coordinator)  # four rooms
    statements: list[str] = []
    execute = utils.CursorWrapper.execute

    def counted(self, sql, params=None):
        statements.append(sql)
        return execute(self, sql, params)

    monkeypatch.setattr(utils.CursorWrapper, "execute", counted)
    comm = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
    assert (await comm.connect())[0]
    hello = await comm.receive_json_from()
    monkeypatch.setattr(utils.CursorWrapper, "execute", execute)
    assert hello["type"] == "hello" and len(hello["rooms"]) == 4
    assert len(statements) <= CONNECT_STATEMENTS, "\n".join(s[:120] for s in statements)
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "DELETE"))]
    await comm.disconnect()
    await warm.close()


async def test_a_burst_of_connects_writes_its_presence_rows_together(tworld, monkeypatch):
    import asyncio

    from messaging.models import Connection

    users = [
        tworld.officer_al,
        tworld.officer_it,
        tworld.analyst,
        tworld.observer,
        tworld.ncp_al,
        tworld.coordinator,
    ]
    clients = [await database_sync_to_async(verified_client)(u) for u in users * 2]
    inserts: list[int] = []
    execute = utils.CursorWrapper.execute

    def counted(self, sql, params=None):
        if sql.lstrip().upper().startswith('INSERT INTO "MESSAGING_CONNECTION"'):
            inserts.append(sql.count("), ("))
        return execute(self, sql, params)

    monkeypatch.setattr(utils.CursorWrapper, "execute", counted)
    sockets = await asyncio.gather(*(open_socket_with(c) for c in clients))
    monkeypatch.setattr(utils.CursorWrapper, "execute", execute)
    assert await database_sync_to_async(Connection.objects.count)() == len(clients)
    assert len(inserts) < len(clients), inserts  # rows of several sockets in one statement
    online = {p["user"] for p in sockets[-1].hello["online"]}
    assert tworld.coordinator.pk in online  # a socket's hello sees its own row
    await close_all(*sockets)
    assert await database_sync_to_async(Connection.objects.count)() == 0
    await database_sync_to_async(lambda: connection.close())()  # noqa: PLW0108 - that thread's, so the test database can go


async def open_socket_with(client):
    from tests.messaging.conftest import Socket

    comm = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
    assert (await comm.connect(timeout=10))[0]
    hello = await comm.receive_json_from(timeout=10)
    return Socket(comm, hello)
