"""``manage.py verify_chain OPERATION``: recompute the operation's results hash chain.

The same check as the report's (results.chain.chain_verify): fast on PostgreSQL, authoritative
wherever a link does not match.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cencomm.chain import chain_head
from operations.models import Operation
from results.chain import chain_verify, results_chain_name
from results.models import ResultVersion


class Command(BaseCommand):
    help = "Verify an operation's results hash chain; name the first entry that does not match."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("operation", help="The operation's code")

    def handle(self, *args: Any, operation: str, **options: Any) -> None:
        op = Operation.objects.filter(code=operation).first()
        if op is None:
            raise CommandError(f"No operation {operation!r}.")
        verdict = chain_verify(op.pk)
        if verdict.first_broken is not None:
            version = (
                ResultVersion.objects.filter(result__operation=op, chain_seq=verdict.first_broken)
                .select_related("result")
                .first()
            )
            where = f"result {version.result.uuid} version {version.number}" if version else "missing entry"
            raise CommandError(f"{op.code}: results chain broken at entry #{verdict.first_broken} ({where}).")
        if verdict.stale:
            raise CommandError(f"{op.code}: current version is not the latest for result {verdict.stale[0]}.")
        head = chain_head(results_chain_name(op.pk))
        self.stdout.write(f"{op.code}: results chain OK, {head.seq} entries, head {head.hash}")
