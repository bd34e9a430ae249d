"""Who is online at which entry point: hinted once per burst, carried by every heartbeat."""

from __future__ import annotations

import pytest

from cencomm.live import capture_live_events
from messaging import presence
from messaging.consumers import RoomsConsumer
from operations.models import Membership
from tests.messaging.conftest import open_socket


@pytest.mark.django_db(transaction=True)
async def test_an_officer_sees_the_coordinator_come_online(tworld):
    durres = await open_socket(tworld.officer_al)
    coordinator = await open_socket(tworld.coordinator)
    frame = await durres.frame("presence", timeout=4)
    assert {(p["username"], p["entry_point"]) for p in frame["online"]} >= {
        ("coordinator", None),
        ("officer-durres", "Port of Durrës"),
    }
    await durres.close()
    await coordinator.close()


@pytest.mark.django_db(transaction=True)
async def test_the_heartbeat_carries_who_is_online(tworld, monkeypatch):
    monkeypatch.setattr(RoomsConsumer, "heartbeat_seconds", 0.2)
    durres = await open_socket(tworld.officer_al)
    beat = await durres.frame("heartbeat", timeout=3)
    assert "officer-durres" in {p["username"] for p in beat["online"]}
    await durres.close()


def test_a_burst_of_connections_sends_one_presence_hint(world, django_capture_on_commit_callbacks):
    membership = Membership.objects.get(user=world.officer_al)
    with capture_live_events() as events:
        for n in range(50):
            with django_capture_on_commit_callbacks(execute=True):
                presence.connection_open(membership=membership, channel_name=f"test.channel{n}")
    hints = [e for group, e in events if e["type"] == "presence.changed"]
    assert len(hints) == 1
