"""A connect the hub cannot serve soon is shed with a documented code, never left to time out."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from cencomm import consumers, protocol
from tests.conftest import verified_client, ws_communicator

pytestmark = pytest.mark.django_db(transaction=True)


async def shed_frames(communicator) -> tuple[dict, int]:
    """(the frame before the close, the close code) of a socket shed at connect."""
    connected, _ = await communicator.connect(timeout=5)
    assert connected  # accepted, so the client sees a code, not a dropped handshake
    frame = await communicator.receive_json_from(timeout=5)
    closing = await communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close"
    await communicator.disconnect()
    return frame, closing["code"]


async def test_a_connect_beyond_the_connects_in_flight_is_shed_with_4503_and_retry_after(tworld, settings):
    settings.CENCOMM_WS_CONNECTS_IN_FLIGHT = 0  # as if the process were already busy with others
    client = await database_sync_to_async(verified_client)(tworld.officer_al)
    frame, code = await shed_frames(ws_communicator("/ws/operations/TEST-OP/rooms/", client=client))
    assert code == protocol.CLOSE_OVERLOADED == 4503
    assert frame["type"] == "error" and frame["code"] == "overloaded"
    assert consumers.RETRY_AFTER_SECONDS[0] <= frame["retry_after"] <= consumers.RETRY_AFTER_SECONDS[1]
    assert consumers._connecting == 0
    settings.CENCOMM_WS_CONNECTS_IN_FLIGHT = 200  # and once there is room again, the same socket opens
    comm = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
    assert (await comm.connect())[0]
    assert (await comm.receive_json_from())["type"] == "hello"
    await comm.disconnect()


async def test_a_connect_whose_access_check_queues_too_long_is_shed_before_daphne_would_drop_it(
    tworld, monkeypatch
):
    from messaging.consumers import RoomsConsumer

    slow = RoomsConsumer.authorize

    async def queued(self) -> bool:  # the process's database thread has a long queue
        await asyncio.sleep(2)
        return await slow(self)

    monkeypatch.setattr(consumers, "CONNECT_SECONDS", 0.3)
    monkeypatch.setattr(RoomsConsumer, "authorize", queued)
    client = await database_sync_to_async(verified_client)(tworld.officer_al)
    started = time.monotonic()
    frame, code = await shed_frames(ws_communicator("/ws/operations/TEST-OP/rooms/", client=client))
    assert time.monotonic() - started < 1.5  # well inside daphne's handshake timeout
    assert (frame["code"], code) == ("overloaded", 4503)
    await asyncio.sleep(2)  # the abandoned check ends on its own, and nothing is left counted
    assert consumers._connecting == 0
