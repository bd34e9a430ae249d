"""Writes: ask for a report, run its job, generate and store it; give back a job whose worker died.

The queue is Django's tasks framework (``django-tasks`` with the ``django-tasks-db`` database
backend): asking for a report stores the ``Report`` row and enqueues one ``report_job`` task in the
same transaction (the database backend enqueues by inserting a row, so both commit or neither). A
worker, ``manage.py db_worker --queue-name reports``, takes each task once (``SELECT ... FOR UPDATE
SKIP LOCKED``) and runs it. The task claims its ``Report`` row (``report_claim``: queued to
running, one more attempt, the worker's id) and generates it: stages and progress go to the row in
small separate writes, with a heartbeat, so the page polling it sees each stage.

What the framework does not do is notice a worker that died mid-task: its task stays "running"
for ever, with no heartbeat and no retry. That is the hand-written part kept here: ``report_recover``
gives such a job back (a new task) or fails it after ``MAX_ATTEMPTS``; the worker's unit runs it at
start for its own worker id (its earlier run died) and a timer runs it for jobs silent longer than
``STALE_AFTER`` (``manage.py report_recover``, deploy/systemd/).

When ``CENCOMM_REPORT_THREAD`` is on (the default outside production), a thread of this process runs
the framework's worker after the request commits, until the queue is empty, so ``make demo``
generates reports with no other process.
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
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_noop
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskContext, TaskResultStatus, task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

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
#: A queued job with no task for this long gets one (``report_recover``).
ORPHAN_AFTER = dt.timedelta(minutes=1)
#: The tasks framework's queue the report jobs go to (``manage.py db_worker --queue-name reports``).
REPORTS_QUEUE = "reports"

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
    enqueue: bool = True,
) -> Report:
    """Queue a report: its row and its task, committed together; a worker runs it after commit.

    ``enqueue=False``: the row only, for a caller that claims and generates it itself."""
    if Operation.objects.filter(
        pk=operation.pk, shredded_at__isnull=False
    ).exists():  # nothing left to build on
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
    if enqueue:
        _enqueue(report)
        if settings.CENCOMM_REPORT_THREAD:
            transaction.on_commit(start_thread_worker)
    return report


def _enqueue(report: Report) -> None:
    """The job's task, in the caller's transaction; its id kept to find it again (``report_recover``)."""
    result = report_job.enqueue(report_id=report.pk)
    report.task_id = result.id
    Report.objects.filter(pk=report.pk).update(task_id=result.id)


def report_request_for_member(*, membership: Membership, edition: str, format: str) -> Report:
    return report_request(
        operation=membership.operation,
        requested_by=membership.user,
        audience=Audience.of(membership),
        edition=edition,
        format=format,
    )


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:64]


@task(queue_name=REPORTS_QUEUE, takes_context=True)
def report_job(context: TaskContext, report_id: int) -> bool:
    """The framework's task for one job: claim the row, generate it. False: nothing to do (the job
    was given back to another task, is finished, or is being claimed elsewhere)."""
    worker_ids = context.task_result.worker_ids
    report = report_claim(report_id=report_id, worker=worker_ids[-1] if worker_ids else _worker_name())
    if report is None:
        return False
    report_generate(report=report)
    return True


@transaction.atomic
def report_claim(*, report_id: int, worker: str) -> Report | None:
    """Take this queued job for ``worker``, or None; concurrent callers never take the same one."""
    report = (
        Report.objects.select_for_update(skip_locked=True)
        .filter(pk=report_id, state=Report.State.QUEUED)
        .defer("content")
        .first()
    )
    if report is None:
        return None
    now = timezone.now()
    report.state, report.started_at, report.heartbeat_at = Report.State.RUNNING, now, now
    report.worker, report.attempts, report.progress, report.stage = (
        worker[:120],
        report.attempts + 1,
        1,
        gettext_noop("Started"),
    )
    report.save(
        update_fields=["state", "started_at", "heartbeat_at", "worker", "attempts", "progress", "stage"]
    )
    return report


class WorkerLost(Exception):
    """What a dead worker's task is failed with in the framework's table (``report_recover``)."""


@transaction.atomic
def report_recover(*, worker: str | None = None, older_than: dt.timedelta = STALE_AFTER) -> int:
    """Jobs whose worker died, given back to the queue with a new task, or failed after MAX_ATTEMPTS.

    A job died with its worker when it is running and silent for ``older_than`` (no progress, no
    heartbeat), or when it is running under ``worker`` while that worker is only starting (its earlier
    run, under the same id, died). Its task, left "running" by the framework, is marked failed.

    A job queued for ORPHAN_AFTER with no task (asked for before the queue was on the tasks
    framework, or by a ``manage.py report`` that stopped before it claimed the job) gets one.
    """
    now = timezone.now()
    orphans = Report.objects.select_for_update(skip_locked=True).filter(
        state=Report.State.QUEUED, task_id__isnull=True, requested_at__lt=now - ORPHAN_AFTER
    )
    count = 0
    for report in orphans.defer("content"):
        _enqueue(report)
        log.warning("report.recovered", extra={"report_id": report.pk, "state": report.state})
        count += 1
    dead = Q(heartbeat_at__lt=now - older_than)
    if worker:
        dead |= Q(worker=worker)
    stale = Report.objects.select_for_update(skip_locked=True).filter(dead, state=Report.State.RUNNING)
    for report in stale.defer("content"):
        lost = (
            DBTaskResult.objects.filter(id=report.task_id, status=TaskResultStatus.RUNNING).first()
            if report.task_id
            else None
        )
        if lost is not None:
            lost.set_failed(WorkerLost(f"the worker {report.worker} of report {report.pk} stopped answering"))
        if report.attempts >= MAX_ATTEMPTS:
            report.state, report.error, report.finished_at = (
                Report.State.FAILED,
                "The worker stopped answering.",
                now,
            )
        else:
            report.state, report.stage = Report.State.QUEUED, gettext_noop("Queued again")
        report.save(update_fields=["state", "error", "finished_at", "stage"])
        if report.state == Report.State.QUEUED:
            _enqueue(report)
        log.warning("report.recovered", extra={"report_id": report.pk, "state": report.state})
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


def report_run_pending(*, limit: int | None = None, worker: str | None = None) -> int:
    """This process as a worker of the framework until the reports queue is empty (or ``limit`` tasks);
    returns how many tasks ran. Dead workers' jobs are given back first.

    ``db_worker --batch``'s loop (take a ready task under SKIP LOCKED, claim it, run it with the
    framework's ``Worker.run_task``) without its signal handlers, which only a main thread may set,
    and its closing of connections, which would end a test's transaction.
    """
    worker = worker or _worker_name()
    report_recover(worker=worker)
    runner = Worker(
        queue_names=[REPORTS_QUEUE],
        interval=0,
        batch=True,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=limit,
        worker_id=worker,
        excluded_queue_names=[],
    )
    ready = DBTaskResult.objects.ready().filter(
        backend_name=DEFAULT_TASK_BACKEND_ALIAS, queue_name=REPORTS_QUEUE
    )
    ran = 0
    while limit is None or ran < limit:
        with exclusive_transaction(ready.db):
            job = ready.get_locked()
            if job is None:
                break
            job.claim(worker)
        runner.run_task(job)
        ran += 1
    return ran


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
    """The command line's path: the job's row (no task: no worker will take it), claimed and generated
    in this process."""
    report = report_request(
        operation=operation,
        requested_by=requested_by,
        audience=audience,
        edition=edition,
        format=format,
        enqueue=False,
    )
    claimed = report_claim(report_id=report.pk, worker=_worker_name())
    assert claimed is not None  # nothing else knows of this row yet
    return report_generate(report=claimed)


__all__ = [
    "report_claim",
    "report_generate",
    "report_generate_now",
    "report_job",
    "report_recover",
    "report_request",
    "report_request_for_member",
    "report_run_pending",
    "start_thread_worker",
]
