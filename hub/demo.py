"""The Balkan Gate demo: the operation in the current week, its people, their credentials, and two
operations of earlier years closed long ago (``records.demo``: one due for shredding, one held).

Running it again changes nothing that is already there: users keep their passwords, TOTP secrets
and tokens (read back from ``var/demo-credentials.json``); each app's ``demo.seed`` adds its seed
data in the same idempotent way.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import unicodedata
from base64 import b32encode
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from cencomm.models import ApiToken
from cencomm.principal import api_token_authenticate
from messaging import demo as messaging_demo
from operations.models import Membership, Operation
from operations.selectors import operation_administrations, operation_entry_points
from operations.services import api_token_create, membership_add, operation_load
from products import demo as products_demo
from products.models import RIGHT_HOLDER_ROLE
from products.services import right_holder_member_add
from records import demo as records_demo
from results import demo as results_demo

FIXTURE = settings.BASE_DIR / "operations" / "fixtures" / "balkan-gate.yaml"


def credentials_path() -> Path:
    return settings.VAR_DIR / "demo-credentials.json"


def demo_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """A one-week window around now: it started three days ago, so the operation is active."""
    now = now or timezone.now()
    start = (now - dt.timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=7)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = [
        w
        for w in re.split(r"[^a-z0-9]+", ascii_text)
        if w not in ("", "port", "of", "border", "crossing", "airport")
    ]
    return "-".join(words[:2])


def _password() -> str:
    return "-".join(secrets.token_hex(3) for _ in range(3))


def _people(operation: Operation) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = [
        {
            "username": "coordinator",
            "role": Membership.Role.COORDINATOR,
            "administration": None,
            "entry_point": None,
        },
        {"username": "analyst", "role": Membership.Role.ANALYST, "administration": None, "entry_point": None},
        {
            "username": "observer",
            "role": Membership.Role.OBSERVER,
            "administration": None,
            "entry_point": None,
        },
    ]
    for administration in operation_administrations(operation):
        people.append(
            {
                "username": f"ncp-{administration.country.lower()}",
                "role": Membership.Role.NATIONAL_CONTACT,
                "administration": administration,
                "entry_point": None,
            }
        )
    for entry_point in operation_entry_points(operation):
        people.append(
            {
                "username": f"officer-{_slug(entry_point.name)}",
                "role": Membership.Role.OFFICER,
                "administration": entry_point.administration,
                "entry_point": entry_point,
            }
        )
    return people


def _ensure_user(person: dict[str, Any], known: dict[str, Any], operation: Operation) -> dict[str, Any]:
    User = get_user_model()
    record = dict(known.get(person["username"], {}))
    user, created = User.objects.get_or_create(username=person["username"])
    password = record.get("password") or _password()
    # Hashing is deliberately slow: skip the comparison when there is nothing to compare with.
    if created or not user.has_usable_password() or not user.check_password(password):
        user.set_password(password)
        user.save()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None or (
        record.get("totp_secret") and b32encode(device.bin_key).decode() != record["totp_secret"]
    ):
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
        if record.get("totp_secret"):
            from base64 import b32decode

            device.key = b32decode(record["totp_secret"]).hex()
            device.save(update_fields=["key"])
    if person.get("right_holder") is not None:  # outside the operation: no membership, no token
        right_holder_member_add(right_holder=person["right_holder"], user=user, actor=None)
        return {
            "username": user.username,
            "password": password,
            "totp_secret": b32encode(device.bin_key).decode(),
            "role": RIGHT_HOLDER_ROLE,
            "right_holder": person["right_holder"].name,
        }
    membership_add(
        operation=operation,
        user=user,
        role=person["role"],
        actor=None,
        administration=person["administration"],
        entry_point=person["entry_point"],
    )
    token = record.get("api_token")
    if not token or api_token_authenticate(token) is None:
        ApiToken.objects.filter(user=user, name="demo").delete()
        token = api_token_create(
            user=user, operation=operation, name="demo", days=settings.CENCOMM_API_TOKEN_MAX_DAYS
        )[1]
    return {
        "username": user.username,
        "password": password,
        "totp_secret": b32encode(device.bin_key).decode(),
        "role": person["role"],
        "administration": person["administration"].country if person["administration"] else None,
        "entry_point": person["entry_point"].name if person["entry_point"] else None,
        "api_token": token,
    }


@transaction.atomic
def demo_setup() -> tuple[Operation, Path]:
    data = yaml.safe_load(FIXTURE.read_text())
    operation = Operation.objects.filter(code=data["code"]).first()
    if operation is None or operation.state == Operation.State.PLANNED:
        data["window_start"], data["window_end"] = demo_window()
    else:  # keep the window the demo was first set up with
        data["window_start"], data["window_end"] = operation.window_start, operation.window_end
    operation = operation_load(data)

    path = credentials_path()
    known: dict[str, Any] = {}
    if path.exists():
        known = {u["username"]: u for u in json.loads(path.read_text()).get("users", [])}
    right_holders = [
        {"username": username, "right_holder": holder} for holder, username in products_demo.seed()
    ]
    users = [_ensure_user(person, known, operation) for person in _people(operation) + right_holders]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"operation": operation.code, "users": users}, indent=2, ensure_ascii=False))
    path.chmod(0o600)

    results_demo.seed(operation)
    messaging_demo.seed(operation)
    records_demo.seed(FIXTURE)  # two operations of earlier years, for retention's dry run
    return operation, path
