"""The URL map: the API, the admin, the language switch, and every app's pages."""

from django.contrib import admin
from django.urls import include, path

from cencomm.health import healthz
from hub.api import api

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: POST, CSRF-checked
    path("", include("frontend.urls")),
    path("operations/<str:code>/rooms/", include("messaging.urls")),
    path("operations/<str:code>/results/", include("results.urls")),
    path("operations/<str:code>/reports/", include("reports.urls")),
    path("", include("operations.urls")),
]
