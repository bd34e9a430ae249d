"""The REST API, mounted at /api/v1/: every app's router, its authentications and its error answers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from cencomm.errors import NotFound, Refused, validation_messages
from cencomm.metrics import REFUSALS
from cencomm.principal import BearerTokenAuth, VerifiedSessionAuth
from cencomm.uploads import UploadRejected
from messaging.api import router as messaging_router
from operations.api import router as operations_router
from products.api import router as products_router
from records.search_api import router as search_router
from reports.api import router as reports_router
from results.api import router as results_router
from results.rightholders import router as rightholders_router

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
    return validation_messages(exc)


def _invalid(request: HttpRequest, errors: dict[str, list[str]]) -> HttpResponse:
    REFUSALS.labels("api", "invalid").inc()
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


@api.exception_handler(UploadRejected)
def upload_rejected(request: HttpRequest, exc: UploadRejected) -> HttpResponse:
    """A file over the size limit is 413; any other refused file 422, like every invalid input."""
    if exc.too_large:
        REFUSALS.labels("api", "too_large").inc()
        return api.create_response(
            request, {"detail": "File too large.", "errors": _errors_from_django(exc)}, status=413
        )
    return _invalid(request, _errors_from_django(exc))


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A number past what the database stores (an id of 10**20): bad input, not a server error."""
    return _invalid(request, {"__all__": ["A value is out of range."]})


@api.exception_handler(NotFound)
def not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    REFUSALS.labels("api", "not_found").inc()
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(Refused)
def refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    REFUSALS.labels("api", "refused").inc()
    body: dict[str, Any] = {"detail": exc.message}
    if exc.field:
        body["errors"] = {exc.field: [exc.message]}
    return api.create_response(request, body, status=409)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    REFUSALS.labels("api", "unauthenticated").inc()
    return api.create_response(
        request, {"detail": "Sign in with both factors, or send a valid bearer token."}, status=401
    )


for _router in (
    operations_router,
    products_router,
    messaging_router,
    results_router,
    rightholders_router,
    reports_router,
    search_router,
):
    api.add_router("/", _router)
