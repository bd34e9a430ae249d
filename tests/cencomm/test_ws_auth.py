"""WebSockets connect only for a session that passed both factors, from an allowed Origin."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from cencomm import protocol
from tests.conftest import PASSWORD, verified_client, ws_communicator
from tests.world import refusal_code

pytestmark = pytest.mark.django_db(transaction=True)


async def connects(path: str, **kwargs) -> tuple[bool, int | None]:
    """(open, close code): a refused socket is accepted, then closed at once with a code."""
    communicator = ws_communicator(path, **kwargs)
    code = await refusal_code(communicator)
    if code is None:
        await communicator.send_json_to({"type": "ping", "ref": "r1"})
        reply = await communicator.receive_json_from()
        assert reply["type"] == "pong" and reply["ref"] == "r1"
    await communicator.disconnect()
    return code is None, code


async def test_verified_session_can_ping(tworld):
    client = await _sync(verified_client, tworld.officer_al)
    connected, _ = await connects("/ws/ping/", client=client)
    assert connected


async def test_password_only_session_is_refused(tworld):
    client = Client()
    await _sync(client.post, "/accounts/login/", {"username": "officer-durres", "password": PASSWORD})
    assert client.cookies.get("sessionid")
    connected, code = await connects("/ws/ping/", client=client)
    assert not connected and code == protocol.CLOSE_UNAUTHENTICATED


async def test_session_whose_device_was_deleted_is_refused(tworld):
    client = await _sync(verified_client, tworld.officer_al)
    await _sync(lambda: TOTPDevice.objects.filter(user=tworld.officer_al).delete())
    connected, code = await connects("/ws/ping/", client=client)
    assert not connected and code == protocol.CLOSE_UNAUTHENTICATED


async def test_inactive_user_is_refused(tworld):
    client = await _sync(verified_client, tworld.officer_al)
    await _sync(lambda: get_user_model().objects.filter(pk=tworld.officer_al.pk).update(is_active=False))
    connected, code = await connects("/ws/ping/", client=client)
    assert not connected and code == protocol.CLOSE_UNAUTHENTICATED


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "null",
        "http://evil.example",
        "https://testserver",
        "http://testserver:8080",
        "http://testserver.evil.example",
    ],
)
async def test_foreign_missing_or_wrong_origin_is_refused(tworld, origin):
    client = await _sync(verified_client, tworld.officer_al)
    connected, code = await connects("/ws/ping/", client=client, origin=origin)
    assert not connected and code == protocol.CLOSE_FORBIDDEN


async def test_anonymous_is_refused(tworld):
    connected, code = await connects("/ws/ping/")
    assert not connected and code == protocol.CLOSE_UNAUTHENTICATED


async def test_unknown_frame_type_gets_an_error_frame(tworld):
    client = await _sync(verified_client, tworld.officer_al)
    communicator = ws_communicator("/ws/ping/", client=client)
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "room.message", "ref": "x"})
    reply = await communicator.receive_json_from()
    assert reply == {"type": "error", "code": "unknown_type", "message": reply["message"], "ref": "x"}
    await communicator.send_to(text_data="not json")
    assert (await communicator.receive_json_from())["code"] == "invalid_json"
    await communicator.send_json_to({"type": "ping", "extra": 1})
    reply = await communicator.receive_json_from()
    assert reply["code"] == "invalid_frame" and "extra" in reply["fields"]
    await communicator.disconnect()


async def test_sign_out_closes_open_sockets(tworld):
    client = await _sync(verified_client, tworld.officer_al)
    communicator = ws_communicator("/ws/ping/", client=client)
    assert (await communicator.connect())[0]
    await _sync(client.post, "/accounts/logout/")
    output = await communicator.receive_output(timeout=2)
    assert output["type"] == "websocket.close" and output["code"] == 4401


async def _sync(fn, *args, **kwargs):
    from asgiref.sync import sync_to_async

    return await sync_to_async(fn)(*args, **kwargs)
