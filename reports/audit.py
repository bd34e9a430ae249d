"""The reports app's audit events: one small function per action, the actions in ``ReportsAction``.

Services call these inside their transaction; ``cencomm.audit.audit_record`` chains the event in the
operation's audit chain. The stored action strings are part of the hashed payload: never rename one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from cencomm.audit import audit_record
from cencomm.models import AuditEvent
from reports.models import Report


class ReportsAction(models.TextChoices):
    REQUESTED = "report.requested", "Report requested"
    GENERATED = "report.generated", "Report generated"


def report_requested(*, report: Report, actor: AbstractBaseUser | None) -> AuditEvent:
    return audit_record(
        action=ReportsAction.REQUESTED,
        actor=actor,
        operation=report.operation,
        target=report,
        data={"edition": report.edition, "format": report.format, "kind": report.kind},
    )


def report_generated(*, report: Report, integrity: dict[str, Any]) -> AuditEvent:
    """The stored file's digest and the chain head its figures were read at (``integrity``)."""
    return audit_record(
        action=ReportsAction.GENERATED,
        actor=report.requested_by,
        operation=report.operation,
        target=report,
        data={
            "sha256": report.sha256,
            "size": report.size,
            "chain_seq": integrity["chain_seq"],
            "chain_head": integrity["chain_head"],
        },
    )
