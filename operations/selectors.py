"""Reads. ``access_*`` getters raise NotFound for anything the caller may not see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import get_language

from cencomm.errors import NotFound
from cencomm.principal import Principal
from operations.models import (
    Administration,
    CommodityCategory,
    EntryPoint,
    LegalHold,
    Membership,
    Operation,
    OperationCategory,
)

Role = Membership.Role


def operations_for(principal: Principal) -> QuerySet[Operation]:
    operations = Operation.objects.filter(memberships__user_id=principal.user_id)
    if principal.token_operation_id is not None:
        operations = operations.filter(pk=principal.token_operation_id)
    return operations.exclude(state=Operation.State.ARCHIVED).distinct()


def access_membership(
    principal: Principal, *, operation_code: str | None = None, operation_id: int | None = None
) -> Membership:
    """The caller's membership of an operation they belong to, or NotFound."""
    if not principal.user.is_authenticated or not principal.user.is_active:
        raise NotFound("operation")
    memberships = Membership.objects.select_related(
        "operation", "administration", "entry_point", "entry_point__administration"
    ).filter(user_id=principal.user_id)
    if operation_code is not None:
        memberships = memberships.filter(operation__code=str(operation_code))
    elif operation_id is not None:
        memberships = memberships.filter(operation_id=int(operation_id))
    else:
        raise NotFound("operation")
    membership = memberships.exclude(operation__state=Operation.State.ARCHIVED).first()
    if membership is None or not principal.may_use_operation(membership.operation_id):
        raise NotFound("operation")
    return membership


def access_operation(principal: Principal, code: str) -> Operation:
    return access_membership(principal, operation_code=code).operation


def may_move_operation(membership: Membership) -> bool:
    """Coordinators move their operation through its lifecycle (``services.TRANSITIONS``)."""
    return membership.role == Role.COORDINATOR


# --- retention and legal hold (records/ shreds what is due; these say who may change what) ---------


def is_hub_administrator(user: Any) -> bool:
    """Someone who runs the hub (Django's admin) and was given the legal-hold permission; a superuser
    has it. Operation roles are not enough: a hub administrator need not belong to the operation."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("operations.add_legalhold")
    )


def may_change_retention(membership: Membership) -> bool:
    """Coordinators set how long their operation's records are kept after it closes."""
    return membership.role == Role.COORDINATOR and membership.operation.shredded_at is None


def may_hold(user: Any, membership: Membership | None) -> bool:
    """A legal hold is set and lifted by a coordinator of the operation or by a hub administrator."""
    if membership is not None and membership.role == Role.COORDINATOR:
        return True
    return is_hub_administrator(user)


def access_hold_operation(principal: Principal, code: str) -> tuple[Operation, Membership | None]:
    """The operation whose hold the caller may set or lift, with their membership if any, or NotFound.

    A member without the right gets what an outsider gets. A hub administrator reaches any
    operation, archived ones too (holds matter most once an operation is archived)."""
    try:
        membership: Membership | None = access_membership(principal, operation_code=code)
    except NotFound:
        membership = None
    if membership is not None:
        if may_hold(principal.user, membership):
            return membership.operation, membership
        raise NotFound("operation")
    operation = Operation.objects.filter(code=str(code)).first()
    if (
        operation is None
        or not principal.may_use_operation(operation.pk)
        or not is_hub_administrator(principal.user)
    ):
        raise NotFound("operation")
    return operation, None


def standing_hold(operation: Operation) -> LegalHold | None:
    """The legal hold that stands on the operation (at most one), or None."""
    return operation.legal_holds.filter(lifted_at__isnull=True).select_related("set_by").first()


def retention_due_at(operation: Operation) -> dt.datetime | None:
    """When the operation's records fall due for shredding: its close plus its retention period."""
    if operation.closed_at is None:
        return None
    return operation.closed_at + dt.timedelta(days=operation.retention_days)


def require_role(membership: Membership, *roles: str, what: str = "object") -> Membership:
    """Members without the role get what a missing object gets."""
    if membership.role not in roles:
        raise NotFound(what)
    return membership


def operation_administrations(operation: Operation) -> QuerySet[Administration]:
    return Administration.objects.filter(participation__operation=operation).order_by("name")


def operation_entry_points(operation: Operation) -> QuerySet[EntryPoint]:
    return (
        EntryPoint.objects.filter(participation__operation=operation)
        .select_related("administration")
        .order_by("administration__name", "name")
    )


def administrations_with_entry_points(operation: Operation) -> list[tuple[Administration, list[EntryPoint]]]:
    """The operation's administrations by name, each with its entry points taking part, by name."""
    entry_points = list(operation_entry_points(operation))
    return [
        (a, [e for e in entry_points if e.administration_id == a.pk]) for a in operation_administrations(operation)
    ]


def access_entry_point(membership: Membership, entry_point_id: int) -> EntryPoint:
    """An entry point of the member's operation, or NotFound."""
    entry_point = operation_entry_points(membership.operation).filter(pk=int(entry_point_id)).first()
    if entry_point is None:
        raise NotFound("entry point")
    return entry_point


def operation_members(operation: Operation) -> QuerySet[Membership]:
    return operation.memberships.select_related("user", "administration", "entry_point")


# --- commodity categories: each operation has its own list, started from the shared catalogue ---


def operation_categories(operation: Operation, *, active_only: bool = False) -> QuerySet[OperationCategory]:
    """The categories the operation offers (its own names), in their order."""
    rows = OperationCategory.objects.filter(operation=operation).select_related("category")
    if active_only:
        rows = rows.filter(active=True)
    return rows.order_by("position", "name", "pk")


def catalogue_offers(operation: Operation) -> QuerySet[CommodityCategory]:
    """Catalogue categories the operation does not offer yet: a coordinator picks them in a minute."""
    taken = OperationCategory.objects.filter(operation=operation).values("category_id")
    return CommodityCategory.objects.filter(active=True).exclude(pk__in=taken).order_by("position", "name")


def category_labels(operation_id: int, language: str | None = None) -> dict[int, str]:
    """Catalogue key (``GoodsLine.category_id``) -> the operation's name for it, in ``language``
    (the reader's, from get_language(), by default; reports pass "en")."""
    language = language or get_language()
    own = {
        oc.category_id: oc.label(language)
        for oc in OperationCategory.objects.filter(operation_id=operation_id)
    }
    missing = CommodityCategory.objects.exclude(pk__in=list(own))
    return {c.pk: c.label(language) for c in missing} | own
