from base64 import urlsafe_b64encode
from pathlib import Path

import nacl.utils
from django.core.management.base import BaseCommand, CommandError

from cencomm.crypto import master_key_id, master_key_rewrap, parse_master_key


class Command(BaseCommand):
    help = (
        "Re-wrap every data key under a new master key. Then set CENCOMM_MASTER_KEY to the new key "
        "(keep the old one in CENCOMM_PREVIOUS_MASTER_KEYS until every process has restarted)."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--new-key-file", type=Path, help="a file holding the new key (URL-safe base64)")
        source.add_argument(
            "--generate", type=Path, metavar="PATH", help="generate a new key into PATH (must not exist)"
        )

    def handle(self, *args, new_key_file=None, generate=None, **options):  # type: ignore[no-untyped-def]
        if generate is not None:
            if generate.exists():
                raise CommandError(f"{generate} exists; refusing to overwrite a key")
            encoded = urlsafe_b64encode(nacl.utils.random(32)).decode()
            generate.parent.mkdir(parents=True, exist_ok=True)
            generate.touch(mode=0o600)
            generate.write_text(encoded)
            path = generate
        else:
            path = new_key_file
            encoded = path.read_text().strip()
        new_master = parse_master_key(encoded, name=str(path))
        count = master_key_rewrap(new_master=new_master)
        self.stdout.write(
            f"{count} data keys re-wrapped under master key {master_key_id(new_master)}.\n"
            f"Now set CENCOMM_MASTER_KEY_FILE={path} and restart every process."
        )
