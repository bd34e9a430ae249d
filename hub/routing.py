"""WebSocket routes of every app, behind the Origin check and the two-factor session check."""

from django.urls import path

from cencomm.consumers import PingConsumer
from messaging.routing import websocket_urlpatterns as messaging_routes
from results.routing import websocket_urlpatterns as results_routes

websocket_urlpatterns = [
    path("ws/ping/", PingConsumer.as_asgi()),
    *messaging_routes,
    *results_routes,
]
