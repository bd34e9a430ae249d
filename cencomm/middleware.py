"""Both factors for every page, and for every WebSocket: the right Origin, a session that passed TOTP."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

OPEN_PATHS = (
    "/accounts/login/",
    "/accounts/verify/",
    "/accounts/enroll/",
    "/accounts/logout/",
    "/accounts/locked/",
    "/static/",
    "/healthz",
    "/api/",  # the API checks a verified session or a bearer token itself
)


class RequireTwoFactorMiddleware:
    """No page without a password and a second factor; sign-in pages aside."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(OPEN_PATHS) or request.path == "/favicon.ico":
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated:
            return HttpResponseRedirect(f"{settings.LOGIN_URL}?next={quote(request.get_full_path())}")
        if not user.is_verified():
            return HttpResponseRedirect(f"/accounts/verify/?next={quote(request.get_full_path())}")
        return self.get_response(request)


def session_fingerprint(session_key: str | None) -> str:
    """A stand-in for the session key that can travel in live events without revealing it."""
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:32]


@database_sync_to_async
def _verified_device(user: Any, device_id: str | None) -> Device | None:
    if not device_id or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    device = Device.from_persistent_id(device_id)
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    return device


class OTPSessionMiddleware:
    """Inside Channels, django-otp's middleware does not run: check the session's device here.

    A session that did not pass the second factor, or whose device has since been deleted or
    unconfirmed, is treated as anonymous.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        session = scope.get("session")
        user = scope.get("user")
        device_id = (
            await database_sync_to_async(lambda: session.get(DEVICE_ID_SESSION_KEY))() if session else None
        )
        device = await _verified_device(user, device_id)
        scope = dict(scope)
        if device is None:
            scope["user"] = AnonymousUser()
            scope["otp_device"] = None
        else:
            scope["otp_device"] = device
        scope["session_fingerprint"] = session_fingerprint(getattr(session, "session_key", None))
        return await self.app(scope, receive, send)


class ExactOriginValidator:
    """Accept a WebSocket only from an exact allowed origin (scheme, host and port).

    A missing Origin, ``null``, another host, scheme or port: refused before the consumer runs.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            origin = dict(scope.get("headers", [])).get(b"origin", b"").decode("latin-1")
            if origin.rstrip("/").lower() not in {
                o.rstrip("/").lower() for o in settings.CENCOMM_ALLOWED_ORIGINS
            }:
                return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


def websocket_stack(app: Any) -> Any:
    return ExactOriginValidator(AuthMiddlewareStack(OTPSessionMiddleware(app)))
