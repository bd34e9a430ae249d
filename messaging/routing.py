from django.urls import path

from messaging.consumers import RoomsConsumer

websocket_urlpatterns = [
    path("ws/operations/<str:code>/rooms/", RoomsConsumer.as_asgi()),
]
