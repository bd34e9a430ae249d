"""What ``/metrics`` says about the report queue: jobs by state, generation times, the oldest wait.

Read from the database when Prometheus scrapes, so every web process shows the same queue whichever
process or worker ran the jobs (the figures are defined in ``cencomm.metrics``). The source is the
``Report`` rows, not the tasks framework's task rows: a job's state there is what its page shows,
and a job given back after its worker died is queued again there while its dead task is failed.
"""

from __future__ import annotations

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from cencomm.metrics import REPORT_DURATION_BUCKETS, ReportJobFigures
from reports.models import Report


def job_figures() -> ReportJobFigures:
    by_state = {state: 0 for state in Report.State.values}
    for row in Report.objects.values("state").annotate(n=Count("pk")):
        by_state[row["state"]] = row["n"]
    timed = Report.objects.filter(state=Report.State.DONE, generation_ms__isnull=False)
    figures = timed.aggregate(
        count=Count("pk"),
        total_ms=Sum("generation_ms"),
        **{
            f"le{i}": Count("pk", filter=Q(generation_ms__lte=b * 1000))
            for i, b in enumerate(REPORT_DURATION_BUCKETS)
        },
    )
    oldest = Report.objects.filter(state=Report.State.QUEUED).aggregate(at=Min("requested_at"))["at"]
    return ReportJobFigures(
        by_state=by_state,
        duration_buckets=[figures[f"le{i}"] for i in range(len(REPORT_DURATION_BUCKETS))],
        duration_count=figures["count"],
        duration_sum=(figures["total_ms"] or 0) / 1000,
        oldest_queued_seconds=(timezone.now() - oldest).total_seconds() if oldest else 0.0,
    )
