from django.urls import path

from messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.room_page, name="rooms"),
    path("new/", views.room_new, name="room-new"),
    path("acknowledgements/", views.acknowledgements_page, name="acknowledgements"),
    path("acknowledgements/<int:message_id>/remind/", views.remind, name="remind"),
    path("<int:room_id>/", views.room_page, name="room"),
]
