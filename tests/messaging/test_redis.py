"""What the Redis channel layer carries: hints, never message text."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from cencomm.live import capture_live_events, room_group
from messaging import services
from messaging.models import Room
from operations.models import Membership, Operation

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
SECRET = "Falsified Viagra in container MSKU-7731"


async def test_redis_channel_layer_carries_no_message_text(tworld):
    import redis.asyncio as redis

    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer"
    room = (await database_sync_to_async(services.rooms_ensure)(operation=tworld.op))[0]
    listener = await layer.new_channel()  # a raw receiver in the room's group, like a consumer's
    await layer.group_add(room_group(room.pk), listener)

    def post() -> None:
        membership = Membership.objects.get(user=tworld.coordinator, operation=tworld.op)
        services.message_post(
            membership=membership,
            room=Room.objects.get(pk=room.pk),
            client_id=uuid.uuid4(),
            text=SECRET,
            kind="alert",
        )

    client = redis.from_url(settings.REDIS_URL)
    try:
        with capture_live_events() as published:
            await database_sync_to_async(post)()
        # Everything under the layer's prefix, while the event still sits in Redis.
        raw = b""
        async for key in client.scan_iter(match=f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}*"):
            kind = await client.type(key)
            if kind == b"zset":
                for member in await client.zrange(key, 0, -1):
                    raw += bytes(member)
            elif kind == b"list":
                for item in await client.lrange(key, 0, -1):
                    raw += bytes(item)
            elif kind == b"string":
                raw += bytes(await client.get(key) or b"")
        event = await asyncio.wait_for(layer.receive(listener), timeout=3)
    finally:
        await layer.group_discard(room_group(room.pk), listener)
        await client.aclose()
    # the room's hint (with the access epoch), and the addressees' pending-alerts hint: ids only
    epoch = await database_sync_to_async(lambda: Operation.objects.get(pk=tworld.op.pk).access_epoch)()
    hint = {"type": "room.message", "room": room.pk, "seq": 1, "rev": 1, "epoch": epoch}
    assert published[0] == (room_group(room.pk), hint)
    assert all(set(hint) <= {"type", "room", "seq", "rev", "message"} for _, hint in published[1:]), published
    assert isinstance(event.pop("committed_at"), float)  # for the delivery lag (cencomm.metrics)
    assert event == hint
    assert b"room.message" in raw  # the scan did see the queued event...
    for needle in (b"Viagra", b"MSKU", SECRET.encode()):
        assert needle not in raw  # ...and no text in it
