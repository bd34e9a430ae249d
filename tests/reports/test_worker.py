"""The database-only queue: claim, progress, stale jobs, and workers that never take the same job."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from reports.models import Report
from reports.selectors import SYSTEM, Audience
from reports.services import report_claim, report_request, report_requeue_stale, report_run_pending


def _queue(world, n=1, fmt="json"):
    return [
        report_request(
            operation=world.op, requested_by=None, audience=Audience(SYSTEM), edition="public", format=fmt
        )
        for _ in range(n)
    ]


@pytest.mark.django_db
def test_jobs_run_oldest_first_and_record_the_inputs_state(world):
    first, second = _queue(world, 2)
    assert report_claim().pk == first.pk
    assert Report.objects.get(pk=first.pk).state == "running"
    assert report_run_pending() == 1  # only the second is still queued
    second.refresh_from_db()
    assert second.state == "done" and second.progress == 100 and second.stage == "Done"
    assert second.inputs["chain"] == f"results:{world.op.pk}" and second.inputs["results"] == 0
    assert second.sha256 and second.size and second.generation_ms is not None


@pytest.mark.django_db
def test_a_job_whose_worker_died_is_queued_again_then_failed(world):
    (report,) = _queue(world)
    report_claim()
    Report.objects.filter(pk=report.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert report_requeue_stale() == 1
    assert Report.objects.get(pk=report.pk).state == "queued"
    Report.objects.filter(pk=report.pk).update(
        state="running", attempts=3, heartbeat_at=timezone.now() - dt.timedelta(hours=1)
    )
    report_requeue_stale()
    assert Report.objects.get(pk=report.pk).state == "failed"


@pytest.mark.django_db
def test_a_failing_generation_is_recorded_not_raised(world, monkeypatch):
    (report,) = _queue(world)
    monkeypatch.setattr("reports.services.writers.write_json", lambda data: 1 / 0)
    assert report_run_pending() == 1
    report.refresh_from_db()
    assert report.state == "failed" and "ZeroDivisionError" in report.error


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_claim_the_same_job(tworld):
    assert connection.vendor == "postgresql"
    _queue(tworld, 6)
    claimed: list[int] = []
    barrier = threading.Barrier(3)

    def worker() -> None:
        barrier.wait()
        try:
            while (report := report_claim()) is not None:
                claimed.append(report.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(Report.objects.values_list("pk", flat=True))
    assert len(set(claimed)) == 6


@pytest.mark.django_db(transaction=True)
def test_the_thread_worker_generates_after_commit(tworld, settings):
    settings.CENCOMM_REPORT_THREAD = True
    from reports import services

    (report,) = _queue(tworld)
    services._thread.join(timeout=30)
    report.refresh_from_db()
    assert report.state == "done"
