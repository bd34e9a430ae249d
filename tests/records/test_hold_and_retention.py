"""Legal holds and retention periods: who may set them (a coordinator, a hub administrator), that
each change is audited, and that bad input gets field messages."""

from __future__ import annotations

from typing import Any

import pytest

from cencomm.models import AuditEvent
from operations.models import LegalHold, Operation
from tests.world import api_json, make_user, verified_client


def hold(client: Any, reason: Any = "Court order 12/2031", code: str = "TEST-OP") -> Any:
    return api_json(client, "POST", f"/api/v1/operations/{code}/legal-hold", {"reason": reason})


def lift(client: Any, reason: Any = "Case closed", code: str = "TEST-OP") -> Any:
    return api_json(client, "POST", f"/api/v1/operations/{code}/legal-hold/lift", {"lift_reason": reason})


def actions(op: Operation) -> list[str]:
    return list(AuditEvent.objects.filter(operation=op).order_by("seq").values_list("action", flat=True))


def test_coordinator_sets_and_lifts_a_hold_audited_and_shown_on_the_page(world):
    client = verified_client(world.coordinator)
    set_ = hold(client)
    assert set_.status_code == 201 and set_.json()["set_by"] == "coordinator"
    page = verified_client(world.officer_al).get("/operations/TEST-OP/").content.decode()
    assert (
        'data-testid="legal-hold"' in page and "Court order 12/2031" in page and "Set by coordinator" in page
    )
    assert client.get("/api/v1/operations/TEST-OP").json()["legal_hold"] is True
    assert hold(client).status_code == 409  # one standing hold at a time
    lifted = lift(client)
    assert lifted.status_code == 200 and lifted.json()["lift_reason"] == "Case closed"
    assert lifted.json()["lifted_by"] == "coordinator"
    assert actions(world.op)[-2:] == ["operation.hold", "operation.hold_lift"]
    events = AuditEvent.objects.filter(operation=world.op, action__startswith="operation.hold")
    assert {e.actor_id for e in events} == {world.coordinator.pk}
    assert lift(client).status_code == 409  # nothing stands any more
    assert (
        'data-testid="legal-hold"'
        not in verified_client(world.officer_al).get("/operations/TEST-OP/").content.decode()
    )


@pytest.mark.parametrize("who", ["officer_al", "ncp_al", "analyst", "observer", "officer_other", "outsider"])
def test_who_is_not_a_coordinator_may_not_hold_and_gets_404(world, who):
    client = verified_client(getattr(world, who))
    assert hold(client).status_code == 404
    LegalHold.objects.create(operation=world.op, reason="standing", set_by=world.coordinator)
    assert lift(client).status_code == 404
    assert LegalHold.objects.get().lifted_at is None
    assert client.post("/operations/TEST-OP/hold/", {"reason": "x"}).status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="operation.hold").exists()


def test_outsider_learns_nothing_of_the_retention(world):
    assert verified_client(world.outsider).get("/api/v1/operations/TEST-OP/retention").status_code == 404
    assert verified_client(world.officer_other).get("/api/v1/operations/TEST-OP/retention").status_code == 404


def test_a_hub_administrator_holds_an_operation_they_do_not_belong_to(world):
    admin = make_user("hub-admin")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = verified_client(admin)
    archived = world.other
    Operation.objects.filter(pk=archived.pk).update(state="archived")
    assert hold(client, code="OTHER-OP").status_code == 201
    assert client.get("/api/v1/operations/OTHER-OP/retention").json()["legal_hold"]["set_by"] == "hub-admin"
    assert lift(client, code="OTHER-OP").status_code == 200
    assert actions(archived)[-2:] == ["operation.hold", "operation.hold_lift"]
    staff_only = make_user("staff-without-permission")
    staff_only.is_staff = True
    staff_only.save()
    assert hold(verified_client(staff_only), code="OTHER-OP").status_code == 404


@pytest.mark.parametrize(
    ("reason", "field"), [("", "reason"), ("   ", "reason"), ("x" * 501, "reason"), (None, "reason")]
)
def test_a_hold_needs_a_reason(world, reason, field):
    response = hold(verified_client(world.coordinator), reason)
    assert response.status_code == 422 and field in response.json()["errors"]
    assert not LegalHold.objects.exists()


def test_a_lift_needs_a_reason(world):
    client = verified_client(world.coordinator)
    hold(client)
    response = lift(client, "  ")
    assert response.status_code == 422 and "lift_reason" in response.json()["errors"]
    page = client.post("/operations/TEST-OP/hold/lift/", {"lift_reason": ""})
    assert page.status_code == 422 and "Give the reason." in page.content.decode()
    assert LegalHold.objects.get().lifted_at is None


def test_the_page_sets_and_lifts_a_hold(world):
    client = verified_client(world.coordinator)
    assert client.post("/operations/TEST-OP/hold/", {"reason": "Prosecutor's request"}).status_code == 302
    assert LegalHold.objects.get().reason == "Prosecutor's request"
    assert client.post("/operations/TEST-OP/hold/lift/", {"lift_reason": "Withdrawn"}).status_code == 302
    assert LegalHold.objects.get().lift_reason == "Withdrawn"


def test_coordinator_changes_the_retention_period_audited(world):
    client = verified_client(world.coordinator)
    response = api_json(client, "PUT", "/api/v1/operations/TEST-OP/retention", {"retention_days": 3650})
    assert response.status_code == 200 and response.json()["retention_days"] == 3650
    assert Operation.objects.get(pk=world.op.pk).retention_days == 3650
    event = AuditEvent.objects.filter(operation=world.op, action="operation.retention").get()
    assert event.data == {"from": 5 * 365, "to": 3650} and event.actor_id == world.coordinator.pk
    # the same value again changes nothing and records nothing
    api_json(client, "PUT", "/api/v1/operations/TEST-OP/retention", {"retention_days": 3650})
    assert AuditEvent.objects.filter(action="operation.retention").count() == 1
    assert client.post("/operations/TEST-OP/retention/", {"retention_days": "30"}).status_code == 302
    assert Operation.objects.get(pk=world.op.pk).retention_days == 30


@pytest.mark.parametrize("days", [0, -1, 36501, "many", 1.5])
def test_a_bad_retention_period_gets_a_field_message(world, days):
    client = verified_client(world.coordinator)
    response = api_json(client, "PUT", "/api/v1/operations/TEST-OP/retention", {"retention_days": days})
    assert response.status_code == 422 and "retention_days" in response.json()["errors"]
    page = client.post("/operations/TEST-OP/retention/", {"retention_days": str(days)})
    assert page.status_code == 422 and 'id="retention-error"' in page.content.decode()
    assert Operation.objects.get(pk=world.op.pk).retention_days == 5 * 365


@pytest.mark.parametrize("who", ["officer_al", "analyst", "ncp_al", "observer"])
def test_only_a_coordinator_changes_the_retention_period(world, who):
    client = verified_client(getattr(world, who))
    assert (
        api_json(client, "PUT", "/api/v1/operations/TEST-OP/retention", {"retention_days": 1}).status_code
        == 404
    )
    assert client.post("/operations/TEST-OP/retention/", {"retention_days": "1"}).status_code == 404
    assert 'name="retention_days"' not in client.get("/operations/TEST-OP/").content.decode()
    assert client.get("/api/v1/operations/TEST-OP/retention").json()["retention_days"] == 5 * 365


def test_the_outsider_cannot_change_the_retention_period(world):
    client = verified_client(world.outsider)
    assert (
        api_json(client, "PUT", "/api/v1/operations/TEST-OP/retention", {"retention_days": 1}).status_code
        == 404
    )
    assert Operation.objects.get(pk=world.op.pk).retention_days == 5 * 365


def test_the_loader_sets_the_retention_period_and_a_reload_changes_it_audited(world):
    from operations.services import operation_load

    data = {
        "code": "NEW-OP",
        "name": "New",
        "window_start": "2026-01-01T00:00:00+00:00",
        "window_end": "2026-01-08T00:00:00+00:00",
        "retention_days": 730,
        "administrations": [{"country": "AL", "name": "Albanian Customs"}],
    }
    op = operation_load(data)
    assert op.retention_days == 730
    assert AuditEvent.objects.get(operation=op, action="operation.create").data == {"retention_days": 730}
    operation_load(data | {"retention_days": 365})
    assert Operation.objects.get(pk=op.pk).retention_days == 365
    assert AuditEvent.objects.get(operation=op, action="operation.retention").data == {"from": 730, "to": 365}
    with pytest.raises(Exception, match="retention_days"):
        operation_load(data | {"code": "BAD-OP", "retention_days": 0})


def test_the_admin_sets_and_lifts_a_hold_through_the_audited_services(world):
    admin = make_user("hub-admin")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = verified_client(admin)
    added = client.post(
        "/admin/operations/legalhold/add/", {"operation": world.op.pk, "reason": "Audit by the court"}
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    hold = LegalHold.objects.get()
    assert (hold.reason, hold.set_by) == ("Audit by the court", admin)
    again = client.post("/admin/operations/legalhold/add/", {"operation": world.op.pk, "reason": "twice"})
    assert again.status_code == 200 and "already stands" in again.content.decode()
    no_reason = client.post(f"/admin/operations/legalhold/{hold.pk}/change/", {"lift_reason": " "})
    assert no_reason.status_code == 200 and LegalHold.objects.get().lifted_at is None
    lifted = client.post(f"/admin/operations/legalhold/{hold.pk}/change/", {"lift_reason": "Court agrees"})
    assert lifted.status_code == 302
    hold.refresh_from_db()
    assert (hold.lift_reason, hold.lifted_by) == ("Court agrees", admin) and hold.lifted_at is not None
    assert actions(world.op)[-2:] == ["operation.hold", "operation.hold_lift"]
    assert client.post(f"/admin/operations/legalhold/{hold.pk}/delete/", {"post": "yes"}).status_code == 403
    # The retention period is read-only on an existing operation's admin page (the services change it).
    page = client.get(f"/admin/operations/operation/{world.op.pk}/change/").content.decode()
    assert 'name="retention_days"' not in page and 'name="closed_at"' not in page


def test_the_retention_field_holds_a_plain_number_in_every_language(world):
    """A number input takes no thousands separator: 1825, never 1,825 or 1 825."""
    client = verified_client(world.coordinator)
    for language in ("en", "fr", "ar"):
        page = client.get("/operations/TEST-OP/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert 'max="36500" value="1825"' in page, language
