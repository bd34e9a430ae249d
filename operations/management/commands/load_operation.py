import json
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from operations.services import operation_load


class Command(BaseCommand):
    help = "Create or update an operation from a JSON or YAML file (see operations/fixtures/)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("path", help="a .json, .yaml or .yml file")

    def handle(self, path: str, **options):  # type: ignore[no-untyped-def]
        source = Path(path)
        try:
            text = source.read_text()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            data = json.loads(text) if source.suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise CommandError(
                f"{path} is not valid {'JSON' if source.suffix == '.json' else 'YAML'}: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise CommandError(f"{path} must describe one operation as a mapping")
        try:
            operation = operation_load(data)
        except ValidationError as exc:
            details = (
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                if hasattr(exc, "error_dict")
                else " ".join(exc.messages)
            )
            raise CommandError(f"{path}: {details}") from None
        except (KeyError, TypeError) as exc:
            raise CommandError(f"{path}: missing or malformed field {exc}") from None
        self.stdout.write(
            f"Loaded {operation.code} ({operation.get_state_display()}), "
            f"{operation.participations.count()} administrations"
        )
