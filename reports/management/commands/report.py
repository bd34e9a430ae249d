"""manage.py report OPERATION --edition public|restricted --format pdf|html|csv|xlsx|json|cen --output PATH"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from operations.models import Membership, Operation
from reports.models import Report
from reports.selectors import SYSTEM, Audience, report_content
from reports.services import report_generate_now

TEXT_FORMATS = (Report.Format.JSON, Report.Format.HTML, Report.Format.CEN)


class Command(BaseCommand):
    help = (
        "Generate an operation's report and write it to PATH (the job is also stored, with the state of "
        "the record it was built from, and audited). Formats: pdf; html (one self-contained page); "
        "json (every aggregate); csv (a ZIP archive with one CSV per table: summary, categories, origins, "
        "administrations, entry_points, days, transport_modes, detection_methods, seized_pending, "
        "units_by_unit, outcomes, compliance, communications, acknowledgements, and in the restricted "
        "edition cases.csv and goods_lines.csv); xlsx (the same tables as worksheets); cen (the CEN "
        "simplified-form CSV, one row per goods line with ISO codes, results under handling code H0 "
        "only; needs --edition restricted). '--output -' writes to standard output (json by default; "
        "text formats only). The restricted edition shows the coordinator's view unless --as names a "
        "member, whose role then decides what it contains."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("operation", help="the operation's code, e.g. BALKAN-GATE")
        parser.add_argument("--edition", choices=Report.Edition.values, default=Report.Edition.PUBLIC)
        parser.add_argument(
            "--format",
            choices=Report.Format.values,
            default=None,
            help="default: json with --output -, else taken from the file extension, else pdf",
        )
        parser.add_argument("--output", required=True, help="a file path, or - for standard output")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="build the restricted edition for this member's view",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        operation = Operation.objects.filter(code=options["operation"]).first()
        if operation is None:
            raise CommandError(f"no operation {options['operation']!r}")
        output: str = options["output"]
        fmt = options["format"] or _format_for(output)
        if output == "-" and fmt not in TEXT_FORMATS:
            raise CommandError(f"--format {fmt} is binary: write it to a file with --output PATH")
        user, audience = self._audience(operation, options["as_user"])
        try:
            report = report_generate_now(
                operation=operation,
                audience=audience,
                edition=options["edition"],
                format=fmt,
                requested_by=user,
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        if report.state != Report.State.DONE:
            raise CommandError(f"report {report.pk} failed: {report.error}")
        content = report_content(report)
        if output == "-":
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
            return
        Path(output).write_bytes(content)
        self.stderr.write(
            f"report {report.pk}: {report.kind} {report.edition} {fmt}, {len(content):,} bytes, "
            f"chain #{report.inputs.get('chain_seq')} in {report.generation_ms:,} ms -> {output}"
        )

    def _audience(self, operation: Operation, username: str | None) -> tuple[Any, Audience]:
        if not username:
            return None, Audience(SYSTEM)
        user = get_user_model().objects.filter(username=username).first()
        membership = Membership.objects.filter(operation=operation, user=user).first() if user else None
        if membership is None:
            raise CommandError(f"{username!r} is not a member of {operation.code}")
        return user, Audience.of(membership)


def _format_for(output: str) -> str:
    if output == "-":
        return Report.Format.JSON
    suffix = Path(output).suffix.lstrip(".").lower()
    if suffix == "zip":
        return Report.Format.CSV
    return suffix if suffix in Report.Format.values else Report.Format.PDF
