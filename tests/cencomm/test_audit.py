"""The audit trail is chained by hash: a changed, removed or reordered event is found."""

import pytest

from cencomm.audit import audit_record, audit_verify
from cencomm.models import AuditEvent
from operations.services import operation_transition

pytestmark = pytest.mark.django_db


def test_services_write_a_verifiable_chain(world):
    operation_transition(operation=world.op, to_state="follow_up", actor=world.coordinator)
    events = list(AuditEvent.objects.filter(operation=world.op).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].action == "operation.transition" and events[-1].actor == world.coordinator
    assert audit_verify(world.op.pk) is None


@pytest.mark.parametrize("tamper", ["change", "delete_middle", "delete_last"])
def test_tampering_is_found(world, tamper):
    for n in range(3):
        audit_record(action="test.event", actor=world.coordinator, operation=world.op, data={"n": n})
    events = list(AuditEvent.objects.filter(operation=world.op).order_by("seq"))
    target = events[-2]
    if tamper == "change":
        AuditEvent.objects.filter(pk=target.pk).update(data={"n": 99})
        assert audit_verify(world.op.pk) == target.seq
    elif tamper == "delete_middle":
        AuditEvent.objects.filter(pk=target.pk).delete()
        assert audit_verify(world.op.pk) == target.seq
    else:
        AuditEvent.objects.filter(pk=events[-1].pk).delete()
        assert audit_verify(world.op.pk) == events[-1].seq


def test_illegal_transition_is_refused_and_changes_nothing(world):
    from cencomm.errors import Refused

    before = AuditEvent.objects.count()
    with pytest.raises(Refused):
        operation_transition(operation=world.op, to_state="archived", actor=world.coordinator)
    world.op.refresh_from_db()
    assert world.op.state == "active" and AuditEvent.objects.count() == before
