"""The operation lifecycle: coordinators move it; everyone else gets what a missing object gets."""

import pytest

from operations.models import OperationTransition
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def test_coordinator_moves_the_operation_to_follow_up_and_it_is_recorded(world):
    response = verified_client(world.coordinator).post(
        "/api/v1/operations/TEST-OP/transitions", {"to_state": "follow_up"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["state"] == "follow_up"
    transition = OperationTransition.objects.filter(operation=world.op).latest("at")
    assert (transition.from_state, transition.to_state, transition.by) == (
        "active",
        "follow_up",
        world.coordinator,
    )


@pytest.mark.parametrize("who", ["officer_al", "observer", "ncp_al", "officer_other", "outsider"])
def test_others_cannot_move_the_operation(world, who):
    before = OperationTransition.objects.count()
    response = verified_client(getattr(world, who)).post(
        "/api/v1/operations/TEST-OP/transitions", {"to_state": "follow_up"}, content_type="application/json"
    )
    assert response.status_code == 404
    world.op.refresh_from_db()
    assert world.op.state == "active" and OperationTransition.objects.count() == before


def test_an_illegal_move_is_refused_with_a_message(world):
    client = verified_client(world.coordinator)
    response = client.post(
        "/api/v1/operations/TEST-OP/transitions", {"to_state": "archived"}, content_type="application/json"
    )
    assert response.status_code == 409 and "state" in response.json()["errors"]
    response = client.post(
        "/api/v1/operations/TEST-OP/transitions", {"to_state": "bogus"}, content_type="application/json"
    )
    assert response.status_code == 422 and "to_state" in response.json()["errors"]


def test_coordinator_page_offers_the_next_states_and_moves(world):
    client = verified_client(world.coordinator)
    page = client.get("/operations/TEST-OP/")
    assert b"Move to follow-up" in page.content
    response = client.post("/operations/TEST-OP/transition/", {"to_state": "follow_up"})
    assert response.status_code == 302
    world.op.refresh_from_db()
    assert world.op.state == "follow_up"
    assert b"Move to follow-up" not in verified_client(world.officer_al).get("/operations/TEST-OP/").content
