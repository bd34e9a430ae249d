"""What protects a stored report: the only module of the reports app that knows a scope or a context.

A restricted edition's file is sealed under its operation's data key (the scope is the results
app's, ``results.sealing.operation_scope``: one key per operation) and bound to its report by the
context ``report:<operation id>:<report id>:content``, so a file copied to another report's row does
not open. Public editions are stored as they are (they are written to leave the operation): when
retention shreds the operation and destroys its key, the final public edition is what stays
(``kept_after_shredding``; the rest goes, ``shred_reports``).
"""

from __future__ import annotations

from django.db.models import QuerySet

from cencomm.crypto import open_sealed, seal
from cencomm.errors import Refused
from reports.models import Report
from results.sealing import operation_scope


def _content_context(report: Report) -> str:
    return f"report:{report.operation_id}:{report.pk}:content"


def seal_content(report: Report, content: bytes) -> bytes:
    """The report's file sealed (the report must be saved already: the context names its id)."""
    return seal(scope=operation_scope(report.operation_id), context=_content_context(report), plaintext=content)


def open_content(report: Report, blob: bytes) -> bytes:
    return open_sealed(context=_content_context(report), blob=blob, scope=operation_scope(report.operation_id))


# --- retention -----------------------------------------------------------------------------------


def kept_after_shredding(operation_id: int) -> QuerySet[Report]:
    """The reports retention keeps: finished public editions (the final one, and any interim one
    that was published), stored in the clear (they were written to leave the operation), so
    destroying the operation's key leaves them readable."""
    return Report.objects.filter(
        operation_id=operation_id,
        edition=Report.Edition.PUBLIC,
        state=Report.State.DONE,
        sealed=False,
        content__isnull=False,
    )


def shred_reports(operation_id: int) -> int:
    """Delete every report of the operation but those kept (restricted, interim, failed, queued).

    The rows are locked first; one being generated right now refuses the shredding (its worker would
    store the file it built from the records after they were gone). A queued one is deleted: its
    worker then finds nothing to claim.
    """
    rows = Report.objects.select_for_update().filter(operation_id=operation_id)
    if Report.State.RUNNING in set(rows.values_list("state", flat=True)):
        raise Refused("A report of the operation is being generated; it is shredded at the next run.")
    kept = kept_after_shredding(operation_id).values("pk")
    deleted, _ = Report.objects.filter(operation_id=operation_id).exclude(pk__in=kept).delete()
    return deleted
