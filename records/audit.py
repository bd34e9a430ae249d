"""The records app's audit events: one small function per action, the actions in ``RecordsAction``.

``records.retention.operation_shred`` calls ``operation_shredded`` in its transaction; the event is
the last link of the operation's audit chain written while its records were whole, and says what
went and what stayed (counts, identifiers and hashes only). Never rename a stored action string.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from cencomm.audit import audit_record
from cencomm.models import AuditEvent
from operations.models import Operation


class RecordsAction(models.TextChoices):
    SHRED = "records.shred", "Operation's records shredded under its retention period"


def operation_shredded(*, operation: Operation, data: dict[str, Any]) -> AuditEvent:
    """Written by the retention run (no actor): ``data`` holds the counts and the chain head kept."""
    return audit_record(
        action=RecordsAction.SHRED, actor=None, operation=operation, target=operation, data=data
    )
