"""NUL (U+0000) in any text: PostgreSQL cannot store it, so it is refused at the door with a 4xx."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from messaging.models import Room
from tests.conftest import verified_client
from tests.security.conftest import api_json, result_body

pytestmark = pytest.mark.django_db
SAYS = b"NUL (U+0000)"


def test_json_with_a_nul_anywhere_gets_422_and_stores_nothing(world):
    coordinator = verified_client(world.coordinator)
    response = api_json(
        coordinator, "POST", "/api/v1/operations/TEST-OP/rooms", {"name": "a\x00b", "members": []}
    )
    assert response.status_code == 422 and SAYS in response.content
    assert not Room.objects.filter(kind=Room.Kind.CUSTOM).exists()
    body = result_body(world)
    body["lines"][0]["description"] = "pills\x00"
    posted = api_json(verified_client(world.officer_al), "POST", "/api/v1/operations/TEST-OP/results", body)
    assert posted.status_code == 422 and json.loads(posted.content)["errors"]["__all__"]


def test_a_form_or_query_with_a_nul_gets_400(world):
    coordinator = verified_client(world.coordinator)
    page = coordinator.post("/operations/TEST-OP/rooms/new/", {"name": "a\x00b", "members": []})
    assert page.status_code == 400 and SAYS in page.content
    assert not Room.objects.filter(kind=Room.Kind.CUSTOM).exists()
    assert coordinator.get("/api/v1/operations/TEST-OP/results?entry_point=%00").status_code == 422
    assert coordinator.get("/operations/TEST-OP/results/?q=%00").status_code == 400
    assert Client().post("/accounts/login/", {"username": "x\x00", "password": "y"}).status_code == 400


def test_text_without_a_nul_still_goes_through(world):
    coordinator = verified_client(world.coordinator)
    response = api_json(
        coordinator, "POST", "/api/v1/operations/TEST-OP/rooms", {"name": "Side \\u0001 room", "members": []}
    )
    assert response.status_code == 201
