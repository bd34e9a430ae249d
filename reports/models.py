"""Report jobs: what was asked for, by whom, how far generation got, and the file it produced.

A job is a row: the page, the API and the command all queue one, with a task of Django's tasks
framework that a worker (``manage.py db_worker --queue-name reports``, or a thread in the demo
server) runs; the task claims the row (``reports.services``). The finished file is stored in the row,
sealed under the operation's data key when the edition is restricted, together with the state of
the record it was built from (``inputs``) so that it can be reproduced and checked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_noop


class Report(models.Model):
    class Edition(models.TextChoices):
        PUBLIC = "public", gettext_noop("Public (aggregates only)")
        RESTRICTED = "restricted", gettext_noop("Restricted")

    class Format(models.TextChoices):
        PDF = "pdf", gettext_noop("PDF")
        HTML = "html", gettext_noop("HTML")
        CSV = "csv", gettext_noop("CSV (zip of tables)")
        XLSX = "xlsx", gettext_noop("Excel workbook")
        JSON = "json", gettext_noop("JSON")
        CEN = "cen", gettext_noop("CEN simplified form (CSV)")

    class Kind(models.TextChoices):
        INTERIM = "interim", gettext_noop("Interim")
        FINAL = "final", gettext_noop("Final")

    class State(models.TextChoices):
        QUEUED = "queued", gettext_noop("Queued")
        RUNNING = "running", gettext_noop("Running")
        DONE = "done", gettext_noop("Done")
        FAILED = "failed", gettext_noop("Failed")

    operation = models.ForeignKey("operations.Operation", on_delete=models.CASCADE, related_name="reports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The reader's view the restricted edition was built for: their role and, for a national
    # contact point or officer, their administration. Public editions ignore both.
    audience_role = models.CharField(max_length=12, blank=True)
    audience_administration = models.ForeignKey(
        "operations.Administration", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    edition = models.CharField(max_length=12, choices=Edition.choices)
    format = models.CharField(max_length=8, choices=Format.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)

    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    stage = models.CharField(max_length=80, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=120, blank=True)  # the framework's worker id
    # The tasks framework's task (django_tasks_db's DBTaskResult) running this attempt; None when
    # the job is generated in the asking process (``manage.py report``).
    task_id = models.UUIDField(null=True, blank=True, editable=False)
    error = models.CharField(max_length=500, blank=True)

    # The state of the record the report was built from: chain head, counts, operation state.
    inputs = models.JSONField(default=dict, blank=True)
    generation_ms = models.PositiveIntegerField(null=True, blank=True)

    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)  # of the plaintext file
    sealed = models.BooleanField(default=False)
    content = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "requested_at"], name="report_queue"),
            models.Index(fields=["operation", "-requested_at"], name="report_by_operation"),
        ]

    def __str__(self) -> str:
        return f"report {self.pk} {self.edition} {self.format} of operation {self.operation_id}"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)
