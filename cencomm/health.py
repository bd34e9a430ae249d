"""``/healthz``: 200 while the database answers; "degraded" (still 200) while only the channel layer is down.

Without the channel layer (Redis) the hub still works: posts are stored, open sockets stay open and
fill in from the database on their heartbeat, new sockets are accepted; only the live hints wait.
A load balancer must keep such a process in; the body says what is missing and why.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

from cencomm.live import LAYER, describe


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


async def _channel_layer_answers() -> str | None:
    """None when the layer carries a probe to itself within 2 s; else why not."""
    layer = get_channel_layer()
    if layer is None:
        return "no channel layer configured"
    try:
        async with asyncio.timeout(2):
            # The default prefix: channels_redis serves all of a process's channels of one prefix
            # with one blocking pop; another prefix ("health.") waited behind the sockets' pops
            # (5 s each) for the layer's one receive lock, so the probe failed while sockets were open.
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "health.probe"})
            message = await layer.receive(channel)
    except TimeoutError:
        reason = "the channel layer did not answer within 2 s"
    except Exception as exc:
        LAYER.failed(exc)
        reason = f"the channel layer failed: {describe(exc)}"
    else:
        if message.get("type") == "health.probe":
            LAYER.answered()
            return None
        reason = "the channel layer returned another message"
    return reason


async def healthz(request: HttpRequest) -> JsonResponse:
    database = await sync_to_async(_database_answers, thread_sensitive=True)()
    layer_problem = await _channel_layer_answers()
    body = {
        "status": "ok" if database and layer_problem is None else "degraded" if database else "unavailable",
        "database": "ok" if database else "unavailable",
        "channel_layer": "ok" if layer_problem is None else "unavailable",
    }
    if not database:
        body["reason"] = "the database does not answer"
    elif layer_problem is not None:
        body["reason"] = f"{layer_problem}; live updates paused, sockets fill in from the database"
    return JsonResponse(body, status=200 if database else 503)
