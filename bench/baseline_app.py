"""The bare baselines the hub is measured against, as one tiny ASGI app served by daphne.

- WebSocket ``/recv/`` joins one group; every text frame sent to ``/send/`` is relayed to that group
  with Channels' ``group_send`` (no authentication, no database, no schema: only the relay).
- With ``CENCOMM_BENCH_RELAY_REDIS`` (a Redis URL) the relay runs on channels-redis, configured as the
  hub configures it (cencomm/settings.py ``redis_channel_layer``: same pool size, timeouts, capacity,
  expiry), so that several relay processes can be compared with the hub on several processes.
- HTTP ``POST /ingest/`` inserts the JSON body as one row (one INSERT through Django's connection),
  with the database settings the hub uses (the pool unless CENCOMM_BENCH_CONN_MAX_AGE).

Django is configured here, not by cencomm/settings.py: nothing of the hub is loaded.
"""

from __future__ import annotations

import json
import os

import dj_database_url
import django
from django.conf import settings


def _database() -> dict:
    """The hub's database settings: its pool, or CENCOMM_BENCH_CONN_MAX_AGE persistent connections."""
    config = dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=int(os.environ.get("CENCOMM_BENCH_CONN_MAX_AGE") or 0)
    )
    if not os.environ.get("CENCOMM_BENCH_CONN_MAX_AGE"):
        config["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 20, "timeout": 10}}
    return config


def _channel_layer() -> dict:
    url = os.environ.get("CENCOMM_BENCH_RELAY_REDIS")
    if not url:
        return {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    host = {
        "address": url,
        "max_connections": 2000,
        "socket_timeout": 15,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
    }
    config = {"hosts": [host], "prefix": os.environ.get("CENCOMM_CHANNEL_PREFIX", "bench-relay")}
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {**config, "capacity": 1000, "expiry": 30},
    }


if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-baseline-only",
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["channels"],
        MIDDLEWARE=[],
        DATABASES={"default": _database()} if os.environ.get("DATABASE_URL") else {},
        CHANNEL_LAYERS={"default": _channel_layer()},
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

GROUP = "bench"
TABLE_SQL = "CREATE TABLE IF NOT EXISTS bench_ingest (id bigserial PRIMARY KEY, client_id text UNIQUE NOT NULL, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"


class RelayConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.receiver = self.scope["path"].startswith("/recv/")
        if self.receiver:
            await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.receiver:
            await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.channel_layer.group_send(GROUP, {"type": "relay", "text": text_data})

    async def relay(self, event: dict[str, str]) -> None:
        await self.send(text_data=event["text"])


@csrf_exempt
def ingest(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_ingest (client_id, body) VALUES (%s, %s) RETURNING id",
            [body["client_id"], json.dumps(body)],
        )
        row_id = cursor.fetchone()[0]
    return JsonResponse({"id": row_id, "client_id": body["client_id"]}, status=201)


urlpatterns = [path("ingest/", ingest)]

application = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        "websocket": URLRouter(
            [path("recv/", RelayConsumer.as_asgi()), path("send/", RelayConsumer.as_asgi())]
        ),
    }
)
