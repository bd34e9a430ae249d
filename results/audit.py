"""The results app's audit events: one small function per action, the actions in ``Action``.

Each function runs inside its service's transaction and writes through ``cencomm.audit.audit_record``
(the operation's audit hash chain). Data carries ids and hashes, never a sealed value in the clear.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from cencomm.audit import audit_record
from cencomm.models import AuditEvent
from operations.models import Operation
from results.models import NilReturn, Result, ResultPhoto, ResultVersion


class Action(models.TextChoices):
    POSTED = "result.post"
    CORRECTED = "result.correct"
    VALIDATED = "result.validated"
    RETURNED = "result.returned"
    VOIDED = "result.void"
    RESTORED = "result.restore"
    PHOTO_ADDED = "result.photo"
    NIL_RETURN = "result.nil_return"
    NIL_RETURN_SUPERSEDED = "result.nil_return_superseded"
    CATEGORY_ADDED = "category.add"
    CATEGORY_RENAMED = "category.rename"
    GOODS_RECLASSIFIED = "goods.reclassify"
    KEY_ROTATED = "operation.key_rotate"


def _record(
    action: Action,
    actor: AbstractBaseUser | None,
    operation: Operation,
    target: models.Model | None,
    data: dict[str, Any],
) -> AuditEvent:
    return audit_record(action=action.value, actor=actor, operation=operation, target=target, data=data)


def result_posted(*, actor: AbstractBaseUser, result: Result, version: ResultVersion) -> AuditEvent:
    return _record(
        Action.POSTED,
        actor,
        result.operation,
        result,
        {"uuid": str(result.uuid), "entry_point": result.entry_point_id, "late": result.late, "hash": version.hash},
    )


def result_corrected(*, actor: AbstractBaseUser, result: Result, version: ResultVersion) -> AuditEvent:
    return _record(
        Action.CORRECTED,
        actor,
        result.operation,
        result,
        {"uuid": str(result.uuid), "version": version.number, "hash": version.hash},
    )


def result_validated(*, actor: AbstractBaseUser, result: Result) -> AuditEvent:
    """Validated or returned, as ``result.validation`` now says."""
    action = Action.VALIDATED if result.validation == Result.Validation.VALIDATED else Action.RETURNED
    return _record(action, actor, result.operation, result, {"uuid": str(result.uuid)})


def result_voided(*, actor: AbstractBaseUser, result: Result, version: ResultVersion) -> AuditEvent:
    """Voided (``version.voided``) or restored; the reason is in the chained version."""
    action = Action.VOIDED if version.voided else Action.RESTORED
    return _record(
        action,
        actor,
        result.operation,
        result,
        {"uuid": str(result.uuid), "version": version.number, "hash": version.hash, "reason": version.reason},
    )


def photo_added(*, actor: AbstractBaseUser, result: Result, photo: ResultPhoto) -> AuditEvent:
    return _record(
        Action.PHOTO_ADDED,
        actor,
        result.operation,
        photo,
        {"result": str(result.uuid), "sha256": photo.sha256, "size": photo.size},
    )


def nil_return_posted(*, actor: AbstractBaseUser, nil: NilReturn) -> AuditEvent:
    return _record(
        Action.NIL_RETURN,
        actor,
        nil.operation,
        nil,
        {"entry_point": nil.entry_point_id, "day": nil.day.isoformat()},
    )


def nil_return_superseded(
    *, actor: AbstractBaseUser, operation: Operation, entry_point_id: int, day: dt.date, result: Result
) -> AuditEvent:
    """A result posted for a day its entry point had returned nil: the nil return is removed."""
    return _record(
        Action.NIL_RETURN_SUPERSEDED,
        actor,
        operation,
        result,
        {"entry_point": entry_point_id, "day": day.isoformat(), "by": str(result.uuid)},
    )


def category_added(*, actor: AbstractBaseUser, operation: Operation, target: models.Model, data: dict[str, Any]) -> AuditEvent:
    return _record(Action.CATEGORY_ADDED, actor, operation, target, data)


def category_renamed(
    *, actor: AbstractBaseUser, operation: Operation, target: models.Model, data: dict[str, Any]
) -> AuditEvent:
    return _record(Action.CATEGORY_RENAMED, actor, operation, target, data)


def goods_reclassified(*, actor: AbstractBaseUser, operation: Operation, data: dict[str, Any]) -> AuditEvent:
    return _record(Action.GOODS_RECLASSIFIED, actor, operation, None, data)


def operation_key_rotated(*, actor: AbstractBaseUser | None, operation: Operation, resealed: int) -> AuditEvent:
    return _record(Action.KEY_ROTATED, actor, operation, operation, {"resealed": resealed})
