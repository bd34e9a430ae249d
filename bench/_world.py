"""Seed a benchmark database: ``python -m bench._world '{"officers": 1000, ...}'`` prints JSON.

An active operation BENCH-OP with two administrations and their entry points; ``officers`` officers
at those entry points, ``coordinators`` coordinators, ``observers`` observers (board users); each
with a confirmed TOTP device and a session that passed both factors (what the sign-in pages leave
behind), created in bulk. ``tokens`` API tokens for coordinators. Runs against $DATABASE_URL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.hub_settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from operations.models import Membership, Operation  # noqa: E402
from operations.services import api_token_create, operation_load  # noqa: E402

CODE = "BENCH-OP"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def operation() -> Operation:
    start = timezone.now() - dt.timedelta(days=2)
    return operation_load(
        {
            "code": CODE,
            "name": "Operation Bench Gate",
            "window_start": start.isoformat(),
            "window_end": (start + dt.timedelta(days=7)).isoformat(),
            "state": "active",
            "categories": [
                {"code": "medicines", "name": "Medicines"},
                {"code": "accessories", "name": "Accessories"},
                {"code": "games-toys", "name": "Games and toys"},
            ],
            "administrations": [
                {
                    "country": "AL",
                    "name": "Albanian Customs",
                    "entry_points": [
                        {"name": "Port of Durrës", "kind": "seaport", "time_zone": "Europe/Tirane"},
                        {"name": "Rinas Airport", "kind": "airport", "time_zone": "Europe/Tirane"},
                    ],
                },
                {
                    "country": "IT",
                    "name": "Italian Customs",
                    "entry_points": [
                        {"name": "Port of Bari", "kind": "seaport", "time_zone": "Europe/Rome"},
                        {"name": "Port of Ancona", "kind": "seaport", "time_zone": "Europe/Rome"},
                    ],
                },
            ],
        }
    )


def signed_in(prefix: str, count: int) -> list[tuple[Any, str]]:
    """``count`` users with a confirmed TOTP device and a verified session: [(user, session key)]."""
    User = get_user_model()
    users = [User(username=f"{prefix}-{i:05d}") for i in range(count)]
    for user in users:
        user.set_unusable_password()
    users = User.objects.bulk_create(users)
    devices = TOTPDevice.objects.bulk_create(
        TOTPDevice(user=u, name="Authenticator", confirmed=True) for u in users
    )
    expires = timezone.now() + dt.timedelta(hours=12)
    sessions = []
    for user, device in zip(users, devices, strict=True):
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": BACKEND,
            "_auth_user_hash": user.get_session_auth_hash(),
            DEVICE_ID_SESSION_KEY: device.persistent_id,
        }
        sessions.append(
            Session(
                session_key=get_random_string(32),
                session_data=SessionStore().encode(data),
                expire_date=expires,
            )
        )
    Session.objects.bulk_create(sessions)
    return [(u, s.session_key) for u, s in zip(users, sessions, strict=True)]


def main(spec: dict[str, Any]) -> dict[str, Any]:
    op = operation()
    entry_points = [ep for p in op.participations.all() for ep in p.entry_points.order_by("pk")]
    Role = Membership.Role
    out: dict[str, Any] = {"code": CODE, "entry_points": [ep.pk for ep in entry_points]}

    officers = signed_in("officer", spec.get("officers", 0))
    Membership.objects.bulk_create(
        Membership(
            operation=op, user=u, role=Role.OFFICER, entry_point=ep, administration_id=ep.administration_id
        )
        for (u, _), ep in zip(
            officers, (entry_points[i % len(entry_points)] for i in range(len(officers))), strict=True
        )
    )
    coordinators = signed_in("coordinator", spec.get("coordinators", 0))
    observers = signed_in("observer", spec.get("observers", 0))
    Membership.objects.bulk_create(
        [Membership(operation=op, user=u, role=Role.COORDINATOR) for u, _ in coordinators]
        + [Membership(operation=op, user=u, role=Role.OBSERVER) for u, _ in observers]
    )
    out["officers"] = [s for _, s in officers]
    out["coordinators"] = [s for _, s in coordinators]
    out["observers"] = [s for _, s in observers]
    out["tokens"] = [
        api_token_create(user=u, operation=op, name="bench", days=1)[1]
        for u, _ in coordinators[: spec.get("tokens", 0)]
    ]
    if spec.get("rooms"):
        from messaging.services import rooms_ensure

        out["room"] = next(r.pk for r in rooms_ensure(operation=op) if r.kind == "operation")
    return out


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
