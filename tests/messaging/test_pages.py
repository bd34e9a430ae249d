"""The room pages: opening a room from the page, as a coordinator would, and who may not."""

from __future__ import annotations

import pytest

from cencomm.models import AuditEvent
from messaging.models import Room
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db
NEW = "/operations/TEST-OP/rooms/new/"


def test_a_coordinator_opens_a_room_from_the_page_and_lands_in_it(world):
    coordinator = verified_client(world.coordinator)
    listing = coordinator.get("/operations/TEST-OP/rooms/")
    assert NEW.encode() in listing.content  # the way in, from the rooms page
    form = coordinator.get(NEW)
    assert form.status_code == 200
    assert b'value="%d"' % world.officer_al.pk in form.content
    assert b'value="%d"' % world.coordinator.pk not in form.content  # they are in it anyway
    response = coordinator.post(NEW, {"name": "Durrës follow-up", "members": [world.officer_al.pk]})
    room = Room.objects.get(operation=world.op, kind=Room.Kind.CUSTOM)
    assert response.status_code == 302 and response["Location"] == f"/operations/TEST-OP/rooms/{room.pk}/"
    assert set(room.members.values_list("user_id", flat=True)) == {world.coordinator.pk, world.officer_al.pk}
    assert AuditEvent.objects.filter(action="room.create", target_id=str(room.pk)).exists()
    officer = verified_client(world.officer_al)
    page = officer.get(f"/operations/TEST-OP/rooms/{room.pk}/")
    assert '<h2 id="room-title">Durrës follow-up</h2>' in page.content.decode()
    assert verified_client(world.officer_it).get(f"/operations/TEST-OP/rooms/{room.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"name": "", "members": []}, "name", b"Give the room a name"),
        ({"name": "x" * 121}, "name", b"at most 120 characters"),
        ({"name": "Side", "members": ["not-a-number"]}, "members", b"Choose members from the list"),
        ({"name": "Side", "members": ["99999999999999999999"]}, "members", b"take part in this operation"),
    ],
)
def test_bad_input_on_the_page_stores_nothing_and_says_why(world, data, field, says):
    response = verified_client(world.coordinator).post(NEW, data)
    assert response.status_code == 422
    assert f'data-field="{field}"'.encode() in response.content and says in response.content
    assert not Room.objects.filter(kind=Room.Kind.CUSTOM).exists()


def test_a_member_of_another_operation_cannot_be_put_in_a_room(world):
    response = verified_client(world.coordinator).post(
        NEW, {"name": "Side", "members": [world.officer_al.pk, world.officer_other.pk]}
    )
    assert response.status_code == 422
    assert not Room.objects.filter(kind=Room.Kind.CUSTOM).exists()


@pytest.mark.parametrize("who", ["officer_al", "ncp_al", "observer", "outsider", "officer_other"])
def test_only_coordinators_open_rooms(world, who):
    client = verified_client(getattr(world, who))
    assert client.get(NEW).status_code == 404
    assert client.post(NEW, {"name": "mine", "members": []}).status_code == 404
    assert not Room.objects.filter(kind=Room.Kind.CUSTOM).exists()
    if who not in ("outsider", "officer_other"):
        assert NEW.encode() not in client.get("/operations/TEST-OP/rooms/").content


def test_the_page_needs_both_factors_and_a_csrf_token(world):
    from django.test import Client

    anonymous = Client()
    assert anonymous.get(NEW).status_code == 302
    strict = verified_client(world.coordinator, enforce_csrf=True)
    assert strict.post(NEW, {"name": "Side", "members": []}).status_code == 403
    assert not Room.objects.filter(kind=Room.Kind.CUSTOM).exists()
