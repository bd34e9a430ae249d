"""Attacks on sign-in and sessions, and cross-site WebSocket hijacking, on every page, endpoint and socket.

tests/cencomm/test_signin.py already proves one-address lock-out, TOTP replay across sessions, backup
codes used once and sign-out for a page and one endpoint; this file widens those to every route.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from tests.conftest import PASSWORD, totp_code, verified_client, ws_communicator
from tests.security.conftest import fill, openapi_operations, page_routes, path_values, socket_routes


def password_step(client: Client, username: str, password: str = PASSWORD, address: str = "127.0.0.1") -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_guessing_from_many_addresses_still_locks_the_account(world):
    for n in range(5):
        password_step(Client(), "officer-durres", f"guess {n}", address=f"198.51.100.{n + 1}")
    client = Client()
    response = password_step(client, "officer-durres", address="203.0.113.9")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # The lock is on that account only: a colleague at the same border post still signs in.
    assert password_step(Client(), "officer-bari", address="203.0.113.9").status_code == 302


@pytest.mark.django_db
def test_lockout_does_not_reveal_whether_a_user_name_exists(world):
    for name in ("officer-durres", "nobody-by-this-name"):
        for _ in range(5):
            password_step(Client(), name, "guess")
    real, invented = (password_step(Client(), n, "guess") for n in ("officer-durres", "nobody-by-this-name"))
    assert real.status_code == invented.status_code == 429

    def page(response: Any, name: str) -> bytes:  # the same page, but for the name typed and the CSRF token
        return re.sub(
            rb'(content|value)="[A-Za-z0-9]{64}"', b"", response.content.replace(name.encode(), b"")
        )

    assert page(real, "officer-durres") == page(invented, "nobody-by-this-name")


@pytest.mark.django_db
def test_a_totp_code_cannot_be_replayed_in_the_same_step_after_sign_out(world):
    client = Client()
    password_step(client, "coordinator")
    code = totp_code(world.coordinator)
    assert client.post("/accounts/verify/", {"code": code}).status_code == 302
    client.post("/accounts/logout/")
    password_step(client, "coordinator")
    assert client.post("/accounts/verify/", {"code": code}).status_code == 400
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_a_used_backup_code_does_not_open_a_second_session(world):
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    device = StaticDevice.objects.create(user=world.coordinator, name="backup", confirmed=True)
    StaticToken.objects.create(device=device, token="bkup1234")
    first = Client()
    password_step(first, "coordinator")
    assert first.post("/accounts/verify/", {"code": "bkup1234"}).status_code == 302
    assert not StaticToken.objects.filter(device=device).exists()
    second = Client()
    password_step(second, "coordinator")
    assert second.post("/accounts/verify/", {"code": "bkup1234"}).status_code == 400
    assert second.get("/api/v1/operations").status_code == 401


def password_only_client(username: str) -> Client:
    client = Client()
    assert password_step(client, username).status_code == 302
    return client


OPERATION_PAGES = page_routes()


@pytest.mark.django_db
def test_a_password_only_session_reaches_no_page(world):
    client = password_only_client("coordinator")
    for route in OPERATION_PAGES:
        response = client.get(fill(route, path_values(None)))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/verify/"), route


@pytest.mark.django_db
@pytest.mark.parametrize("stolen_after", ["password_only", "sign_out"])
def test_a_session_without_both_factors_reaches_no_api_endpoint(world, stolen_after):
    if stolen_after == "password_only":
        client = password_only_client("coordinator")
    else:
        owner = verified_client(world.coordinator)
        assert owner.get("/api/v1/operations").status_code == 200
        client = Client()
        client.cookies["sessionid"] = owner.cookies["sessionid"].value
        owner.post("/accounts/logout/")
    for method, template, _ in openapi_operations():
        path = "/api/v1" + fill(template, path_values(None))
        if method == "GET":
            response = client.get(path)
        else:
            response = getattr(client, method.lower())(path, "{}", content_type="application/json")
        assert response.status_code == 401, (method, template, response.status_code)


@pytest.mark.django_db
def test_a_stolen_cookie_reaches_no_page_after_sign_out(world):
    owner = verified_client(world.coordinator)
    thief = Client()
    thief.cookies["sessionid"] = owner.cookies["sessionid"].value
    assert thief.get("/operations/TEST-OP/").status_code == 200  # the cookie works while the session lives
    owner.post("/accounts/logout/")
    for route in OPERATION_PAGES:
        response = thief.get(fill(route, path_values(None)))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), route


async def connects(path: str, client: Client | None, origin: str | None = "http://testserver") -> bool:
    communicator = ws_communicator(path, client=client, origin=origin)
    connected, _ = await communicator.connect()
    if not connected:
        return False  # refused: the application has already finished
    if not await communicator.receive_nothing(timeout=0.2):
        output = await communicator.receive_output(timeout=2)
        connected = output["type"] != "websocket.close"
    await communicator.disconnect()
    return connected


SOCKETS = [fill(r, {"code": "TEST-OP"}) for r in socket_routes()]


@pytest.mark.django_db(transaction=True)
async def test_a_password_only_session_opens_no_socket(tworld):
    client = await sync_to_async(password_only_client)("coordinator")
    for path in SOCKETS:
        assert not await connects(path, client), path
    # ...while the same user with both factors opens all of them.
    verified = await sync_to_async(verified_client)(tworld.coordinator)
    for path in SOCKETS:
        assert await connects(path, verified), path


@pytest.mark.django_db(transaction=True)
async def test_a_stolen_cookie_opens_no_socket_after_sign_out(tworld):
    owner = await sync_to_async(verified_client)(tworld.coordinator)
    thief = Client()
    thief.cookies["sessionid"] = owner.cookies["sessionid"].value
    assert await connects(SOCKETS[0], thief)
    await sync_to_async(owner.post)("/accounts/logout/")
    for path in SOCKETS:
        assert not await connects(path, thief), path


HOSTILE_ORIGINS = [
    None,  # no Origin header at all
    "null",  # sandboxed iframes, file: pages
    "http://evil.example",
    "https://testserver",  # wrong scheme
    "ws://testserver",  # wrong scheme
    "http://testserver:8080",  # wrong port
    "http://testserver.evil.example",  # suffix trick
    "http://evil.example/http://testserver",
    "http://testserver@evil.example",
    "http://TESTSERVER.evil.example",
    "http://testserver, http://evil.example",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", SOCKETS)
async def test_cross_site_websocket_hijacking_is_refused_on_every_socket(tworld, path):
    client = await sync_to_async(verified_client)(tworld.coordinator)
    assert await connects(path, client, "http://testserver")  # the page's own origin works
    for origin in HOSTILE_ORIGINS:
        assert not await connects(path, client, origin), origin


@pytest.mark.django_db
def test_cross_site_form_posts_are_refused(world):
    """A page elsewhere cannot make a signed-in coordinator's browser change the operation or sign out."""
    client = verified_client(world.coordinator, enforce_csrf=True)
    assert client.post("/operations/TEST-OP/transition/", {"to_state": "follow_up"}).status_code == 403
    world.op.refresh_from_db()
    assert world.op.state == "active"
    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/operations/TEST-OP/").status_code == 200


@pytest.mark.django_db
def test_pages_cannot_be_framed_sniffed_or_leak_their_address(world):
    client = Client()
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    password_step(client, "coordinator")
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
