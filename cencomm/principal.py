"""Who is asking: a signed-in user who passed both factors, or a program with a scoped token.

Also how the API finds out: the bearer-token and verified-session authentications every app's
router uses, ``principal_of`` and ``session_only``. The API itself is mounted in ``hub/api.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.security.base import AuthBase

from cencomm.models import ApiToken


@dataclass(frozen=True)
class Principal:
    user: AbstractBaseUser
    # A personal access token is scoped to one operation; a session sees all of its user's.
    token_operation_id: int | None = None
    token_id: int | None = None
    token_expires_at: dt.datetime | None = None  # set for a socket opened with a token

    @property
    def user_id(self) -> int:
        return self.user.pk

    def may_use_operation(self, operation_id: int) -> bool:
        return self.token_operation_id is None or self.token_operation_id == operation_id


# --- personal access tokens ----------------------------------------------------------------------

TOKEN_PREFIX = "cct_"  # noqa: S105 - a marker, not a secret


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_token_authenticate(plaintext: str) -> ApiToken | None:
    """The live token with this plaintext, or None (unknown, expired or revoked)."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user", "operation")
        .filter(digest=token_digest(plaintext), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_is_live(token_id: int) -> bool:
    """Whether this token may still be used: not revoked, not expired, its user active."""
    return ApiToken.objects.filter(
        pk=token_id, revoked_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True
    ).exists()


# --- the API's authentications ----------------------------------------------------------------------


class BearerTokenAuth(HttpBearer):
    openapi_description = "A personal access token: Authorization: Bearer cct_…"

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        return Principal(api_token.user, token_operation_id=api_token.operation_id, token_id=api_token.pk)


class VerifiedSessionAuth(AuthBase):
    """The browser's session, only once both factors passed; unsafe methods need the CSRF token."""

    openapi_type = "apiKey"
    openapi_in = "cookie"
    openapi_name = "sessionid"

    def __call__(self, request: HttpRequest) -> Principal | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_verified():
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            reason = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})
            if reason is not None:
                return None
        return Principal(user)


def session_only(request: HttpRequest) -> Principal | None:
    """For actions a program's token must not take (making more tokens)."""
    return VerifiedSessionAuth()(request)


def principal_of(request: HttpRequest) -> Principal:
    principal = request.auth  # type: ignore[attr-defined]
    assert isinstance(principal, Principal)
    return principal
