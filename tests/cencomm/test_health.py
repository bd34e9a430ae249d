import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_answers_when_database_and_channel_layer_answer():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


def test_healthz_reports_a_channel_layer_outage_as_degraded_with_the_reason(settings):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()
    try:
        response = Client().get("/healthz")
    finally:
        channel_layers.backends.clear()
        from cencomm.live import LAYER

        LAYER.answered()
    # The hub works on without Redis (posts stored, sockets fed from the database): a load balancer
    # keeps the process in, and the body says what is missing.
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["channel_layer"] == "unavailable" and "channel layer" in body["reason"]
