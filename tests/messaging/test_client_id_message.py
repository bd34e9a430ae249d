"""A client ID that is not a UUID is told so in words, with an example, on the API (422), in a
socket's error frame and for a result: never the regular expression the schema checks it with."""

from __future__ import annotations

import json

import pytest

from cencomm.protocol import CLIENT_ID_MESSAGE, CLIENT_ID_PATTERN
from tests.conftest import verified_client
from tests.messaging.conftest import open_socket

DRAFT = {"text": "Reefer MSKU-1 needs a second look.", "kind": "chat", "handling": "operation"}


def _plain(messages: list[str]) -> None:
    assert messages == [CLIENT_ID_MESSAGE], messages
    assert "[0-9a-fA-F]" not in messages[0] and CLIENT_ID_PATTERN not in messages[0]


@pytest.mark.django_db
def test_the_api_says_a_client_id_must_be_a_uuid_in_words(world):
    client = verified_client(world.officer_al)
    room = client.get("/api/v1/operations/TEST-OP/rooms").json()[0]["id"]
    response = client.post(
        f"/api/v1/operations/TEST-OP/rooms/{room}/messages",
        json.dumps({"client_id": "draft-1", **DRAFT}),
        "application/json",
    )
    assert response.status_code == 422
    _plain(response.json()["errors"]["client_id"])
    results = client.post(
        "/api/v1/operations/TEST-OP/results", json.dumps({"client_id": "not-a-uuid"}), "application/json"
    )
    assert results.status_code == 422
    _plain(results.json()["errors"]["client_id"])


@pytest.mark.django_db
def test_a_client_id_in_capitals_is_still_taken_and_stored_lower_cased(world):
    client = verified_client(world.officer_al)
    room = client.get("/api/v1/operations/TEST-OP/rooms").json()[0]["id"]
    client_id = "7D9F1C2E-4B6A-4C8D-9E0F-1A2B3C4D5E6F"
    response = client.post(
        f"/api/v1/operations/TEST-OP/rooms/{room}/messages",
        json.dumps({"client_id": client_id, **DRAFT}),
        "application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["client_id"] == client_id.lower()


@pytest.mark.django_db(transaction=True)
async def test_the_socket_says_a_client_id_must_be_a_uuid_in_words(tworld):
    socket = await open_socket(tworld.officer_al)
    room = socket.room("operation")
    await socket.send({"type": "send", "ref": "bad", "room": room, "client_id": "draft-1", **DRAFT})
    error = await socket.frame("error")
    assert error["code"] == "invalid_frame" and error["ref"] == "bad"
    _plain(error["fields"]["client_id"])
    await socket.close()
