from django.core.management.base import BaseCommand, CommandError

from messaging.models import Room
from messaging.services import room_key_rotate


class Command(BaseCommand):
    help = "Give rooms a new data key and re-seal every message version and file in them under it."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--room", type=int, action="append", help="a room id (repeatable)")
        target.add_argument("--operation", help="every room of this operation (its code)")

    def handle(self, *args, room=None, operation=None, **options):  # type: ignore[no-untyped-def]
        rooms = Room.objects.filter(pk__in=room) if room else Room.objects.filter(operation__code=operation)
        rooms = list(rooms.order_by("pk"))
        if not rooms:
            raise CommandError("no such room")
        for r in rooms:
            count = room_key_rotate(room=r, actor=None)
            self.stdout.write(f"room {r.pk} ({r.name}): new data key, {count} records re-sealed")
        if operation:  # the operation's search index is hashed under a key of its own (records)
            self.stdout.write(
                f"next: manage.py rotate_search_key {operation} (a new search key, the index hashed again)"
            )
