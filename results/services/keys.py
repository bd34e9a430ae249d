"""A new data key for an operation's sealed results."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from operations.models import Operation
from operations.services import operation_hold_state
from results import audit, sealing


@transaction.atomic
def operation_key_rotate(*, operation: Operation, actor: AbstractBaseUser | None) -> int:
    """A new data key for the operation's sealed results; returns how many records were re-sealed.

    See results.sealing.reseal_operation for what is re-sealed and why versions keep theirs.
    """
    operation = operation_hold_state(operation)
    count = sealing.reseal_operation(operation.pk)
    audit.operation_key_rotated(actor=actor, operation=operation, resealed=count)
    return count
