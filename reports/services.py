"""Writes: ask for a report, claim a queued job, generate and store it.

The queue is the ``Report`` table itself (no broker). A worker claims the oldest queued job with
``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serialises writers, which is enough for
the demo), marks it running, and generates it: progress goes to the row in small separate writes,
so the page polling it sees each stage. Workers are ``manage.py run_report_worker`` or, when
``CENCOMM_REPORT_THREAD`` is on (the default outside production), a thread this process starts
after the request commits, so ``make demo`` generates reports with no other process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import socket
import threading
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from cencomm.logging import work_id
from operations.models import Membership, Operation
from reports import audit, builder, sealing, writers
from reports.models import Report
from reports.selectors import Audience

log = logging.getLogger(__name__)

#: How many case rows the HTML and PDF list (the CSV and XLSX exports hold all of them).
HTML_CASE_LIMIT = 100
#: A running job whose worker has not written for this long is given back to the queue.
STALE_AFTER = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 3

CONTENT_TYPES = {
    Report.Format.PDF: ("application/pdf", "pdf"),
    Report.Format.HTML: ("text/html; charset=utf-8", "html"),
    Report.Format.CSV: ("application/zip", "csv.zip"),
    Report.Format.XLSX: ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    Report.Format.JSON: ("application/json", "json"),
    Report.Format.CEN: ("text/csv; charset=utf-8", "cen.csv"),
}


def _kind(operation: Operation) -> str:
    """Interim while results may still change the window's figures, final after it."""
    open_states = (Operation.State.PLANNED, Operation.State.ACTIVE)
    if operation.state in open_states or timezone.now() < operation.window_end:
        return Report.Kind.INTERIM
    return Report.Kind.FINAL


def _validate(edition: str, format: str, audience: Audience) -> None:
    errors: dict[str, list[str]] = {}
    if edition not in Report.Edition.values:
        errors["edition"] = ["Choose public or restricted."]
    elif edition == Report.Edition.RESTRICTED and not audience.may_read_restricted:
        errors["edition"] = ["Your role may ask for the public edition only."]
    if format not in Report.Format.values:
        errors["format"] = [f"Choose one of {', '.join(Report.Format.values)}."]
    elif format == Report.Format.CEN and edition != Report.Edition.RESTRICTED:
        errors["format"] = [
            "The CEN export has one row per goods line: ask for it with the restricted edition."
        ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def report_request(
    *,
    operation: Operation,
    requested_by: AbstractBaseUser | None,
    audience: Audience,
    edition: str,
    format: str,
    start_worker: bool = True,
) -> Report:
    """Queue a report; a worker picks it up after commit."""
    if Operation.objects.filter(pk=operation.pk, shredded_at__isnull=False).exists():  # nothing left to build on
        raise ValidationError({"edition": ["This operation's records were shredded: no new report."]})
    _validate(edition, format, audience)
    report = Report.objects.create(
        operation=operation,
        requested_by=requested_by,
        audience_role=audience.role if edition == Report.Edition.RESTRICTED else "",
        audience_administration_id=audience.administration_id
        if edition == Report.Edition.RESTRICTED
        else None,
        edition=edition,
        format=format,
        kind=_kind(operation),
    )
    audit.report_requested(report=report, actor=requested_by)
    # The asking request's line names the job; the worker's lines carry request_id "report-<id>".
    log.info("report.queued", extra={"report_id": report.pk, "format": format})
    if start_worker and settings.CENCOMM_REPORT_THREAD:
        transaction.on_commit(start_thread_worker)
    return report


def report_request_for_member(*, membership: Membership, edition: str, format: str) -> Report:
    return report_request(
        operation=membership.operation,
        requested_by=membership.user,
        audience=Audience.of(membership),
        edition=edition,
        format=format,
    )


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:120]


@transaction.atomic
def report_claim(*, report_id: int | None = None) -> Report | None:
    """Take the oldest queued job (or that one), or None; concurrent workers never take the same one."""
    queued = Report.objects.select_for_update(skip_locked=True).filter(state=Report.State.QUEUED)
    if report_id is not None:
        queued = queued.filter(pk=report_id)
    report = queued.order_by("requested_at", "pk").defer("content").first()
    if report is None:
        return None
    now = timezone.now()
    report.state, report.started_at, report.heartbeat_at = Report.State.RUNNING, now, now
    report.worker, report.attempts, report.progress, report.stage = (
        _worker_name(),
        report.attempts + 1,
        1,
        gettext_noop("Started"),
    )
    report.save(
        update_fields=["state", "started_at", "heartbeat_at", "worker", "attempts", "progress", "stage"]
    )
    return report


@transaction.atomic
def report_requeue_stale(*, older_than: dt.timedelta = STALE_AFTER) -> int:
    """Give jobs of a worker that died back to the queue (or fail them after MAX_ATTEMPTS)."""
    cutoff = timezone.now() - older_than
    stale = Report.objects.select_for_update(skip_locked=True).filter(
        state=Report.State.RUNNING, heartbeat_at__lt=cutoff
    )
    count = 0
    for report in stale.defer("content"):
        if report.attempts >= MAX_ATTEMPTS:
            report.state, report.error, report.finished_at = (
                Report.State.FAILED,
                "The worker stopped answering.",
                timezone.now(),
            )
        else:
            report.state, report.stage = Report.State.QUEUED, gettext_noop("Queued again")
        report.save(update_fields=["state", "error", "finished_at", "stage"])
        count += 1
    return count


def _progress(report: Report, percent: int, stage: str) -> None:
    Report.objects.filter(pk=report.pk).update(
        progress=percent, stage=stage[:80], heartbeat_at=timezone.now()
    )


def render(report: Report, data: dict[str, Any], audience: Audience, step: Any) -> bytes:
    """The file of one format from the built data (cases streamed from the database)."""
    operation = report.operation
    restricted = report.edition == Report.Edition.RESTRICTED
    fmt = report.format
    if fmt == Report.Format.JSON:
        return writers.write_json(data)
    if fmt == Report.Format.CEN:
        return writers.write_cen_csv(builder.LINE_COLUMNS, builder.goods_line_rows(operation, audience=None))
    if fmt in (Report.Format.CSV, Report.Format.XLSX):
        sheets = writers.sheets(
            data,
            cases=builder.case_rows(operation, audience=audience) if restricted else None,
            lines=builder.goods_line_rows(operation, audience=audience) if restricted else None,
            case_columns=builder.CASE_COLUMNS,
            line_columns=builder.LINE_COLUMNS,
        )
        step(60, gettext_noop("Writing the tables"))
        return writers.write_csv_zip(sheets) if fmt == Report.Format.CSV else writers.write_xlsx(sheets)
    cases = None
    truncated = False
    if restricted:
        cases = list(builder.case_rows(operation, audience=audience, limit=HTML_CASE_LIMIT + 1))
        truncated = len(cases) > HTML_CASE_LIMIT
        cases = cases[:HTML_CASE_LIMIT]
    step(55, gettext_noop("Drawing the charts"))
    html = writers.render_html(data, cases=cases, cases_truncated=truncated)
    if fmt == Report.Format.HTML:
        return html.encode()
    step(70, gettext_noop("Laying out the PDF"))
    return writers.render_pdf(html)


def report_generate(*, report: Report) -> Report:
    """Build and store a claimed job. Not one transaction: progress must be visible while it runs.

    Reports are written in English whoever asks, and whatever language the calling thread is in.
    """
    with translation.override("en"), work_id(f"report-{report.pk}"):  # the job's log lines
        log.info("report.generate", extra={"report_id": report.pk, "format": report.format})
        return _report_generate(report=report)


def _report_generate(*, report: Report) -> Report:
    started = time.monotonic()
    audience = Audience.of_report(report)
    try:
        step = lambda percent, stage: _progress(report, percent, stage)  # noqa: E731
        data = builder.build(
            report.operation, edition=report.edition, audience=audience, kind=report.kind, progress=step
        )
        data["report"]["id"] = report.pk
        content = render(report, data, audience, step)
        step(90, gettext_noop("Storing"))
        data["report"]["generation_seconds"] = round(time.monotonic() - started, 2)
        _store(report, data, content, int((time.monotonic() - started) * 1000))
    except Exception as exc:  # the job records the failure; the worker goes on with the next
        log.exception("report %s failed", report.pk)
        Report.objects.filter(pk=report.pk).update(
            state=Report.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:500], finished_at=timezone.now()
        )
    report.refresh_from_db()
    return report


@transaction.atomic
def _store(report: Report, data: dict[str, Any], content: bytes, elapsed_ms: int) -> None:
    content_type, extension = CONTENT_TYPES[Report.Format(report.format)]
    sealed = report.edition == Report.Edition.RESTRICTED
    stamp = report.requested_at.astimezone(dt.UTC).strftime("%Y%m%d-%H%M")
    report.filename = (
        f"{report.operation.code}-{report.kind}-{report.edition}-{stamp}-{report.pk}.{extension}"
    )
    report.content_type = content_type
    report.size = len(content)
    report.sha256 = hashlib.sha256(content).hexdigest()
    report.sealed = sealed
    report.content = sealing.seal_content(report, content) if sealed else content
    report.inputs = data["integrity"]
    report.generation_ms = elapsed_ms
    report.state, report.progress, report.stage, report.finished_at = (
        Report.State.DONE,
        100,
        "Done",
        timezone.now(),
    )
    report.save()
    audit.report_generated(report=report, integrity=data["integrity"])


def report_run_pending(*, limit: int | None = None) -> int:
    """Claim and generate queued jobs until none is left (or ``limit``); returns how many ran."""
    done = 0
    report_requeue_stale()
    while limit is None or done < limit:
        report = report_claim()
        if report is None:
            break
        report_generate(report=report)
        done += 1
    return done


_thread_lock = threading.Lock()
_thread: threading.Thread | None = None


def _thread_main() -> None:
    try:
        while report_run_pending():
            pass
    finally:
        connection.close()  # this thread's own connection


def start_thread_worker() -> None:
    """Start this process's worker thread unless one is already draining the queue."""
    global _thread
    with _thread_lock:
        if _thread is not None and _thread.is_alive():
            return
        _thread = threading.Thread(target=_thread_main, name="report-worker", daemon=True)
        _thread.start()


def report_generate_now(
    *,
    operation: Operation,
    audience: Audience,
    edition: str,
    format: str,
    requested_by: AbstractBaseUser | None = None,
) -> Report:
    """The command line's path: queue, claim this very job and generate it in this process."""
    report = report_request(
        operation=operation,
        requested_by=requested_by,
        audience=audience,
        edition=edition,
        format=format,
        start_worker=False,
    )
    claimed = report_claim(report_id=report.pk)
    if claimed is not None:
        return report_generate(report=claimed)
    # a worker took it first: wait for it
    while not report.finished:
        time.sleep(0.2)
        report.refresh_from_db(fields=["state"])
    report.refresh_from_db()
    return report


__all__ = [
    "report_claim",
    "report_generate",
    "report_generate_now",
    "report_request",
    "report_request_for_member",
    "report_requeue_stale",
    "report_run_pending",
    "start_thread_worker",
]
