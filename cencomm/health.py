"""``/healthz``: 200 only when the database and the channel layer both answer."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


async def _channel_layer_answers() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async with asyncio.timeout(2):
            channel = await layer.new_channel("health.")
            await layer.send(channel, {"type": "health.probe"})
            message = await layer.receive(channel)
            return message.get("type") == "health.probe"
    except Exception:
        return False


async def healthz(request: HttpRequest) -> JsonResponse:
    database = await sync_to_async(_database_answers, thread_sensitive=True)()
    channel_layer = await _channel_layer_answers()
    healthy = database and channel_layer
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "database": "ok" if database else "unavailable",
            "channel_layer": "ok" if channel_layer else "unavailable",
        },
        status=200 if healthy else 503,
    )
