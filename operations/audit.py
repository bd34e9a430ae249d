"""The audit events of operations, memberships and API tokens: one small function per action.

The actions are listed in ``OperationsAction``; services call these functions inside their
transaction and ``cencomm.audit.audit_record`` chains the event. The stored action strings are part
of the audit chain's hashed payload: never rename one.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from cencomm.audit import audit_record
from cencomm.models import ApiToken, AuditEvent
from operations.models import LegalHold, Membership, Operation

Actor = AbstractBaseUser | None


class OperationsAction(models.TextChoices):
    OPERATION_CREATE = "operation.create", "Operation created"
    OPERATION_TRANSITION = "operation.transition", "Operation moved to another state"
    MEMBERSHIP_ADD = "membership.add", "Member added"
    MEMBERSHIP_CHANGE = "membership.change", "Member's role or place changed"
    MEMBERSHIP_REMOVE = "membership.remove", "Member removed"
    TOKEN_CREATE = "token.create", "API token created"
    TOKEN_REVOKE = "token.revoke", "API token revoked"
    RETENTION_CHANGE = "operation.retention", "Retention period changed"
    HOLD_SET = "operation.hold", "Legal hold set"
    HOLD_LIFT = "operation.hold_lift", "Legal hold lifted"


def operation_created(*, operation: Operation, actor: Actor) -> AuditEvent:
    """With the retention period it was created with (records are kept that long after its close)."""
    return audit_record(
        action=OperationsAction.OPERATION_CREATE,
        actor=actor,
        operation=operation,
        target=operation,
        data={"retention_days": operation.retention_days},
    )


def retention_changed(*, operation: Operation, actor: Actor, from_days: int) -> AuditEvent:
    return audit_record(
        action=OperationsAction.RETENTION_CHANGE,
        actor=actor,
        operation=operation,
        target=operation,
        data={"from": from_days, "to": operation.retention_days},
    )


def legal_hold_set(*, hold: LegalHold, actor: Actor) -> AuditEvent:
    """The hold's row keeps its reason; the event names the row (identifiers only, as every event)."""
    return audit_record(
        action=OperationsAction.HOLD_SET,
        actor=actor,
        operation=hold.operation,
        target=hold,
        data={"hold": hold.pk, "set_at": hold.set_at.isoformat()},
    )


def legal_hold_lifted(*, hold: LegalHold, actor: Actor) -> AuditEvent:
    return audit_record(
        action=OperationsAction.HOLD_LIFT,
        actor=actor,
        operation=hold.operation,
        target=hold,
        data={"hold": hold.pk, "lifted_at": hold.lifted_at.isoformat() if hold.lifted_at else None},
    )


def operation_transitioned(
    *, operation: Operation, actor: Actor, from_state: str, to_state: str
) -> AuditEvent:
    return audit_record(
        action=OperationsAction.OPERATION_TRANSITION,
        actor=actor,
        operation=operation,
        target=operation,
        data={"from": from_state, "to": to_state},
    )


def membership_saved(*, membership: Membership, actor: Actor, changed: bool) -> AuditEvent:
    """A new member (``membership.add``) or a member's new role or place (``membership.change``)."""
    return audit_record(
        action=OperationsAction.MEMBERSHIP_CHANGE if changed else OperationsAction.MEMBERSHIP_ADD,
        actor=actor,
        operation=membership.operation,
        target=membership,
        data={
            "user": membership.user_id,
            "role": membership.role,
            "administration": membership.administration_id,
            "entry_point": membership.entry_point_id,
        },
    )


def membership_removed(*, membership: Membership, actor: Actor) -> AuditEvent:
    """Call before deleting the row (the event names it)."""
    return audit_record(
        action=OperationsAction.MEMBERSHIP_REMOVE,
        actor=actor,
        operation=membership.operation,
        target=membership,
        data={"user": membership.user_id, "role": membership.role},
    )


def token_created(*, token: ApiToken, actor: AbstractBaseUser) -> AuditEvent:
    return audit_record(
        action=OperationsAction.TOKEN_CREATE,
        actor=actor,
        operation=token.operation,
        target=token,
        data={"prefix": token.prefix, "expires_at": token.expires_at.isoformat()},
    )


def token_revoked(*, token: ApiToken, actor: AbstractBaseUser) -> AuditEvent:
    return audit_record(
        action=OperationsAction.TOKEN_REVOKE,
        actor=actor,
        operation=token.operation,
        target=token,
        data={"prefix": token.prefix},
    )
