"""Alerts wherever the member is: addressed like warnings (entry points, administrations, roles),
pending on every socket of the operation until acknowledged, a live grid for the coordinators, and
reminders (a new, linked alert to those who have not acknowledged only)."""

from __future__ import annotations

import json
import uuid

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from cencomm.live import capture_live_events
from messaging import acknowledgements, events, rendering, services
from messaging.models import Acknowledgement, Message, Room
from tests.conftest import verified_client
from tests.messaging.conftest import open_socket
from tests.world import membership, send_message


def operation_room(w):
    return Room.objects.get(operation=w.op, kind=Room.Kind.OPERATION)


def alert(w, text="Hold container MSKU-4410.", *, author=None, kind="alert", **audience):
    message, _ = services.message_post(
        membership=membership(w, author or w.coordinator),
        room=operation_room(w),
        client_id=uuid.uuid4(),
        text=text,
        kind=kind,
        **audience,
    )
    return message


def asked(w, message):
    return sorted(s["username"] for s in acknowledgements.acknowledgement_status(message))


def post(client, room_id, body):
    return client.post(
        f"/api/v1/operations/TEST-OP/rooms/{room_id}/messages",
        json.dumps(body),
        content_type="application/json",
    )


# --- addressing -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_alert_without_addressees_asks_everyone_in_the_room_but_its_author(world):
    assert asked(world, alert(world)) == ["analyst", "ncp-al", "observer", "officer-bari", "officer-durres"]


@pytest.mark.django_db
def test_alert_to_an_entry_point_asks_its_officer_and_their_contact_point_only(world):
    message = alert(world, entry_point_ids=[world.durres.pk])
    assert asked(world, message) == ["ncp-al", "officer-durres"]
    assert acknowledgements.pending_acknowledgements(membership(world, world.officer_it)) == []
    assert acknowledgements.pending_acknowledgements(membership(world, world.officer_al)) == [message]


@pytest.mark.django_db
def test_alert_to_an_administration_asks_its_members_whatever_their_role(world):
    assert asked(world, alert(world, administration_ids=[world.it.pk])) == ["officer-bari"]
    assert asked(world, alert(world, administration_ids=[world.al.pk])) == ["ncp-al", "officer-durres"]


@pytest.mark.django_db
def test_roles_narrow_the_places_and_alone_pick_a_role_everywhere(world):
    assert asked(world, alert(world, roles=["officer"])) == ["officer-bari", "officer-durres"]
    assert asked(world, alert(world, administration_ids=[world.al.pk], roles=["officer"])) == [
        "officer-durres"
    ]
    both = alert(
        world, entry_point_ids=[world.bari.pk], administration_ids=[world.al.pk], roles=["officer", "ncp"]
    )
    assert asked(world, both) == ["ncp-al", "officer-bari", "officer-durres"]


@pytest.mark.django_db
def test_warnings_are_addressed_the_same_way(world):
    warning = alert(world, kind="warning", administration_ids=[world.it.pk])
    assert asked(world, warning) == ["officer-bari"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "audience, field",
    [
        ({"administration_ids": [999_999]}, "administrations"),
        ({"entry_point_ids": [999_999]}, "entry_points"),
        ({"roles": ["admiral"]}, "roles"),
    ],
)
def test_unknown_addressees_are_refused(world, audience, field):
    with pytest.raises(ValidationError) as exc:
        alert(world, **audience)
    assert field in exc.value.message_dict
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_administrations_of_another_operation_and_chat_addressees_are_refused(world):
    with pytest.raises(ValidationError) as exc:
        alert(world, administration_ids=[world.gr.pk])
    assert "administrations" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        alert(world, kind="chat", roles=["officer"])
    assert "roles" in exc.value.message_dict


@pytest.mark.django_db
def test_api_addresses_an_alert_and_a_retry_with_another_audience_is_a_conflict(world):
    coordinator = verified_client(world.coordinator)
    room = operation_room(world).pk
    body = {
        "client_id": str(uuid.uuid4()),
        "kind": "alert",
        "text": "Bari only",
        "administrations": [world.it.pk],
        "roles": ["officer"],
    }
    response = post(coordinator, room, body)
    assert response.status_code == 201, response.content
    sent = response.json()
    assert (sent["administrations"], sent["roles"], sent["entry_points"]) == ([world.it.pk], ["officer"], [])
    assert post(coordinator, room, body).status_code == 200  # the same draft: the stored alert
    assert post(coordinator, room, body | {"administrations": [world.al.pk]}).status_code == 409
    assert (
        post(coordinator, room, body | {"client_id": str(uuid.uuid4()), "roles": ["general"]}).status_code
        == 422
    )
    officer = verified_client(world.officer_it)
    listed = officer.get(f"/api/v1/operations/TEST-OP/rooms/{room}/messages").json()["messages"]
    assert [(m["text"], m["acked"]) for m in listed] == [("Bari only", False)]
    other = verified_client(world.officer_al)
    listed = other.get(f"/api/v1/operations/TEST-OP/rooms/{room}/messages").json()["messages"]
    assert [(m["text"], m["acked"]) for m in listed] == [("Bari only", None)]  # not asked


@pytest.mark.django_db
def test_api_lists_what_the_member_must_still_acknowledge(world):
    first = alert(world, "first", roles=["officer"])
    alert(world, "for Durrës", entry_point_ids=[world.durres.pk])
    bari = verified_client(world.officer_it)
    assert [(m["text"], m["acked"]) for m in bari.get("/api/v1/operations/TEST-OP/pending").json()] == [
        ("first", False)
    ]
    assert bari.post(f"/api/v1/operations/TEST-OP/messages/{first.pk}/ack").status_code == 200
    assert bari.get("/api/v1/operations/TEST-OP/pending").json() == []
    durres = verified_client(world.officer_al)
    assert [m["text"] for m in durres.get("/api/v1/operations/TEST-OP/pending").json()] == [
        "first",
        "for Durrës",
    ]
    assert verified_client(world.outsider).get("/api/v1/operations/TEST-OP/pending").status_code == 404


@pytest.mark.django_db
def test_the_api_schema_lists_the_addressees_of_a_draft(world):
    schema = verified_client(world.coordinator).get("/api/v1/openapi.json").json()
    draft = schema["components"]["schemas"]["MessageIn"]["properties"]
    assert {"entry_points", "administrations", "roles"} <= set(draft)
    assert "officer" in json.dumps(draft["roles"])


@pytest.mark.django_db
def test_room_page_offers_entry_points_administrations_and_roles_to_coordinators(world):
    page = verified_client(world.coordinator).get("/operations/TEST-OP/rooms/").content.decode()
    assert f'name="administrations" value="{world.it.pk}"' in page
    assert 'name="roles" value="officer"' in page
    assert f'name="entry_points" value="{world.durres.pk}"' in page


# --- live: every socket of the operation carries what is pending --------------------------------------


@pytest.mark.django_db
def test_posting_acknowledging_and_withdrawing_an_alert_publish_to_the_operation(
    world, django_capture_on_commit_callbacks
):
    group = events.alerts_group(world.op.pk)
    with capture_live_events() as published, django_capture_on_commit_callbacks(execute=True):
        message = alert(world)
    assert (group, events.alerts_changed(message)) in published
    with capture_live_events() as published, django_capture_on_commit_callbacks(execute=True):
        services.message_acknowledge(membership=membership(world, world.officer_al), message=message)
    assert (group, events.alert_acknowledged(message, world.officer_al.pk)) in published
    with capture_live_events() as published, django_capture_on_commit_callbacks(execute=True):
        services.message_withdraw(membership=membership(world, world.coordinator), message=message)
    assert (group, events.alerts_changed(message)) in published
    with capture_live_events() as published, django_capture_on_commit_callbacks(execute=True):
        send_message(world, world.officer_al, "chat is no alert")
    assert not [g for g, _ in published if g == group]


@pytest.mark.django_db(transaction=True)
async def test_an_unsubscribed_socket_gets_the_alert_and_loses_it_when_acknowledged_elsewhere(tworld):
    phone = await open_socket(tworld.officer_it)  # a page that is not the rooms page: no subscribe
    other_page = await open_socket(tworld.officer_it)
    durres = await open_socket(tworld.officer_al)
    coordinator = await open_socket(tworld.coordinator)
    assert phone.hello["pending"] == []
    room = coordinator.room("operation")

    sent = await coordinator.post(room, "Bari: hold MSKU-4410", kind="alert", entry_points=[tworld.bari.pk])
    assert sent["type"] == "sent"
    pending = await phone.frame("pending")
    assert [(m["text"], m["acked"]) for m in pending["pending"]] == [("Bari: hold MSKU-4410", False)]
    assert [m["id"] for m in (await other_page.frame("pending"))["pending"]] == [sent["id"]]
    assert (await durres.frame("pending"))["pending"] == []  # not addressed to Durrës
    assert (await coordinator.frame("acknowledged"))["message"] == sent["id"]  # the grid: a new column

    await phone.send({"type": "ack", "ref": "a1", "message": sent["id"]})
    assert (await phone.frame("done"))["message"] == sent["id"]
    assert (await other_page.frame("pending"))["pending"] == []  # my other page drops it
    hint = await coordinator.frame("acknowledged")
    assert (hint["message"], hint["user"]) == (sent["id"], tworld.officer_it.pk)
    assert await durres.nothing_more()

    again = await open_socket(tworld.officer_it)
    assert again.hello["pending"] == []
    for socket in (phone, other_page, durres, coordinator, again):
        await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_officers_do_not_receive_acknowledgement_hints_of_others(tworld):
    durres = await open_socket(tworld.officer_al)
    bari = await open_socket(tworld.officer_it)
    coordinator = await open_socket(tworld.coordinator)
    sent = await coordinator.post(coordinator.room("operation"), "Everyone: radio check", kind="alert")
    await durres.frame("pending")
    await bari.frame("pending")
    await durres.send({"type": "ack", "ref": "a", "message": sent["id"]})
    await durres.frame("done")
    await coordinator.frame("acknowledged")
    assert (await coordinator.frame("acknowledged"))["user"] == tworld.officer_al.pk
    frames = []
    while not await bari.comm.receive_nothing(timeout=0.3):
        frames.append(await bari.comm.receive_json_from())
    assert [f for f in frames if f["type"] in ("acknowledged", "pending")] == []
    for socket in (durres, bari, coordinator):
        await socket.close()


# --- the acknowledgements page: the grid, "not yet" first, reminders ------------------------------------


@pytest.mark.django_db
def test_grid_puts_those_who_have_not_acknowledged_first(world):
    first = alert(world, "first", roles=["officer"])
    second = alert(world, "second", entry_point_ids=[world.durres.pk])
    services.message_acknowledge(membership=membership(world, world.officer_al), message=first)
    services.message_acknowledge(membership=membership(world, world.officer_al), message=second)
    grid = acknowledgements.acknowledgement_grid(
        acknowledgements.acknowledgement_overview(membership(world, world.coordinator))
    )
    assert [c["message"].pk for c in grid["columns"]] == [second.pk, first.pk]  # newest first
    rows = [
        (r["username"], [None if c is None else bool(c["acknowledged_at"]) for c in r["cells"]])
        for r in grid["rows"]
    ]
    assert rows == [
        ("ncp-al", [False, None]),
        ("officer-bari", [None, False]),
        ("officer-durres", [True, True]),
    ]
    assert grid["missing"] == 2


@pytest.mark.django_db
def test_acknowledgements_page_leads_with_the_grid_and_lists_not_yet_first(world):
    message = alert(world, "Everyone: radio check")
    services.message_acknowledge(membership=membership(world, world.analyst), message=message)
    page = verified_client(world.coordinator).get("/operations/TEST-OP/rooms/acknowledgements/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index('id="ack-grid"') < html.index(f'id="ack-{message.pk}"')
    card = html[html.index(f'id="ack-{message.pk}"') :]
    assert card.index("observer") < card.index("analyst")  # not yet, then acknowledged
    assert "Not yet acknowledged: 4" in html
    assert 'id="ack-live"' in html
    assert (
        verified_client(world.officer_al).get("/operations/TEST-OP/rooms/acknowledgements/").status_code
        == 404
    )


@pytest.mark.django_db
def test_reminder_is_a_new_linked_alert_to_those_who_have_not_acknowledged_only(
    world, django_capture_on_commit_callbacks
):
    first = alert(world, "Hold MSKU-4410", roles=["officer", "ncp"])
    services.message_acknowledge(membership=membership(world, world.officer_al), message=first)
    client_id = uuid.uuid4()
    with capture_live_events() as published, django_capture_on_commit_callbacks(execute=True):
        reminder, created = services.message_remind(
            membership=membership(world, world.coordinator), message=first, client_id=client_id
        )
    assert created and reminder.reminder_of == first and reminder.kind == "alert" and reminder.pk != first.pk
    assert rendering.message_text(reminder) == "Hold MSKU-4410"
    assert asked(world, reminder) == ["ncp-al", "officer-bari"]
    assert (events.alerts_group(world.op.pk), events.alerts_changed(reminder)) in published
    assert acknowledgements.pending_acknowledgements(membership(world, world.officer_al)) == []
    again, created = services.message_remind(
        membership=membership(world, world.coordinator), message=first, client_id=client_id
    )
    assert (again, created) == (reminder, False)  # the form sent twice reminds once

    # One tap answers both: the reminder and the alert it reminds of.
    services.message_acknowledge(membership=membership(world, world.officer_it), message=reminder)
    acked = set(Acknowledgement.objects.filter(user=world.officer_it).values_list("message_id", flat=True))
    assert acked == {first.pk, reminder.pk}
    services.message_acknowledge(membership=membership(world, world.ncp_al), message=first)
    assert Acknowledgement.objects.filter(user=world.ncp_al, message=reminder).exists()
    overview = acknowledgements.acknowledgement_overview(membership(world, world.coordinator))
    assert [(row["message"].pk, row["acknowledged"], row["total"], row["reminders"]) for row in overview] == [
        (first.pk, 3, 3, 1)
    ]
    with pytest.raises(services.Refused):  # nobody left to remind
        services.message_remind(
            membership=membership(world, world.coordinator), message=first, client_id=uuid.uuid4()
        )


@pytest.mark.django_db
def test_only_reviewers_who_may_send_alerts_remind(world):
    first = alert(world)
    for user in (world.officer_al, world.analyst, world.observer):
        with pytest.raises(services.NotFound):
            services.message_remind(membership=membership(world, user), message=first, client_id=uuid.uuid4())
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_remind_through_the_api_and_the_page(world):
    first = alert(world, "Radio check")
    coordinator = verified_client(world.coordinator)
    url = f"/api/v1/operations/TEST-OP/messages/{first.pk}/remind"
    body = json.dumps({"client_id": str(uuid.uuid4())})
    response = coordinator.post(url, body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["reminder_of"] == first.pk
    assert len(response.json()["recipients"]) == 5
    assert coordinator.post(url, body, content_type="application/json").status_code == 200
    officer = verified_client(world.officer_al)
    assert (
        officer.post(
            url, json.dumps({"client_id": str(uuid.uuid4())}), content_type="application/json"
        ).status_code
        == 404
    )
    outsider = verified_client(world.outsider)
    assert (
        outsider.post(
            url, json.dumps({"client_id": str(uuid.uuid4())}), content_type="application/json"
        ).status_code
        == 404
    )

    page = coordinator.post(
        f"/operations/TEST-OP/rooms/acknowledgements/{first.pk}/remind/", {"client_id": str(uuid.uuid4())}
    )
    assert page.status_code == 302 and f"reminded={first.pk}" in page["Location"]
    assert Message.objects.filter(reminder_of=first).count() == 2
    assert "Remind those who have not acknowledged (5)" in coordinator.get(page["Location"]).content.decode()
    refused = officer.post(
        f"/operations/TEST-OP/rooms/acknowledgements/{first.pk}/remind/", {"client_id": str(uuid.uuid4())}
    )
    assert refused.status_code == 404


@pytest.mark.django_db
def test_reminders_are_counted_once_in_the_report_figures(world):
    first = alert(world, roles=["officer"])
    reminder, _ = services.message_remind(
        membership=membership(world, world.coordinator), message=first, client_id=uuid.uuid4()
    )
    services.message_acknowledge(membership=membership(world, world.officer_it), message=reminder)
    stats = acknowledgements.communication_stats(world.op)
    assert (stats["acknowledgements_given"], stats["acknowledgements_missing"]) == (1, 1)


@pytest.mark.django_db(transaction=True)
async def test_alerts_page_socket_sends_the_pending_list_after_a_reminder(tworld):
    bari = await open_socket(tworld.officer_it)
    coordinator = await open_socket(tworld.coordinator)
    sent = await coordinator.post(
        coordinator.room("operation"), "Radio check", kind="alert", roles=["officer"]
    )
    await bari.frame("pending")

    @database_sync_to_async
    def remind():
        first = Message.objects.get(pk=sent["id"])
        return services.message_remind(
            membership=membership(tworld, tworld.coordinator), message=first, client_id=uuid.uuid4()
        )[0].pk

    reminder = await remind()
    pending = await bari.frame("pending")
    assert [(m["id"], m["reminder_of"]) for m in pending["pending"]] == [
        (sent["id"], None),
        (reminder, sent["id"]),
    ]
    await bari.send({"type": "ack", "ref": "r", "message": reminder})
    await bari.frame("done")
    assert (await bari.frame("pending"))["pending"] == []
    await bari.close()
    await coordinator.close()
