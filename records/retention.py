"""Retention: which operations are due, and shredding one (``manage.py apply_retention`` runs both).

An operation's records are kept ``Operation.retention_days`` after its close (``closed_at``); then,
unless a legal hold stands, they are shredded: every message, version and file of its rooms, every
sealed field and photo of its results, every report but the public editions, and its search index
go, and the data keys of its scopes (``room:<id>``, ``operation:<id>``, ``search:<id>``) are
destroyed, so nothing of it opens again whatever master key and later backup someone holds. What
stays: the public editions of its report (stored in the clear: they were written to leave the
operation), the plain figures the board is made of, and the audit and results chains, whose links
hash sealed values by their ciphertext's digest, which is kept (``results.sealing``). One operation,
one transaction: the chains are verified inside it, and a failure rolls the whole operation back.
See docs/security.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cencomm.audit import audit_verify
from cencomm.chain import chain_head
from cencomm.crypto import data_keys_destroy
from cencomm.errors import Refused
from cencomm.models import DataKey
from cencomm.search import forget_operation, search_scope
from messaging.models import Attachment, Message
from messaging.sealing import shred_operation_rooms
from operations.models import LegalHold, Operation
from operations.selectors import retention_due_at, standing_hold
from records import audit
from reports.models import Report
from reports.sealing import kept_after_shredding, shred_reports
from reports.selectors import SYSTEM, Audience
from reports.services import report_generate_now
from results.chain import chain_verify, results_chain_name
from results.sealing import operation_scope, shred_operation_results


@dataclass(frozen=True)
class Due:
    """An operation whose retention period runs out at ``due_at`` (a hold, if any, stops it)."""

    operation: Operation
    due_at: dt.datetime
    hold: LegalHold | None = None


@dataclass
class Plan:
    """What a run finds: operations to shred now, those a hold keeps, and the next ones due."""

    due: list[Due] = field(default_factory=list)
    held: list[Due] = field(default_factory=list)
    upcoming: list[Due] = field(default_factory=list)


def _not_shredded() -> QuerySet[Operation]:
    return Operation.objects.filter(closed_at__isnull=False, shredded_at__isnull=True).order_by(
        "closed_at", "pk"
    )


def retention_plan(*, now: dt.datetime | None = None, upcoming: int = 5) -> Plan:
    """Closed operations not shredded yet, by when they fall due (few rows: one per closed operation)."""
    now = now or timezone.now()
    holds = {
        h.operation_id: h for h in LegalHold.objects.filter(lifted_at__isnull=True).select_related("set_by")
    }
    plan = Plan()
    for operation in _not_shredded():
        due_at = retention_due_at(operation)
        assert due_at is not None  # closed_at is set
        item = Due(operation, due_at, holds.get(operation.pk))
        if due_at > now:
            plan.upcoming.append(item)
        elif item.hold is not None:
            plan.held.append(item)
        else:
            plan.due.append(item)
    plan.upcoming.sort(key=lambda d: d.due_at)
    plan.upcoming = plan.upcoming[:upcoming]
    return plan


def shred_preview(operation: Operation) -> dict[str, int]:
    """What shredding ``operation`` would remove and keep, counted (the dry run prints it)."""
    return {
        "messages": Message.objects.filter(room__operation=operation).count(),
        "attachments": Attachment.objects.filter(room__operation=operation).count(),
        "results": operation.results.count(),
        "reports_removed": Report.objects.filter(operation=operation).count()
        - kept_after_shredding(operation.pk).count(),
        "public_reports_kept": kept_after_shredding(operation.pk).count(),
    }


def public_report_ensure(operation: Operation) -> Report | None:
    """A public edition to keep: the one there is, or one generated now (a PDF, in this process).

    Not in the shredding transaction (generation writes its progress as it goes); a failed
    generation returns None and the operation is left as it is for the next run.
    """
    kept = kept_after_shredding(operation.pk).order_by("-finished_at").first()
    if kept is not None:
        return kept
    report = report_generate_now(
        operation=operation,
        audience=Audience(SYSTEM),
        edition=Report.Edition.PUBLIC,
        format=Report.Format.PDF,
    )
    return report if report.state == Report.State.DONE else None


def shred_search_index(operation_id: int) -> tuple[list[str], int]:
    """The operation's search index: its documents and tokens removed; ``(key scopes, documents)``.

    The hook where retention meets search (``cencomm.search``): the keys of the scopes returned are
    destroyed with the operation's other keys.
    """
    return [search_scope(operation_id)], forget_operation(operation_id)


@dataclass(frozen=True)
class Shredded:
    operation: Operation
    counts: dict[str, Any]


def operation_shred(*, operation_id: int, now: dt.datetime | None = None) -> Shredded:
    """Shred one due operation in one transaction; Refused (nothing changed) when it may not be.

    The operation's row is locked first (a hold being set waits, then finds it shredded). The results
    and audit chains are verified on what remains before the transaction commits: a chain that does
    not verify rolls everything back.
    """
    now = now or timezone.now()
    with transaction.atomic():
        operation = Operation.objects.select_for_update(no_key=True).get(pk=operation_id)
        if operation.shredded_at is not None:
            raise Refused(f"{operation.code} was shredded on {operation.shredded_at:%Y-%m-%d}.")
        due_at = retention_due_at(operation)
        if due_at is None or due_at > now:
            raise Refused(f"{operation.code} is not due for shredding.")
        if standing_hold(operation) is not None:
            raise Refused(f"A legal hold stands on {operation.code}.")
        kept = list(kept_after_shredding(operation.pk).values_list("pk", flat=True))
        if not kept:
            raise Refused(f"{operation.code} has no public report to keep.")

        room_scopes, counts = shred_operation_rooms(operation.pk)
        counts |= shred_operation_results(operation.pk)
        counts["reports"] = shred_reports(operation.pk)
        search_scopes, counts["search_documents"] = shred_search_index(operation.pk)
        counts["keys"] = data_keys_destroy(
            scopes=[*room_scopes, operation_scope(operation.pk), *search_scopes]
        )
        # An UPDATE of the one column: the rest of the row (its access epoch) is not written back.
        Operation.objects.filter(pk=operation.pk).update(shredded_at=now)
        operation.shredded_at = now

        verdict = chain_verify(operation.pk)
        if not verdict.ok:
            raise Refused(f"{operation.code}: the results chain does not verify on what would remain.")
        head = chain_head(results_chain_name(operation.pk))
        audit.operation_shredded(
            operation=operation,
            data={
                **counts,
                "closed_at": operation.closed_at.isoformat() if operation.closed_at else None,
                "retention_days": operation.retention_days,
                "due_at": due_at.isoformat(),
                "kept_reports": kept,
                "results_chain": {"seq": head.seq, "head": head.hash},
            },
        )
        if audit_verify(operation.pk) is not None:
            raise Refused(f"{operation.code}: the audit chain does not verify.")
    return Shredded(operation, counts)


def key_storage_compact() -> bool:
    """Rewrite the data-key table so the deleted wrapped keys leave the database's files at once
    (PostgreSQL keeps a deleted row's bytes in its page until a vacuum reuses it). The table is
    small; VACUUM FULL locks it for the moment it takes. False where it cannot run."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM FULL {DataKey._meta.db_table}")
    return True
