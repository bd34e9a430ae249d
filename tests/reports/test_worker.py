"""The report queue on Django's tasks framework: one task per job, taken by one worker once, stages
and progress on the job's row, and a dead worker's job given back, then failed after its attempts."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from reports import writers
from reports.models import Report
from reports.selectors import SYSTEM, Audience
from reports.services import (
    MAX_ATTEMPTS,
    REPORTS_QUEUE,
    report_claim,
    report_generate_now,
    report_recover,
    report_request,
    report_run_pending,
)
from tests.conftest import verified_client


def _queue(world, n=1, fmt="json"):
    return [
        report_request(
            operation=world.op, requested_by=None, audience=Audience(SYSTEM), edition="public", format=fmt
        )
        for _ in range(n)
    ]


def _task(report: Report) -> DBTaskResult:
    report.refresh_from_db(fields=["task_id"])
    return DBTaskResult.objects.get(id=report.task_id)


def _die_while_running(report: Report, worker: str) -> None:
    """What a worker that took the job and died leaves: its task and the job both running."""
    task = _task(report)
    task.claim(worker)
    assert report_claim(report_id=report.pk, worker=worker) is not None


@pytest.mark.django_db
def test_each_job_is_one_task_run_once_and_records_its_inputs(world):
    first, second = _queue(world, 2)
    assert [_task(r).status for r in (first, second)] == ["READY", "READY"]
    assert {_task(r).queue_name for r in (first, second)} == {REPORTS_QUEUE}
    assert report_run_pending(worker="worker-1") == 2
    assert report_run_pending(worker="worker-2") == 0  # nothing left: each task was taken once
    for report in (first, second):
        report.refresh_from_db()
        task = _task(report)
        assert report.state == "done" and report.progress == 100 and report.stage == "Done"
        assert report.attempts == 1 and report.worker == "worker-1"
        assert task.status == "SUCCESSFUL" and task.return_value is True and task.worker_ids == ["worker-1"]
    assert second.inputs["chain"] == f"results:{world.op.pk}" and second.inputs["results"] == 0
    assert second.sha256 and second.size and second.generation_ms is not None


@pytest.mark.django_db
def test_the_task_is_enqueued_in_the_asking_transaction(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue(world)
        assert DBTaskResult.objects.count() == 1
        raise RuntimeError("the request fails after asking")
    assert Report.objects.count() == 0 and DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_stages_and_progress_are_on_the_page_while_the_job_runs(world, monkeypatch):
    client = verified_client(world.coordinator)
    report_id = client.post(
        "/api/v1/operations/TEST-OP/reports",
        {"edition": "public", "format": "json"},
        content_type="application/json",
    ).json()["id"]
    seen = []
    write_json = writers.write_json

    def writing(data):
        seen.append(client.get(f"/api/v1/operations/TEST-OP/reports/{report_id}").json())
        return write_json(data)

    monkeypatch.setattr("reports.services.writers.write_json", writing)
    assert report_run_pending() == 1
    (during,) = seen
    assert during["state"] == "running" and 1 < during["progress"] < 100 and during["stage"]
    done = client.get(f"/api/v1/operations/TEST-OP/reports/{report_id}").json()
    assert done["state"] == "done" and done["progress"] == 100


@pytest.mark.django_db
def test_a_job_whose_worker_died_is_given_back_then_failed_after_its_attempts(world):
    (report,) = _queue(world)
    _die_while_running(report, "worker-a")
    lost = _task(report)
    assert report_recover() == 0  # still beating: not dead yet
    assert report_recover(worker="worker-a") == 1  # worker-a starting again: its earlier run died
    report.refresh_from_db()
    assert report.state == "queued" and report.stage == "Queued again" and report.attempts == 1
    lost.refresh_from_db()
    assert lost.status == "FAILED" and lost.exception_class_path.endswith("WorkerLost")
    assert _task(report).status == "READY"  # a new task for the next attempt

    # The next worker dies silently: after STALE_AFTER without a heartbeat it is given back too.
    _die_while_running(report, "worker-b")
    Report.objects.filter(pk=report.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert report_recover() == 1
    assert report_run_pending(worker="worker-c") == 1
    report.refresh_from_db()
    assert report.state == "done" and report.attempts == 3 and report.worker == "worker-c"

    (again,) = _queue(world)
    for attempt in range(MAX_ATTEMPTS):
        _die_while_running(again, f"worker-{attempt}")
        assert report_recover(worker=f"worker-{attempt}") == 1
    again.refresh_from_db()
    assert again.state == "failed" and again.error == "The worker stopped answering."
    assert again.attempts == MAX_ATTEMPTS and _task(again).status == "FAILED"
    assert report_run_pending() == 0  # no task left for it


@pytest.mark.django_db
def test_a_job_queued_without_a_task_gets_one(world):
    """Asked for before the queue was on the tasks framework: the first recovery enqueues its task."""
    old = Report.objects.create(
        operation=world.op,
        edition="public",
        format="json",
        kind="interim",
        requested_at=timezone.now() - dt.timedelta(hours=1),
    )
    # One just stored by report_generate_now, about to be claimed by its own process, is left alone.
    Report.objects.create(operation=world.op, edition="public", format="json", kind="interim")
    assert report_recover() == 1 and _task(old).status == "READY"
    assert report_recover() == 0
    assert report_run_pending() == 1
    old.refresh_from_db()
    assert old.state == "done" and old.attempts == 1


@pytest.mark.django_db
def test_a_failing_generation_is_recorded_not_raised(world, monkeypatch):
    (report,) = _queue(world)
    monkeypatch.setattr("reports.services.writers.write_json", lambda data: 1 / 0)
    assert report_run_pending() == 1
    report.refresh_from_db()
    assert report.state == "failed" and "ZeroDivisionError" in report.error and report.attempts == 1


@pytest.mark.django_db
def test_the_command_lines_report_makes_no_task(world):
    report = report_generate_now(
        operation=world.op, audience=Audience(SYSTEM), edition="public", format="json"
    )
    assert report.state == "done" and report.task_id is None
    assert DBTaskResult.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_run_the_same_job(tworld):
    assert connection.vendor == "postgresql"
    _queue(tworld, 6)
    ran: list[int] = []
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        barrier.wait()
        try:
            ran.append(report_run_pending(worker=name))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"worker-{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(ran) == 6
    assert set(Report.objects.values_list("state", "attempts")) == {("done", 1)}
    tasks = list(DBTaskResult.objects.all())
    assert len(tasks) == 6 and all(t.status == "SUCCESSFUL" and len(t.worker_ids) == 1 for t in tasks)
    for report in Report.objects.all():
        assert report.worker == DBTaskResult.objects.get(id=report.task_id).worker_ids[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_db_worker_killed_mid_job_leaves_it_running_until_it_is_given_back(tworld):
    """A real ``manage.py db_worker`` killed (SIGKILL) while it generates: the framework leaves the
    task running for ever; the recovery its unit runs at restart gives the job back."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    env = dict(
        os.environ, DATABASE_URL=urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))
    )
    (report,) = _queue(tworld, fmt="pdf")
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "db_worker", "--queue-name", "reports", "--worker-id", "doomed"]
        + ["--no-reload", "--no-startup-delay", "--interval", "0.1"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while Report.objects.get(pk=report.pk).state == "queued" and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.kill()
        worker.wait(timeout=10)
    report.refresh_from_db()
    assert (report.state, report.worker, report.attempts) == ("running", "doomed", 1)
    assert _task(report).status == "RUNNING"  # what the framework leaves: no heartbeat, no retry
    assert report_recover(worker="doomed") == 1
    assert report_run_pending(worker="survivor") == 1
    report.refresh_from_db()
    assert (report.state, report.worker, report.attempts) == ("done", "survivor", 2)


@pytest.mark.django_db(transaction=True)
def test_the_thread_worker_generates_after_commit(tworld, settings):
    settings.CENCOMM_REPORT_THREAD = True
    from reports import services

    (report,) = _queue(tworld)
    services._thread.join(timeout=30)
    report.refresh_from_db()
    assert report.state == "done"
    assert _task(report).status == "SUCCESSFUL"
