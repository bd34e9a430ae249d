"""``manage.py apply_retention [--dry-run]``: shred the operations whose retention period has run out.

Finds closed operations whose close plus ``retention_days`` has passed, that no legal hold stands on
and that are not shredded yet, and shreds each in its own transaction (``records.retention``).
Prints what it did, what a hold keeps, and what falls due next. Safe to run again, and as a
scheduled task (deploy/systemd/cencomm-retention.timer, docs/deploy.md): an operation shredded or
not due is left alone; one that fails is left as it was, named, and the run ends with status 1.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cencomm.errors import Refused
from records.retention import (
    Due,
    key_storage_compact,
    operation_shred,
    public_report_ensure,
    retention_plan,
    shred_preview,
)

log = logging.getLogger(__name__)


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _when(item: Due) -> str:
    closed = item.operation.closed_at
    return (
        f"closed {closed:%Y-%m-%d}, kept {item.operation.retention_days} days, "
        f"due {item.due_at:%Y-%m-%d %H:%M} UTC"
        if closed
        else "not closed"
    )


class Command(BaseCommand):
    help = "Shred operations past their retention period and not under a legal hold (--dry-run: list only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be shredded; change nothing."
        )

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        now = timezone.now()
        plan = retention_plan(now=now)
        failed = []
        verb = "Would shred" if dry_run else "Shredding"
        if not plan.due:
            self.stdout.write("Nothing is due for shredding.")
        for item in plan.due:
            op = item.operation
            if dry_run:
                preview = shred_preview(op)
                keep = (
                    f"keeps {_n(preview['public_reports_kept'], 'public report')}"
                    if preview["public_reports_kept"]
                    else "a public report will be generated and kept"
                )
                self.stdout.write(
                    f"{verb} {op.code} ({_when(item)}): {_n(preview['messages'], 'message')}, "
                    f"{_n(preview['attachments'], 'attachment')}, the sealed fields and photos of "
                    f"{_n(preview['results'], 'result')}, {_n(preview['reports_removed'], 'other report')}; "
                    f"{keep}, the figures and the chains."
                )
                continue
            try:
                if public_report_ensure(op) is None:
                    raise Refused(f"{op.code}: the public report could not be generated.")
                done = operation_shred(operation_id=op.pk, now=now)
            except Refused as exc:
                failed.append(op.code)
                self.stderr.write(f"Not shredded: {exc.message} It is left as it was.")
                continue
            except Exception as exc:  # its transaction rolled back; the next operation still runs
                failed.append(op.code)
                log.exception("retention.failed", extra={"operation": op.code})
                self.stderr.write(
                    f"Not shredded: {op.code} failed ({type(exc).__name__}). It is left as it was."
                )
                continue
            c = done.counts
            self.stdout.write(
                f"Shredded {op.code} ({_when(item)}): {_n(c['messages'], 'message')} "
                f"({_n(c['versions'], 'version')}), {_n(c['attachments'], 'attachment')}, the sealed fields "
                f"of {_n(c['versions_sealed'], 'result version')}, {_n(c['brands'], 'brand')}, "
                f"{_n(c['photos'], 'photo')}, {_n(c['reports'], 'report')}, "
                f"{_n(c['search_documents'], 'search entry').replace('entrys', 'entries')}; "
                f"{_n(c['keys'], 'data key')} destroyed."
            )
        for item in plan.held:
            hold = item.hold
            assert hold is not None
            who = hold.set_by.get_username() if hold.set_by else "someone"
            self.stdout.write(
                f"Held: {item.operation.code} ({_when(item)}): legal hold since {hold.set_at:%Y-%m-%d} "
                f"by {who}; kept until it is lifted."
            )
        if plan.upcoming:
            self.stdout.write("Next due:")
            for item in plan.upcoming:
                days = (item.due_at - now).days
                held = " (under a legal hold)" if item.hold else ""
                self.stdout.write(f"  {item.operation.code}: {_when(item)}, in {days} days{held}")
        else:
            self.stdout.write("No other closed operation is waiting for its retention period to end.")
        if not dry_run and plan.due and len(failed) < len(plan.due) and key_storage_compact():
            self.stdout.write("Data-key table compacted (the destroyed keys' rows are gone from its files).")
        if failed:
            raise CommandError(f"{len(failed)} operation(s) not shredded: {', '.join(failed)}.")
