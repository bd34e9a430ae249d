"""The installable, offline-first app: the service worker, the web app manifest and the outbox page.

The service worker is served from the site's root (``/sw.js``) so that its scope covers every page
(``/operations/...`` included); its logic is the static file ``frontend/js/service-worker.js``.
This view only hands it the app shell to precache, each file with the hash of its content, so
that changing any of them changes ``/sw.js`` and the browser installs the new worker.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import get_language_bidi, gettext
from django.views.decorators.http import require_GET

# Loaded into the service worker in this order (Workbox's browser builds need core first).
WORKER_SCRIPTS = (
    "vendor/workbox/workbox-core.prod.js",
    "vendor/workbox/workbox-routing.prod.js",
    "vendor/workbox/workbox-strategies.prod.js",
    "vendor/workbox/workbox-precaching.prod.js",
    "vendor/workbox/workbox-expiration.prod.js",
    "vendor/idb.umd.js",
    "frontend/js/outbox-store.js",
    "frontend/js/service-worker.js",
)

# What a page needs to open with no network: the scripts and styles of the signed-in pages.
APP_SHELL = (
    "frontend/css/app.css",
    "frontend/img/favicon.svg",
    "frontend/img/icon-192.png",
    "vendor/idb.umd.js",
    "frontend/js/app.js",
    "frontend/js/outbox-store.js",
    "frontend/js/outbox.js",
    "frontend/js/results-post.js",
    "frontend/js/product-scan.js",
    "vendor/zxing-library.min.js",
    "frontend/js/results-nil.js",
    "frontend/js/result-photo.js",
    "frontend/js/room.js",
)

ICONS = (("frontend/img/icon-192.png", "192x192"), ("frontend/img/icon-512.png", "512x512"))


def _revision(name: str) -> str:
    """A short hash of a static file's content (an empty one if the file is missing)."""
    path = finders.find(name) or (staticfiles_storage.path(name) if staticfiles_storage.exists(name) else None)
    if not path:
        return ""
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:16]


def _worker_source() -> str:
    files = dict.fromkeys(APP_SHELL + WORKER_SCRIPTS)
    precache = [{"url": static(name), "revision": _revision(name)} for name in files]
    scripts = ", ".join(json.dumps(static(name)) for name in WORKER_SCRIPTS)
    return (
        "// The hub's service worker: frontend/js/service-worker.js, given its app shell by frontend/pwa.py.\n"
        f"self.HUB_PRECACHE = {json.dumps(precache)};\n"
        f"importScripts({scripts});\n"
    )


_cached_worker_source = cache(_worker_source)  # outside DEBUG the static files do not change


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    source = _worker_source() if settings.DEBUG else _cached_worker_source()
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # the browser checks for a new worker on every visit
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(
        {
            "name": "CENcomm hub",
            "short_name": "CENcomm",
            "description": gettext("Post results and read your operation's rooms, with or without network."),
            "lang": request.LANGUAGE_CODE,
            "dir": "rtl" if get_language_bidi() else "ltr",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#f4f6f8",
            "theme_color": "#0d2740",
            "icons": [
                {"src": static(name), "sizes": sizes, "type": "image/png", "purpose": "any"}
                for name, sizes in ICONS
            ]
            + [{"src": static("frontend/img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def outbox_page(request: HttpRequest) -> HttpResponse:
    """What waits on this phone to be sent; the list itself is read from IndexedDB by the page."""
    return render(request, "frontend/outbox.html")
