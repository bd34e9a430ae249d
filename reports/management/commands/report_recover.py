"""manage.py report_recover: give back (or fail) the report jobs whose worker died.

The tasks framework's worker (``manage.py db_worker``) does not notice a worker that died mid-task.
The report worker's unit runs this before it starts, with its own worker id, and a timer runs it
every few minutes for jobs silent longer than ``reports.services.STALE_AFTER``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.services import report_recover


class Command(BaseCommand):
    help = (
        "Give report jobs whose worker died back to the queue with a new task (or fail them after their "
        "attempts): those silent for 10 minutes, and with --worker-id those still running under that id "
        "(the worker starting again under it: its earlier run died)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--worker-id", help="the id of a worker that is starting (db_worker --worker-id)")

    def handle(self, *args: Any, **options: Any) -> None:
        count = report_recover(worker=options["worker_id"])
        self.stdout.write(f"{count} report job(s) given back or failed")
