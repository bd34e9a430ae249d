"""Writes make what an operation needs (its rooms), reads write nothing; every audit action is named."""

from __future__ import annotations

import datetime as dt
import inspect
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cencomm import twofactor
from cencomm.audit import audit_verify
from cencomm.live import capture_live_events
from cencomm.models import AuditEvent
from messaging import api as messaging_api
from messaging import consumers as messaging_consumers
from messaging import services as messaging_services
from messaging import views as messaging_views
from messaging.audit import MessagingAction
from messaging.models import Message, Room
from operations import services as operations_services
from operations.audit import OperationsAction
from operations.models import Administration, EntryPoint, Membership, Participation
from operations.services import membership_add, operation_load, operation_transition
from records import retention as records_retention
from reports import services as reports_services
from results import services as results_services
from tests.conftest import make_user, verified_client

pytestmark = pytest.mark.django_db


def _load(code: str = "ROOMS-OP", administrations: list | None = None):
    start = timezone.now() - dt.timedelta(days=1)
    return operation_load(
        {
            "code": code,
            "name": "Operation Rooms",
            "window_start": start.isoformat(),
            "window_end": (start + dt.timedelta(days=5)).isoformat(),
            "state": "active",
            "administrations": administrations
            if administrations is not None
            else [{"country": "AL", "name": "Albanian Customs", "entry_points": []}],
        }
    )


def _rooms(operation) -> set[tuple[str, str | None]]:
    return {
        (r.kind, r.administration.country if r.administration else None)
        for r in Room.objects.filter(operation=operation)
    }


def test_loading_an_operation_makes_its_rooms_at_once_and_loading_again_adds_none():
    operation = _load()
    assert _rooms(operation) == {("operation", None), ("coordinators", None), ("administration", "AL")}
    created = AuditEvent.objects.filter(operation=operation, action="room.create").count()
    assert created == 3
    _load(
        administrations=[
            {"country": "AL", "name": "Albanian Customs", "entry_points": []},
            {"country": "ME", "name": "Customs of Montenegro", "entry_points": []},
        ]
    )
    assert ("administration", "ME") in _rooms(operation)
    assert Room.objects.filter(operation=operation).count() == 4
    assert AuditEvent.objects.filter(operation=operation, action="room.create").count() == 4


def test_adding_a_member_makes_the_room_of_an_administration_added_outside_operation_load():
    """An administration added in the admin (no service) gets its room with the first member added."""
    operation = _load()
    greece = Administration.objects.create(country="GR", name="Hellenic Customs")
    port = EntryPoint.objects.create(
        administration=greece, name="Port of Igoumenitsa", kind="seaport", time_zone="Europe/Athens"
    )
    Participation.objects.create(operation=operation, administration=greece).entry_points.add(port)
    assert ("administration", "GR") not in _rooms(operation)
    membership_add(
        operation=operation, user=make_user("officer-gr"), role="officer", actor=None, entry_point=port
    )
    assert ("administration", "GR") in _rooms(operation)


def test_pages_api_and_socket_reads_write_no_rooms(world):
    """The rooms page and the API's list only read (they used to create missing rooms)."""
    client = verified_client(world.officer_al)
    rooms = Room.objects.filter(operation=world.op).count()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/operations/TEST-OP/rooms/").status_code == 200
        assert client.get("/api/v1/operations/TEST-OP/rooms").status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert not [sql for sql in writes if "messaging_room" in sql or "cencomm_auditevent" in sql]
    assert Room.objects.filter(operation=world.op).count() == rooms == 4
    for adapter in (messaging_api, messaging_consumers, messaging_views):  # the socket's connect too
        assert "rooms_ensure" not in inspect.getsource(adapter)


def test_an_operation_state_change_publishes_no_event_nobody_listens_to(
    world, django_capture_on_commit_callbacks
):
    with capture_live_events() as published, django_capture_on_commit_callbacks(execute=True):
        operation_transition(operation=world.op, to_state="follow_up", actor=world.coordinator)
    assert not [group for group, _ in published if group.startswith("operation.")]


def test_every_stored_audit_action_is_a_named_one_and_the_chain_verifies(world):
    coordinator = Membership.objects.get(user=world.coordinator, operation=world.op)
    room = Room.objects.get(operation=world.op, kind=Room.Kind.OPERATION)
    message, _ = messaging_services.message_post(
        membership=coordinator, room=room, client_id=uuid.uuid4(), text="Alert", kind=Message.Kind.ALERT
    )
    messaging_services.message_edit(membership=coordinator, message=message, text="Alert, corrected")
    officer = Membership.objects.get(user=world.officer_al, operation=world.op)
    messaging_services.message_acknowledge(membership=officer, message=message)
    messaging_services.message_withdraw(membership=coordinator, message=message)
    messaging_services.room_create(membership=coordinator, name="Ports", user_ids=[world.officer_al.pk])
    messaging_services.room_key_rotate(room=room, actor=None)
    token, _ = operations_services.api_token_create(
        user=world.coordinator, operation=world.op, name="t", days=1
    )
    operations_services.api_token_revoke(token=token, actor=world.coordinator)
    operations_services.membership_remove(
        membership=Membership.objects.get(user=world.observer, operation=world.op), actor=None
    )
    operations_services.operation_retention_set(
        operation=world.op, retention_days=400, actor=world.coordinator, membership=coordinator
    )
    for change in (operations_services.legal_hold_set, operations_services.legal_hold_lift):
        change(operation=world.op, reason="court order", actor=world.coordinator, membership=coordinator)

    named = {
        "operations": set(OperationsAction.values),
        "messaging": set(MessagingAction.values),
    }
    prefixes = {
        "operations": ("operation.", "membership.", "token."),
        "messaging": ("room.", "message.", "attachment."),
    }
    stored = set(AuditEvent.objects.values_list("action", flat=True))
    for app, actions in named.items():
        mine = {a for a in stored if a.startswith(prefixes[app])}
        assert mine <= actions, f"{app} stored actions not in its TextChoices: {mine - actions}"
    # Each app's actions were really exercised (the comparison above is not vacuous).
    assert named["messaging"] - stored == {"attachment.upload"}
    assert named["operations"] - stored <= {"membership.change"}
    assert audit_verify(world.op.pk) is None


@pytest.mark.parametrize(
    "module",
    [messaging_services, operations_services, results_services, reports_services, twofactor, records_retention],
)
def test_services_record_audit_events_only_through_named_functions(module):
    assert "audit_record" not in inspect.getsource(module)
