from django.urls import path

from results.consumers import BoardConsumer

websocket_urlpatterns = [
    path("ws/operations/<str:code>/board/", BoardConsumer.as_asgi()),
]
