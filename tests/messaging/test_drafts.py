"""One message draft for the API and the socket: the same schema, the same refusals, and a client ID
reused for a different draft answered with the stored message (409 / ``client_id_reused``)."""

from __future__ import annotations

import json
import uuid

import pytest
from channels.db import database_sync_to_async

from cencomm.protocol import CLIENT_ID_PATTERN
from messaging.api import MessageIn
from messaging.frames import MessageDraft, SendFrame
from messaging.models import Handling, Message
from tests.conftest import verified_client
from tests.messaging.conftest import open_socket

DRAFT = {"text": "Reefer MSKU-1 needs a second look.", "kind": "chat", "handling": "operation"}

# Each is refused by the draft schema itself, before any service runs, on both paths.
BAD_DRAFTS = [
    pytest.param({"client_id": "not-a-uuid"}, "client_id", id="client id not a uuid"),
    pytest.param({"client_id": "abcdefgh12345678"}, "client_id", id="client id of 8-64 characters"),
    pytest.param({"text": "x" * 4001}, "text", id="text too long"),
    pytest.param({"kind": "seizure"}, "kind", id="unknown kind"),
    pytest.param({"handling": "public"}, "handling", id="unknown handling"),
    pytest.param({"reply_to": 0}, "reply_to", id="reply to id 0"),
    pytest.param({"attachments": [str(uuid.uuid4()) for _ in range(11)]}, "attachments", id="11 files"),
    pytest.param({"author": 1}, "author", id="a forged author"),
]


def test_the_api_body_and_the_send_frame_are_one_draft_with_the_models_choices():
    frame_fields = set(SendFrame.model_fields) - {"type", "room", "ref"}
    assert set(MessageIn.model_fields) == frame_fields == set(MessageDraft.model_fields)
    schema = MessageIn.model_json_schema()["properties"]
    assert schema["kind"]["enum"] == Message.Kind.values
    assert schema["handling"]["enum"] == Handling.values
    assert schema["client_id"]["pattern"] == CLIENT_ID_PATTERN


def _body(bad: dict) -> dict:
    return {"client_id": str(uuid.uuid4()), **DRAFT, **bad}


@pytest.mark.django_db
@pytest.mark.parametrize("bad, field", BAD_DRAFTS)
def test_the_api_refuses_a_bad_draft(world, bad, field):
    client = verified_client(world.officer_al)
    room = client.get("/api/v1/operations/TEST-OP/rooms").json()[0]["id"]
    response = client.post(
        f"/api/v1/operations/TEST-OP/rooms/{room}/messages", json.dumps(_body(bad)), "application/json"
    )
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert Message.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bad, field", BAD_DRAFTS)
async def test_the_socket_refuses_the_same_bad_draft(tworld, bad, field):
    socket = await open_socket(tworld.officer_al)
    room = socket.room("operation")
    await socket.send({"type": "send", "ref": "bad", "room": room, **_body(bad)})
    error = await socket.frame("error")
    assert error["code"] == "invalid_frame" and error["ref"] == "bad"
    assert field in error["fields"]
    assert await database_sync_to_async(Message.objects.count)() == 0
    await socket.close()


@pytest.mark.django_db
def test_a_client_id_reused_for_another_draft_is_409_with_the_stored_message(world):
    client = verified_client(world.officer_al)
    room = client.get("/api/v1/operations/TEST-OP/rooms").json()[0]["id"]
    url = f"/api/v1/operations/TEST-OP/rooms/{room}/messages"
    client_id = str(uuid.uuid4())
    first = client.post(url, json.dumps({"client_id": client_id, **DRAFT}), "application/json")
    assert first.status_code == 201
    # The same draft again (upper-case ID: the same UUID) is a retry: the stored message, 200.
    again = client.post(url, json.dumps({"client_id": client_id.upper(), **DRAFT}), "application/json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    for change in ({"text": "Something else."}, {"handling": "hub_only"}):
        reused = client.post(url, json.dumps({"client_id": client_id, **DRAFT, **change}), "application/json")
        assert reused.status_code == 409, reused.content
        body = reused.json()
        assert body["id"] == first.json()["id"]
        assert body["detail"] and body["errors"]["client_id"]
    assert Message.objects.count() == 1
    stored = client.get(f"{url}?after_seq=0").json()["messages"]
    assert [m["text"] for m in stored] == [DRAFT["text"]]


@pytest.mark.django_db
def test_a_retry_after_an_edit_is_still_the_same_draft(world):
    """The stored draft is the first version: an edit since does not turn the retry into a conflict."""
    client = verified_client(world.officer_al)
    room = client.get("/api/v1/operations/TEST-OP/rooms").json()[0]["id"]
    url = f"/api/v1/operations/TEST-OP/rooms/{room}/messages"
    body = {"client_id": str(uuid.uuid4()), **DRAFT}
    first = client.post(url, json.dumps(body), "application/json").json()
    client.patch(
        f"/api/v1/operations/TEST-OP/messages/{first['id']}", json.dumps({"text": "new"}), "application/json"
    )
    again = client.post(url, json.dumps(body), "application/json")
    assert again.status_code == 200 and again.json()["version"] == 2


@pytest.mark.django_db(transaction=True)
async def test_the_socket_answers_a_reused_client_id_with_the_stored_message(tworld):
    socket = await open_socket(tworld.officer_al)
    room = socket.room("operation")
    client_id = str(uuid.uuid4())
    sent = await socket.post(room, DRAFT["text"], client_id=client_id)
    assert sent["type"] == "sent" and sent["created"] is True
    retry = await socket.post(room, DRAFT["text"], client_id=client_id)
    assert retry["type"] == "sent" and retry["created"] is False and retry["id"] == sent["id"]
    reused = await socket.post(room, "A different message.", client_id=client_id)
    assert reused["type"] == "error" and reused["code"] == "client_id_reused"
    assert reused["id"] == sent["id"] and reused["fields"]["client_id"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    await socket.close()
