"""The operation and the two people prod-check signs in as, made in the production environment."""

from __future__ import annotations

import json
import os
import secrets
from base64 import b32encode
from pathlib import Path

# --- the world: the demo operation with the two people the check signs in as ------------------------


def setup_world(path: Path) -> None:
    """Run in the production environment (``--setup-world PATH``): the Balkan Gate operation in the
    current week, a coordinator and the Durrës officer with a password, a TOTP device and an API token,
    written to PATH. Not ``demo_setup``: its seed data and a dozen slow password hashes cost a minute."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cencomm.settings")
    django.setup()
    import yaml
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from hub.demo import FIXTURE, demo_window
    from operations.models import Membership
    from operations.selectors import operation_entry_points
    from operations.services import api_token_create, membership_add, operation_load

    with transaction.atomic():
        data = yaml.safe_load(FIXTURE.read_text())
        data["window_start"], data["window_end"] = demo_window()
        operation = operation_load(data)
        durres = next(e for e in operation_entry_points(operation) if e.name == "Port of Durrës")
        people = [
            ("coordinator", Membership.Role.COORDINATOR, None),
            ("officer-durres", Membership.Role.OFFICER, durres),
        ]
        users = []
        for username, role, entry_point in people:
            password = secrets.token_urlsafe(18)
            user = get_user_model().objects.create_user(username=username, password=password)
            device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
            membership_add(
                operation=operation,
                user=user,
                role=role,
                actor=None,
                administration=entry_point.administration if entry_point else None,
                entry_point=entry_point,
            )
            _, token = api_token_create(user=user, operation=operation, name="prod-check", days=1)
            users.append(
                {
                    "username": username,
                    "password": password,
                    "api_token": token,
                    "totp_secret": b32encode(device.bin_key).decode(),
                    "entry_point": entry_point.name if entry_point else None,
                }
            )
    path.write_text(json.dumps({"operation": operation.code, "users": users}))
