from django.urls import path

from operations import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("operations/<str:code>/", views.operation_detail, name="operation"),
    path("operations/<str:code>/transition/", views.operation_transition, name="operation-transition"),
]
