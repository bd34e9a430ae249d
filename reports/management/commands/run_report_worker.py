"""manage.py run_report_worker: generate queued reports, with the database as the only queue."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from reports.services import report_run_pending

log = logging.getLogger("reports.worker")


class Command(BaseCommand):
    help = (
        "Claim queued report jobs (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers "
        "may run at once) and generate them; poll for new ones every --interval seconds. --once drains "
        "the queue and exits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="drain the queue, then exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls (default 2)")

    def handle(self, *args: Any, **options: Any) -> None:
        log.info("report.worker.start", extra={"interval": options["interval"]})
        while True:
            done = report_run_pending()
            if done:
                log.info("report.worker.drained", extra={"generated": done})
            if options["once"]:
                return
            close_old_connections()
            time.sleep(max(0.1, options["interval"]))
