"""Pages of the operations app: my operations, one operation's overview and lifecycle, API tokens."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from cencomm.errors import NotFound, Refused, validation_messages
from cencomm.models import ApiToken
from cencomm.principal import Principal
from operations import selectors, services
from operations.models import Membership, Operation

MAX_RETENTION_DAYS = next(
    v.limit_value
    for v in Operation._meta.get_field("retention_days").validators
    if isinstance(v, MaxValueValidator)
)


def home(request: HttpRequest) -> HttpResponse:
    principal = Principal(request.user)
    memberships = [
        selectors.access_membership(principal, operation_id=op.pk)
        for op in selectors.operations_for(principal).order_by("-window_start")
    ]
    return render(request, "frontend/home.html", {"memberships": memberships})


def operation_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _detail_page(request, selectors.access_membership(Principal(request.user), operation_code=code))


def _detail_page(
    request: HttpRequest, membership: Membership, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    operation = membership.operation
    administrations = [
        {"administration": a, "entry_points": entry_points}
        for a, entry_points in selectors.administrations_with_entry_points(operation)
    ]
    return render(
        request,
        "frontend/operation.html",
        {
            "operation": operation,
            "membership": membership,
            "administrations": administrations,
            "member_count": operation.memberships.count(),
            "transitions": operation.transitions.select_related("by"),
            "next_states": [
                (state, Operation.State(state).label)
                for state in sorted(services.TRANSITIONS[operation.state])
            ]
            if selectors.may_move_operation(membership) and operation.shredded_at is None
            else [],
            "hold": selectors.standing_hold(operation),
            "may_hold": selectors.may_hold(request.user, membership) and operation.shredded_at is None,
            "may_change_retention": selectors.may_change_retention(membership),
            "due_at": selectors.retention_due_at(operation),
            "max_retention_days": MAX_RETENTION_DAYS,
            "errors": errors or {},
            "tab": "overview",
        },
        status=422 if errors else 200,
    )


def _changed(request: HttpRequest, code: str, change: Callable[[Membership], object]) -> HttpResponse:
    """A form of the overview page: done, back to the page; refused, the page with the messages."""
    membership = selectors.access_membership(Principal(request.user), operation_code=code)
    try:
        change(membership)
    except ValidationError as exc:
        return _detail_page(request, membership, validation_messages(exc))
    except Refused as exc:
        return _detail_page(request, membership, {exc.field or "__all__": [exc.message]})
    return redirect("operation", code=code)


@require_POST
def operation_retention(request: HttpRequest, code: str) -> HttpResponse:
    return _changed(
        request,
        code,
        lambda m: services.operation_retention_set(
            operation=m.operation,
            retention_days=request.POST.get("retention_days", ""),
            actor=request.user,
            membership=m,
        ),
    )


@require_POST
def operation_hold(request: HttpRequest, code: str) -> HttpResponse:
    return _changed(
        request,
        code,
        lambda m: services.legal_hold_set(
            operation=m.operation, reason=request.POST.get("reason", ""), actor=request.user, membership=m
        ),
    )


@require_POST
def operation_hold_lift(request: HttpRequest, code: str) -> HttpResponse:
    return _changed(
        request,
        code,
        lambda m: services.legal_hold_lift(
            operation=m.operation,
            reason=request.POST.get("lift_reason", ""),
            actor=request.user,
            membership=m,
        ),
    )


@require_POST
def operation_transition(request: HttpRequest, code: str) -> HttpResponse:
    membership = selectors.access_membership(Principal(request.user), operation_code=code)
    if not selectors.may_move_operation(membership):
        raise NotFound("operation")
    try:
        services.operation_transition(
            operation=membership.operation, to_state=request.POST.get("to_state", ""), actor=request.user
        )
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("operation", code=code)


@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    principal = Principal(request.user)
    created = None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if "revoke" in request.POST:
            token = ApiToken.objects.filter(
                pk=request.POST.get("revoke", "0") or 0, user=request.user
            ).first()
            if token is not None:
                services.api_token_revoke(token=token, actor=request.user)
            return redirect("tokens")
        try:
            operation = selectors.access_operation(principal, request.POST.get("operation", ""))
            days = int(request.POST.get("days", "30"))
            created = services.api_token_create(
                user=request.user, operation=operation, name=request.POST.get("name", ""), days=days
            )[1]
        except NotFound:
            errors = {"operation": [gettext("Choose one of your operations.")]}
        except ValueError:
            errors = {"days": [gettext("Give a number of days.")]}
        except ValidationError as exc:
            errors = validation_messages(exc)
    return render(
        request,
        "frontend/tokens.html",
        {
            "tokens": ApiToken.objects.filter(user=request.user).select_related("operation"),
            "operations": selectors.operations_for(principal),
            "created": created,
            "errors": errors,
            "max_days": settings.CENCOMM_API_TOKEN_MAX_DAYS,
        },
        status=400 if errors else 200,
    )
