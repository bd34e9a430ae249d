from django.contrib import admin
from django.urls import include, path

from cencomm.api import mount_routers
from cencomm.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", mount_routers().urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: POST, CSRF-checked
    path("", include("frontend.urls")),
]
