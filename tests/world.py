"""The one test world, and the helpers every test package uses to act in it.

The world: operation TEST-OP (active) with Albania (Port of Durrës) and Italy (Port of Bari); a
coordinator, an analyst, an officer of each administration, Albania's national contact point, an
observer; an officer of another operation (OTHER-OP, Greece); and an outsider who belongs to nothing.

Acting in it: ``verified_client`` (a browser session past both factors), ``ws_communicator`` (a socket
to the real ASGI application), ``result_body`` / ``post_result`` (a result through the API or the
service), ``send_message`` (a room message through the service), ``membership``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

ORIGIN = "http://testserver"
PASSWORD = "correct horse battery staple"


# --- the world ----------------------------------------------------------------------------------


def make_user(username: str, *, with_device: bool = True) -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if with_device:
        TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    return user


def totp_code(user: Any, *, offset_steps: int = 0) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def build_world() -> SimpleNamespace:
    from operations.models import Membership, Operation
    from operations.services import membership_add, operation_load

    now = timezone.now()
    start = now - dt.timedelta(days=2)
    categories = [
        {"code": "medicines", "name": "Medicines"},
        {"code": "accessories", "name": "Accessories"},
        {"code": "games-toys", "name": "Games and toys"},
        {"code": "electronics", "name": "Electronic appliances"},
        {"code": "foodstuffs", "name": "Foodstuffs and beverages"},
        {"code": "other", "name": "Other"},
    ]
    op = operation_load(
        {
            "code": "TEST-OP",
            "name": "Operation Test Gate",
            "objectives": "Find the fakes.",
            "window_start": start.isoformat(),
            "window_end": (start + dt.timedelta(days=7)).isoformat(),
            "state": "active",
            "categories": categories,
            "target_categories": ["medicines"],
            "administrations": [
                {
                    "country": "AL",
                    "name": "Albanian Customs",
                    "entry_points": [
                        {
                            "name": "Port of Durrës",
                            "kind": "seaport",
                            "unlocode": "ALDRZ",
                            "time_zone": "Europe/Tirane",
                        }
                    ],
                },
                {
                    "country": "IT",
                    "name": "Italian Customs",
                    "entry_points": [
                        {
                            "name": "Port of Bari",
                            "kind": "seaport",
                            "unlocode": "ITBRI",
                            "time_zone": "Europe/Rome",
                        }
                    ],
                },
            ],
        }
    )
    other = operation_load(
        {
            "code": "OTHER-OP",
            "name": "Operation Elsewhere",
            "window_start": start.isoformat(),
            "window_end": (start + dt.timedelta(days=7)).isoformat(),
            "state": "active",
            "administrations": [
                {
                    "country": "GR",
                    "name": "Hellenic Customs",
                    "entry_points": [
                        {"name": "Port of Piraeus", "kind": "seaport", "time_zone": "Europe/Athens"}
                    ],
                },
            ],
        }
    )
    durres = op.participations.get(administration__country="AL").entry_points.get()
    bari = op.participations.get(administration__country="IT").entry_points.get()
    piraeus = other.participations.get().entry_points.get()
    Role = Membership.Role
    w = SimpleNamespace(
        op=op,
        other=other,
        durres=durres,
        bari=bari,
        piraeus=piraeus,
        al=durres.administration,
        it=bari.administration,
        gr=piraeus.administration,
    )
    w.coordinator = make_user("coordinator")
    w.analyst = make_user("analyst")
    w.officer_al = make_user("officer-durres")
    w.officer_it = make_user("officer-bari")
    w.ncp_al = make_user("ncp-al")
    w.observer = make_user("observer")
    w.officer_other = make_user("officer-piraeus")
    w.outsider = make_user("outsider")
    membership_add(operation=op, user=w.coordinator, role=Role.COORDINATOR, actor=None)
    membership_add(operation=op, user=w.analyst, role=Role.ANALYST, actor=None)
    membership_add(operation=op, user=w.officer_al, role=Role.OFFICER, entry_point=durres, actor=None)
    membership_add(operation=op, user=w.officer_it, role=Role.OFFICER, entry_point=bari, actor=None)
    membership_add(operation=op, user=w.ncp_al, role=Role.NATIONAL_CONTACT, administration=w.al, actor=None)
    membership_add(operation=op, user=w.observer, role=Role.OBSERVER, actor=None)
    membership_add(operation=other, user=w.officer_other, role=Role.OFFICER, entry_point=piraeus, actor=None)
    assert Operation.objects.count() == 2
    return w


# --- clients ------------------------------------------------------------------------------------


def verified_client(user: Any, *, enforce_csrf: bool = False) -> Client:
    """A browser session that passed the password and the TOTP step."""
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def cookie_header(client: Client) -> bytes:
    return "; ".join(f"{k}={v.value}" for k, v in client.cookies.items()).encode()


def ws_communicator(
    path: str, *, client: Client | None = None, origin: str | None = ORIGIN
) -> WebsocketCommunicator:
    """A WebSocket to the real ASGI application, middleware included."""
    from asgi import application

    headers = []
    if client is not None:
        headers.append((b"cookie", cookie_header(client)))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def refusal_code(communicator: WebsocketCommunicator, timeout: float = 3) -> int | None:
    """Open ``communicator`` and return the close code of its refusal, or None if it stayed open.

    The hub refuses at connect by accepting and closing at once with a code (4401, 4403, 4404), so
    that a client can tell why; it never answers a handshake with HTTP 403. An open socket's first
    frame (if any) is consumed.
    """
    connected, _ = await communicator.connect(timeout=timeout)
    assert connected, "refused with HTTP 403 instead of a close code"
    if await communicator.receive_nothing(timeout=0.3):
        return None
    output = await communicator.receive_output(timeout=timeout)
    if output["type"] == "websocket.close":
        # As daphne does once the close is sent: the consumer hears the disconnect and ends, rather
        # than being left for the event loop's shutdown to cancel.
        await communicator.disconnect(code=output["code"], timeout=30)
        return output["code"]
    return None


# --- acting in it --------------------------------------------------------------------------------


def membership(w: SimpleNamespace, user: Any, operation: Any = None) -> Any:
    return (operation or w.op).memberships.get(user=user)


def api_json(client: Client, method: str, path: str, data: Any = None, **extra: Any) -> Any:
    """``client.<method>(path)`` with ``data`` as a JSON body."""
    kwargs: dict[str, Any] = dict(extra)
    if data is not None:
        kwargs.update(data=json.dumps(data, default=str), content_type="application/json")
    return getattr(client, method.lower())(path, **kwargs)


def api_post(client: Client, path: str, data: dict[str, Any]) -> Any:
    """POST a JSON body to ``/api/v1<path>``."""
    return api_json(client, "POST", f"/api/v1{path}", data)


def result_body(w: SimpleNamespace, *, entry_point: Any = None, **overrides: Any) -> dict[str, Any]:
    """The short form of a result post: entry point, time, one goods line, outcome, origin."""
    data: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "entry_point": (entry_point or w.durres).pk,
        "inspected_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "origin": "CN",
        "outcome": "seized",
        "lines": [{"category": "medicines", "quantity": 1200, "unit": "pieces"}],
    }
    data.update(overrides)
    return data


def post_result(
    w: SimpleNamespace,
    user: Any,
    entry_point: Any,
    client_id: str,
    *,
    lines: list[tuple[str, int, str]],
    origin: str = "CN",
    outcome: str = "seized",
    hours_ago: int = 20,
    handling_code: str = "H1",
    **extra: Any,
) -> Any:
    """A result posted through ``results.services.result_post``; ``lines`` are (category, quantity,
    description) in pieces."""
    from results.services import LineInput, ResultInput, result_post

    brand = extra.pop("brand", None)
    content = ResultInput(
        inspected_at=timezone.now() - dt.timedelta(hours=hours_ago),
        origin=origin,
        outcome=outcome,
        lines=tuple(
            LineInput(category=c, quantity=Decimal(q), description=d, brand=brand) for c, q, d in lines
        ),
        handling_code=handling_code,
        **{"transport_mode": "sea_container", "detection_method": "risk_profile", **extra},
    )
    result, _ = result_post(
        membership=membership(w, user), entry_point_id=entry_point.pk, client_id=client_id, content=content
    )
    return result


def send_message(w: SimpleNamespace, user: Any, text: str, *, room: Any = None, kind: str = "chat") -> Any:
    """A message posted through ``messaging.services.message_post`` (default: the operation's room)."""
    from messaging import services as messaging_services
    from messaging.models import Room

    room = room or Room.objects.get(operation=w.op, kind=Room.Kind.OPERATION)
    message, _ = messaging_services.message_post(
        membership=membership(w, user),
        room=room,
        client_id=uuid.uuid4(),
        text=text,
        kind=kind,
        handling="operation",
        reply_to_id=None,
        warning_id=None,
        entry_point_ids=[],
        attachment_ids=[],
    )
    return message
