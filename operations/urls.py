from django.urls import path

from operations import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("operations/<str:code>/", views.operation_detail, name="operation"),
    path("operations/<str:code>/transition/", views.operation_transition, name="operation-transition"),
    path("operations/<str:code>/retention/", views.operation_retention, name="operation-retention"),
    path("operations/<str:code>/hold/", views.operation_hold, name="operation-hold"),
    path("operations/<str:code>/hold/lift/", views.operation_hold_lift, name="operation-hold-lift"),
]
