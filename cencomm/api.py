"""The REST API, mounted at /api/v1/: a bearer token or a session that passed both factors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from ninja.security.base import AuthBase

from cencomm.errors import NotFound, Refused
from cencomm.principal import Principal


class BearerTokenAuth(HttpBearer):
    openapi_description = "A personal access token: Authorization: Bearer cct_…"

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        from operations.services import api_token_authenticate

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


api = NinjaAPI(
    title="CENcomm hub API",
    version="1",
    description="Operations, rooms, results and reports of the customs operation hub.",
    urls_namespace="api",
    auth=[BearerTokenAuth(), VerifiedSessionAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _errors_from_django(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()
        }
    return {"__all__": [str(m) for m in exc.messages]}


def _invalid(request: HttpRequest, errors: dict[str, list[str]]) -> HttpResponse:
    return api.create_response(request, {"detail": "Invalid input.", "errors": errors}, status=422)


@api.exception_handler(NinjaValidationError)
def ninja_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(p) for p in error.get("loc", []) if p not in ("body", "query", "path", "payload", "form")]
        errors.setdefault(".".join(loc) or "__all__", []).append(str(error.get("msg", "invalid")))
    return _invalid(request, errors)


@api.exception_handler(DjangoValidationError)
def django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return _invalid(request, _errors_from_django(exc))


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A number past what the database stores (an id of 10**20): bad input, not a server error."""
    return _invalid(request, {"__all__": ["A value is out of range."]})


@api.exception_handler(NotFound)
def not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(Refused)
def refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    body: dict[str, Any] = {"detail": exc.message}
    if exc.field:
        body["errors"] = {exc.field: [exc.message]}
    return api.create_response(request, body, status=409)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": "Sign in with both factors, or send a valid bearer token."}, status=401
    )


def principal_of(request: HttpRequest) -> Principal:
    principal = request.auth  # type: ignore[attr-defined]
    assert isinstance(principal, Principal)
    return principal


def mount_routers() -> NinjaAPI:
    """Mount every app's router once; called by cencomm.urls (so apps may import this module)."""
    from messaging.api import router as messaging_router
    from operations.api import router as operations_router
    from results.api import router as results_router
    from results.reports.api import router as reports_router

    if not api._routers[1:]:  # noqa: SLF001 - the default router is always first
        for router in (operations_router, messaging_router, results_router, reports_router):
            api.add_router("/", router)
    return api
