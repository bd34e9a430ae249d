"""The URL map: the API, the admin, the language switch, and every app's pages.

The rooms', results' and search pages of a shredded operation answer with what retention kept
(``records.views.unless_shredded``); the reports pages show the kept public report themselves.
"""

from django.contrib import admin
from django.urls import include, path

from cencomm.health import healthz
from cencomm.metrics import metrics_view
from hub.api import api
from messaging import urls as messaging_urls
from products import views as products_views
from records.search_views import search_page
from records.views import unless_shredded, unless_shredded_patterns
from results import urls as results_urls
from results.rightholders import seizures_page

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus, behind CENCOMM_METRICS_TOKEN
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: POST, CSRF-checked
    path("", include("frontend.urls")),
    path(
        "operations/<str:code>/rooms/",
        include((unless_shredded_patterns(messaging_urls.urlpatterns), messaging_urls.app_name)),
    ),
    path(
        "operations/<str:code>/results/",
        include((unless_shredded_patterns(results_urls.urlpatterns), results_urls.app_name)),
    ),
    path("operations/<str:code>/reports/", include("reports.urls")),
    path("operations/<str:code>/search/", unless_shredded(search_page), name="search"),
    path("products/seizures/", seizures_page, name="product-seizures"),
    path("products/", include("products.urls")),
    path("", products_views.home, name="start"),  # a right holder starts on their products
    path("", include("operations.urls")),
]
