"""The board socket through the real ASGI app: snapshot on connect, deltas after posts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async

from cencomm import protocol
from tests.conftest import verified_client, ws_communicator
from tests.results.conftest import api_post, body
from tests.world import refusal_code

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user: Any, code: str = "TEST-OP") -> Any:
    client = await database_sync_to_async(verified_client)(user)
    comm = ws_communicator(f"/ws/operations/{code}/board/", client=client)
    connected, close_code = await comm.connect()
    return comm, connected, close_code


@database_sync_to_async
def post_as(user: Any, w: Any, **overrides: Any) -> Any:
    return api_post(verified_client(user), "/operations/TEST-OP/results", body(w, **overrides))


async def test_board_gets_snapshot_then_delta_after_post(tworld: Any) -> None:
    comm, connected, _ = await connect(tworld.coordinator)
    assert connected
    snapshot = await comm.receive_json_from()
    assert snapshot["type"] == "board.snapshot" and snapshot["seq"] == 0
    assert snapshot["totals"] == {"units": 0, "kg": 0, "litres": 0, "cases": 0, "results": 0}

    response = await post_as(tworld.officer_al, tworld, lines=[{"category": "medicines", "quantity": 250}])
    assert response.status_code == 201
    delta = await comm.receive_json_from(timeout=3)
    assert delta["type"] == "board.delta" and delta["seq"] == 1
    assert delta["totals"] == {"units": 250, "kg": 0, "litres": 0, "cases": 1, "results": 1}
    assert delta["categories"] == [
        {
            "key": delta["categories"][0]["key"],
            "label": "Medicines",
            "units": 250,
            "kg": 0,
            "litres": 0,
            "cases": 1,
        }
    ]
    assert delta["latest"]["uuid"] == response.json()["uuid"]
    assert delta["chain_head"]["seq"] == 1
    assert "notes" not in json.dumps(delta)

    await comm.send_json_to({"type": "snapshot", "ref": "again"})
    again = await comm.receive_json_from()
    assert again["type"] == "board.snapshot" and again["ref"] == "again" and again["totals"]["units"] == 250
    await comm.disconnect()


async def test_filtered_board_ignores_other_entry_points(tworld: Any) -> None:
    comm, connected, _ = await connect(tworld.observer)
    assert connected
    await comm.receive_json_from()
    await comm.send_json_to({"type": "filter", "entry_point": tworld.bari.pk})
    filtered = await comm.receive_json_from()
    assert filtered["filter"]["entry_point"] == tworld.bari.pk
    await post_as(tworld.officer_al, tworld)
    delta = await comm.receive_json_from(timeout=3)
    assert (
        delta["totals"] == {"units": 0, "kg": 0, "litres": 0, "cases": 0, "results": 0}
        and "latest" not in delta
    )
    await post_as(
        tworld.officer_it, tworld, entry_point=tworld.bari, lines=[{"category": "games-toys", "quantity": 9}]
    )
    delta = await comm.receive_json_from(timeout=3)
    assert delta["seq"] == 2 and delta["totals"]["units"] == 9
    await comm.send_json_to({"type": "filter", "category": "unicorns"})
    error = await comm.receive_json_from()
    assert error["type"] == "error" and error["code"] == "invalid_filter"
    await comm.send_json_to({"type": "filter", "day": "not a day"})
    error = await comm.receive_json_from()
    assert error["type"] == "error" and "day" in error["fields"]
    await comm.send_json_to({"type": "subscribe"})
    error = await comm.receive_json_from()
    assert error["code"] == "unknown_type"
    await comm.disconnect()


@pytest.mark.parametrize("who", ["officer_al", "outsider", "officer_other"])
async def test_board_socket_refuses_those_without_board_role(tworld: Any, who: str) -> None:
    client = await database_sync_to_async(verified_client)(getattr(tworld, who))
    comm = ws_communicator("/ws/operations/TEST-OP/board/", client=client)
    assert await refusal_code(comm) == protocol.CLOSE_NOT_FOUND


async def test_board_socket_needs_a_session(tworld: Any) -> None:
    comm = ws_communicator("/ws/operations/TEST-OP/board/")
    assert await refusal_code(comm) == protocol.CLOSE_UNAUTHENTICATED


async def test_a_board_member_removed_gets_no_further_delta_even_with_the_access_event_lost(
    tworld: Any, monkeypatch: Any
) -> None:
    """The ``access.changed`` event is dropped: the next board event carries a newer access epoch
    than the one the board read its access at, so it checks again, finds the membership gone and
    closes with 4404 instead of sending the delta."""
    from cencomm import live
    from operations.models import Membership
    from operations.services import membership_remove

    comm, connected, _ = await connect(tworld.analyst)
    assert connected and (await comm.receive_json_from())["type"] == "board.snapshot"
    publish = live._publish
    monkeypatch.setattr(
        live, "_publish", lambda group, event: None if group.startswith("user.") else publish(group, event)
    )
    membership = await database_sync_to_async(Membership.objects.get)(
        user=tworld.analyst, operation=tworld.op
    )
    await database_sync_to_async(membership_remove)(membership=membership, actor=tworld.coordinator)
    assert (await post_as(tworld.officer_al, tworld)).status_code == 201
    output = await comm.receive_output(timeout=3)
    assert output["type"] == "websocket.close" and output["code"] == 4404, output
    await comm.disconnect()
