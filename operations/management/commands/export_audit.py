"""manage.py export_audit OPERATION --output PATH|-: the operation's audit record as JSON lines.

One line per event, in chain order, with everything its link hash covers (so a reader can recompute
the chain with nothing but this file) and the hash itself. The chain is checked first: a broken
chain writes nothing and exits with status 1, naming the first event that does not match. A file
is written whole or not at all (a temporary file renamed into place).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cencomm.audit import audit_chain_name, audit_verify
from cencomm.models import AuditEvent
from operations.models import Operation


def audit_lines(operation: Operation) -> Any:
    """Each event of the operation's chain as one JSON-ready dict, oldest first."""
    events = (
        AuditEvent.objects.filter(chain=audit_chain_name(operation.pk))
        .select_related("actor")
        .order_by("seq")
    )
    for event in events.iterator(chunk_size=2000):
        yield {
            "chain": event.chain,
            "seq": event.seq,
            "operation": event.operation_id,
            "operation_code": operation.code,
            "at": event.at.isoformat(),
            "actor": event.actor_id,
            "actor_username": event.actor.get_username() if event.actor else None,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "data": event.data,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }


def write_lines(operation: Operation, write: Callable[[str], Any]) -> int:
    count = 0
    for line in audit_lines(operation):
        write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


class Command(BaseCommand):
    help = (
        "Write OPERATION's audit record as JSON lines (one event a line, with what its chain hash covers "
        "and the hash) to PATH, or to standard output with '--output -'. Refuses, with exit status 1, "
        "when the audit chain does not verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("operation", help="the operation's code, e.g. BALKAN-GATE")
        parser.add_argument("--output", required=True, help="a file path, or - for standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        operation = Operation.objects.filter(code=options["operation"]).first()
        if operation is None:
            raise CommandError(f"No operation {options['operation']!r}.")
        broken = audit_verify(operation.pk)
        if broken is not None:
            raise CommandError(
                f"The audit chain of {operation.code} is broken at event #{broken}: nothing exported."
            )
        if options["output"] == "-":
            write_lines(operation, lambda text: self.stdout.write(text, ending=""))
            return
        target = Path(options["output"])
        fd, temporary = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                count = write_lines(operation, out.write)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stderr.write(f"{count} audit events of {operation.code} written to {target}.")
