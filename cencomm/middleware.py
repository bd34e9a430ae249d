"""Both factors for every page, and for every WebSocket: the right Origin and a session that passed
TOTP, or (for programs) a personal API token in the handshake's ``Authorization: Bearer`` header."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from cencomm import metrics, protocol
from cencomm.principal import Principal, api_token_authenticate

OPEN_PATHS = (
    "/i18n/",  # choosing the interface language, on the sign-in page too
    "/accounts/login/",
    "/accounts/verify/",
    "/accounts/enroll/",
    "/accounts/logout/",
    "/accounts/locked/",
    "/static/",
    "/healthz",
    "/metrics",  # its own bearer token (CENCOMM_METRICS_TOKEN), see cencomm.metrics
    "/api/",  # the API checks a verified session or a bearer token itself
)


NUL_MESSAGE = "Text may not contain NUL (U+0000) characters."


class RefuseNulMiddleware:
    """PostgreSQL text cannot hold U+0000: such input is refused at the door with a clear 4xx.

    Checked: the path, the query string, form fields (not files: they are binary) and JSON bodies
    (an escaped ``\\u0000``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._carries_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Invalid input.", "errors": {"__all__": [NUL_MESSAGE]}}, status=422
                )
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _carries_nul(request: HttpRequest) -> bool:
        def any_nul(data: Any) -> bool:
            return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())

        if "\x00" in request.path or any_nul(request.GET):
            return True
        if request.method not in ("POST", "PUT", "PATCH"):
            return False
        if request.content_type == "application/json":
            return b"\\u0000" in request.body
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:  # parsed once here, kept on the request for the view (files are not looked at)
                return any_nul(request.POST)
            except MultiPartParserError:  # the view answers a malformed body as it always has
                return False
        return False


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
            scope["principal"] = None
        else:
            scope["otp_device"] = device
            scope["principal"] = Principal(user)
        scope["session_fingerprint"] = session_fingerprint(getattr(session, "session_key", None))
        return await self.app(scope, receive, send)


def bearer_token(scope: dict) -> str | None:
    """The token of the handshake's ``Authorization`` header: None without one, "" if not Bearer."""
    value = dict(scope.get("headers", [])).get(b"authorization")
    if value is None:
        return None
    scheme, _, token = value.decode("latin-1").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@database_sync_to_async
def _token_principal(plaintext: str) -> Principal | None:
    token = api_token_authenticate(plaintext)
    if token is None:
        return None
    return Principal(
        token.user,
        token_operation_id=token.operation_id,
        token_id=token.pk,
        token_expires_at=token.expires_at,
    )


class BearerTokenMiddleware:
    """A program's socket: ``Authorization: Bearer cct_…`` on the handshake (never in the URL).

    With that header the session cookie is not looked at: the socket is the token's user, scoped to
    the token's operation, or anonymous when the token is unknown, expired or revoked. The consumer
    base re-checks the token before every frame. Without it, the session's two factors decide.
    """

    def __init__(self, app: Any, session_app: Any) -> None:
        self.app, self.session_app = app, session_app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        plaintext = bearer_token(scope)
        if plaintext is None:
            return await self.session_app(scope, receive, send)
        principal = await _token_principal(plaintext) if plaintext else None
        scope = dict(scope)
        scope["user"] = principal.user if principal is not None else AnonymousUser()
        scope["principal"] = principal
        scope["otp_device"] = None
        scope["session_fingerprint"] = None  # no session: sign-outs do not name this socket
        return await self.app(scope, receive, send)


class ExactOriginValidator:
    """Accept a WebSocket only from an exact allowed origin (scheme, host and port).

    A missing Origin, ``null``, another host, scheme or port: refused before the consumer runs. A
    program's handshake with a bearer token may omit the Origin (a browser cannot set that header on
    a WebSocket, and the token, not a cookie, is what authenticates it); if it sends one, it must be
    an allowed one.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            origin = dict(scope.get("headers", [])).get(b"origin", b"").decode("latin-1")
            if not origin and bearer_token(scope):
                return await self.app(scope, receive, send)
            if origin.rstrip("/").lower() not in {
                o.rstrip("/").lower() for o in settings.CENCOMM_ALLOWED_ORIGINS
            }:
                metrics.REFUSALS.labels("socket", "origin").inc()
                return await refuse_socket(protocol.CLOSE_FORBIDDEN, receive, send)
        return await self.app(scope, receive, send)


async def refuse_socket(code: int, receive: Any, send: Any) -> None:
    """Accept the handshake, then close with ``code`` at once, sending nothing: the client can tell
    why (an HTTP 403 to the handshake says the same for every reason). No consumer, no channel layer."""
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": code})
        elif message["type"] == "websocket.disconnect":
            return


def websocket_stack(app: Any) -> Any:
    return ExactOriginValidator(BearerTokenMiddleware(app, AuthMiddlewareStack(OTPSessionMiddleware(app))))
