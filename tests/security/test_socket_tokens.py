"""Sockets for programs: ``Authorization: Bearer <API token>`` on the handshake, never in the URL.

The socket gets the token user's rights, within the token's operation, checked before every frame
like a session's: a revoked or expired token closes it (4401).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.utils import timezone

from cencomm import protocol
from cencomm.models import ApiToken
from messaging.services import rooms_ensure
from operations.models import Membership
from operations.services import api_token_create, api_token_revoke, membership_add
from tests.world import ORIGIN, cookie_header, refusal_code, send_message, verified_client

pytestmark = pytest.mark.django_db(transaction=True)

ROOMS = "/ws/operations/TEST-OP/rooms/"
BOARD = "/ws/operations/TEST-OP/board/"


def token_socket(
    path: str, token: str | None, *, origin: str | None = None, scheme: str = "Bearer", client: Any = None
) -> WebsocketCommunicator:
    """A program's socket: no Origin unless asked, the token in the Authorization header."""
    from asgi import application

    headers = []
    if token is not None:
        headers.append((b"authorization", f"{scheme} {token}".encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if client is not None:
        headers.append((b"cookie", cookie_header(client)))
    return WebsocketCommunicator(application, path, headers=headers)


async def make_token(user: Any, operation: Any, days: int = 1) -> tuple[ApiToken, str]:
    return await sync_to_async(api_token_create)(user=user, operation=operation, name="program", days=days)


async def opened(comm: WebsocketCommunicator) -> dict[str, Any]:
    connected, code = await comm.connect()
    assert connected, code
    return await comm.receive_json_from()


async def refused(comm: WebsocketCommunicator) -> bool:
    """Refused at connect with a code the program can act on (accepted, then closed at once)."""
    code = await refusal_code(comm)
    await comm.disconnect()
    return code in (protocol.CLOSE_UNAUTHENTICATED, protocol.CLOSE_FORBIDDEN, protocol.CLOSE_NOT_FOUND)


async def frame_of(comm: WebsocketCommunicator, kind: str, timeout: float = 3) -> dict[str, Any]:
    while True:
        frame = await comm.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


async def test_token_socket_follows_a_room_without_a_session(tworld):
    await sync_to_async(rooms_ensure)(operation=tworld.op)
    _, plaintext = await make_token(tworld.officer_al, tworld.op)
    comm = token_socket(ROOMS, plaintext)
    hello = await opened(comm)
    assert hello["type"] == "hello" and hello["me"]["username"] == "officer-durres"
    room = next(r["id"] for r in hello["rooms"] if r["kind"] == "operation")
    await comm.send_json_to({"type": "subscribe", "ref": "s", "rooms": [{"room": room, "after_seq": 0}]})
    assert (await frame_of(comm, "subscribed"))["room"] == room

    await sync_to_async(send_message)(tworld, tworld.coordinator, "Scanner down at gate 3.")
    messages = (await frame_of(comm, "messages"))["messages"]
    assert [m["text"] for m in messages] == ["Scanner down at gate 3."]
    await comm.disconnect()


async def test_token_socket_has_the_users_rights_only(tworld):
    # An officer may follow rooms but not the board, with a token as with a session.
    _, officer = await make_token(tworld.officer_al, tworld.op)
    assert await refused(token_socket(BOARD, officer))
    _, analyst = await make_token(tworld.analyst, tworld.op)
    comm = token_socket(BOARD, analyst)
    assert (await opened(comm))["type"] == "board.snapshot"
    await comm.disconnect()


async def test_token_of_another_operation_cannot_open_this_ones_sockets(tworld):
    # The coordinator belongs to both operations; a token for OTHER-OP opens nothing of TEST-OP.
    await sync_to_async(membership_add)(
        operation=tworld.other, user=tworld.coordinator, role=Membership.Role.COORDINATOR, actor=None
    )
    _, plaintext = await make_token(tworld.coordinator, tworld.other)
    assert await refused(token_socket(ROOMS, plaintext))
    assert await refused(token_socket(BOARD, plaintext))
    comm = token_socket("/ws/operations/OTHER-OP/board/", plaintext)
    assert (await opened(comm))["type"] == "board.snapshot"
    await comm.disconnect()


@pytest.mark.parametrize("bad", ["cct_not-a-token", "", "not-even-the-prefix"])
async def test_unknown_token_is_refused(tworld, bad):
    assert await refused(token_socket(ROOMS, bad))


async def test_a_bearer_header_is_never_mixed_with_the_session(tworld):
    # A verified session cookie does not rescue a bad token, nor another scheme.
    client = await sync_to_async(verified_client)(tworld.officer_al)
    assert await refused(token_socket(ROOMS, "cct_wrong", origin=ORIGIN, client=client))
    assert await refused(token_socket(ROOMS, "dXNlcjpwYXNz", scheme="Basic", origin=ORIGIN, client=client))


async def test_token_in_the_url_is_not_accepted(tworld):
    _, plaintext = await make_token(tworld.officer_al, tworld.op)
    assert await refused(token_socket(f"{ROOMS}?token={plaintext}", None))
    assert await refused(token_socket(f"{ROOMS}?access_token={plaintext}", None, origin=ORIGIN))


async def test_token_socket_with_a_foreign_origin_is_refused(tworld):
    _, plaintext = await make_token(tworld.officer_al, tworld.op)
    assert await refused(token_socket(ROOMS, plaintext, origin="http://evil.example"))
    comm = token_socket(ROOMS, plaintext, origin=ORIGIN)  # an allowed one is fine
    assert (await opened(comm))["type"] == "hello"
    await comm.disconnect()


async def test_revoking_the_token_closes_its_socket(tworld):
    token, plaintext = await make_token(tworld.officer_al, tworld.op)
    comm = token_socket(ROOMS, plaintext)
    await opened(comm)
    await sync_to_async(api_token_revoke)(token=token, actor=tworld.officer_al)
    output = await comm.receive_output(timeout=3)
    while output["type"] != "websocket.close":
        output = await comm.receive_output(timeout=3)
    assert output["code"] == 4401


@pytest.mark.parametrize(
    "change",
    [
        {"revoked_at": timezone.now()},
        {"expires_at": timezone.now() - dt.timedelta(seconds=1)},
    ],
    ids=["revoked", "expired"],
)
async def test_next_frame_after_revocation_or_expiry_is_refused(tworld, change):
    # Written behind the service's back (no live event): the next frame finds out.
    token, plaintext = await make_token(tworld.officer_al, tworld.op)
    comm = token_socket("/ws/ping/", plaintext)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_json_to({"type": "ping", "ref": "1"})
    assert (await comm.receive_json_from())["type"] == "pong"
    await sync_to_async(ApiToken.objects.filter(pk=token.pk).update)(**change)
    await comm.send_json_to({"type": "ping", "ref": "2"})
    output = await comm.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": 4401}


async def test_next_frame_after_the_user_is_deactivated_is_refused(tworld):
    _, plaintext = await make_token(tworld.officer_al, tworld.op)
    comm = token_socket("/ws/ping/", plaintext)
    assert (await comm.connect())[0]
    await sync_to_async(get_user_model().objects.filter(pk=tworld.officer_al.pk).update)(is_active=False)
    await comm.send_json_to({"type": "ping"})
    assert (await comm.receive_output(timeout=3))["code"] == 4401


async def test_a_listening_socket_closes_when_its_token_expires(tworld):
    token, plaintext = await make_token(tworld.officer_al, tworld.op)
    await sync_to_async(ApiToken.objects.filter(pk=token.pk).update)(
        expires_at=timezone.now() + dt.timedelta(seconds=1)
    )
    comm = token_socket("/ws/ping/", plaintext)
    assert (await comm.connect())[0]
    output = await comm.receive_output(timeout=4)
    assert output == {"type": "websocket.close", "code": 4401}
