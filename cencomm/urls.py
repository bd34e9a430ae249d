from django.contrib import admin
from django.urls import include, path

from cencomm.api import api
from cencomm.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("frontend.urls")),
]
