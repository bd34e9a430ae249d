from django.core.management.base import BaseCommand, CommandError

from operations.models import Operation
from records.services import search_index_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the search index of an operation (or of every operation) from its sealed messages and "
        "results: for records stored before the index existed. Safe to run again."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("operation", nargs="?", help="the operation's code (default: every operation)")

    def handle(self, *args, operation=None, **options):  # type: ignore[no-untyped-def]
        operations = Operation.objects.filter(shredded_at__isnull=True).order_by("pk")
        if operation:
            operations = operations.filter(code=operation)
            if not operations.exists():
                raise CommandError(f"no operation {operation!r}")
        for op in operations:
            rebuilt = search_index_rebuild(operation=op, actor=None)
            self.stdout.write(f"{op.code}: {rebuilt.documents} documents, {rebuilt.tokens} tokens indexed")
