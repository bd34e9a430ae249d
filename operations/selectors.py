"""Reads. ``access_*`` getters raise NotFound for anything the caller may not see."""

from __future__ import annotations

from django.db.models import QuerySet

from cencomm.errors import NotFound
from cencomm.principal import Principal
from operations.models import Administration, EntryPoint, Membership, Operation

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


def access_entry_point(membership: Membership, entry_point_id: int) -> EntryPoint:
    """An entry point of the member's operation, or NotFound."""
    entry_point = operation_entry_points(membership.operation).filter(pk=int(entry_point_id)).first()
    if entry_point is None:
        raise NotFound("entry point")
    return entry_point


def operation_members(operation: Operation) -> QuerySet[Membership]:
    return operation.memberships.select_related("user", "administration", "entry_point")
