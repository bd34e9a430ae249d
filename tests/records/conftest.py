"""Fixtures of tests/records. Retention's world (``filled``, ``close``): an operation with something
of everything sealed, then closed long enough ago."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from tests.world import membership, post_result, send_message


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def close(
    world: SimpleNamespace, operation: Any = None, *, days_ago: int = 10, retention_days: int = 5
) -> Any:
    """Move the operation to closed through the lifecycle, then date its close ``days_ago`` back."""
    from operations.models import Operation
    from operations.services import operation_transition

    operation = operation or world.op
    operation_transition(operation=operation, to_state="follow_up", actor=world.coordinator)
    operation_transition(operation=operation, to_state="closed", actor=world.coordinator)
    Operation.objects.filter(pk=operation.pk).update(
        closed_at=timezone.now() - dt.timedelta(days=days_ago), retention_days=retention_days
    )
    operation.refresh_from_db()
    return operation


@pytest.fixture
def filled(world: SimpleNamespace) -> SimpleNamespace:
    """TEST-OP with messages (one edited), an attachment, results with every sealed field, a brand
    and a photo, a restricted report and a public one; then closed ten days ago, kept five."""
    from messaging.models import Room
    from messaging.services import attachment_upload, message_edit
    from reports.selectors import SYSTEM, Audience
    from reports.services import report_generate_now
    from results.services import result_photo_add

    room = Room.objects.get(operation=world.op, kind=Room.Kind.OPERATION)
    world.message = send_message(world, world.officer_al, "Container MSKU1234565 from Bari, consignee Rossi")
    message_edit(
        membership=membership(world, world.officer_al), message=world.message, text="MSKU1234565 again"
    )
    world.attachment = attachment_upload(
        membership=membership(world, world.officer_al), room=room, data=jpeg(), name="manifest.jpg"
    )
    world.result = post_result(
        world,
        world.officer_al,
        world.durres,
        "r-1",
        lines=[("medicines", 100, "blister packs")],
        brand="Acme Pharma",
        notes="found behind the false wall",
        reference="MSKU1234565",
        parties="Rossi Srl, Bari",
    )
    world.plain = post_result(world, world.officer_it, world.bari, "r-2", lines=[("accessories", 7, "belts")])
    world.photo = result_photo_add(
        membership=membership(world, world.officer_al),
        result_uuid=world.result.uuid,
        data=jpeg(),
        name="g.jpg",
    )
    world.restricted = report_generate_now(
        operation=world.op, audience=Audience(SYSTEM), edition="restricted", format="json"
    )
    world.public = report_generate_now(
        operation=world.op, audience=Audience(SYSTEM), edition="public", format="json"
    )
    assert world.restricted.state == world.public.state == "done"
    close(world)
    return world
