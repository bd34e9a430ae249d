from django.core.management.base import BaseCommand, CommandError

from operations.models import Operation
from records.services import search_index_rebuild


class Command(BaseCommand):
    help = (
        "Give an operation a new search key and hash its whole index again under it; the old key "
        "versions are destroyed. Run it beside rotate_room_key --operation."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("operation", help="the operation's code")

    def handle(self, *args, operation, **options):  # type: ignore[no-untyped-def]
        op = Operation.objects.filter(code=operation, shredded_at__isnull=True).first()
        if op is None:
            raise CommandError(f"no operation {operation!r}")
        rebuilt = search_index_rebuild(operation=op, actor=None, rotate_key=True)
        self.stdout.write(
            f"{op.code}: search key version {rebuilt.key_version}, {rebuilt.documents} documents and "
            f"{rebuilt.tokens} tokens hashed again"
        )
