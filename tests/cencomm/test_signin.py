"""Two-factor sign-in through the real pages."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD, make_user, totp_code, verified_client

pytestmark = pytest.mark.django_db


def password_step(client: Client, username: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_password_then_totp_reaches_operations(world):
    client = Client()
    response = password_step(client, "officer-durres")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/verify/")
    assert client.get("/").status_code == 302  # password alone opens nothing
    response = client.post("/accounts/verify/", {"code": totp_code(world.officer_al)})
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert b"Operation Test Gate" in page.content
    assert b"Operation Elsewhere" not in page.content


def test_wrong_password_is_refused_without_detail(world):
    client = Client()
    response = password_step(client, "officer-durres", "not the password")
    assert response.status_code == 400
    assert b"Wrong user name or password" in response.content
    assert "_auth_user_id" not in client.session


def test_repeated_password_failures_lock_the_account(world):
    client = Client()
    for _ in range(5):
        password_step(client, "officer-durres", "guess")
    response = password_step(client, "officer-durres")  # even the right password, while locked
    assert response.status_code == 429
    assert b"locked" in response.content
    assert "_auth_user_id" not in client.session


def test_totp_code_cannot_be_used_twice(world):
    code = totp_code(world.officer_al)
    first = Client()
    password_step(first, "officer-durres")
    assert first.post("/accounts/verify/", {"code": code}).status_code == 302
    second = Client()
    password_step(second, "officer-durres")
    response = second.post("/accounts/verify/", {"code": code})
    assert response.status_code == 400
    assert second.get("/").status_code == 302


def test_wrong_totp_codes_lock_the_second_step(world):
    client = Client()
    password_step(client, "officer-durres")
    for _ in range(5):
        client.post("/accounts/verify/", {"code": "000000"})
        device = TOTPDevice.objects.get(user=world.officer_al)
        device.throttling_failure_timestamp = timezone.now() - dt.timedelta(minutes=5)  # past the delay
        device.save()
    response = client.post("/accounts/verify/", {"code": totp_code(world.officer_al)})
    assert response.status_code == 429
    assert client.get("/").status_code == 302
    # Says so, like the password lock-out: locked, for how long, and whom to ask.
    page = response.content.decode()
    assert "Too many wrong codes: this account is locked for 10 min." in page
    assert "That code is wrong" not in page
    assert "tell your operation's coordinator" in page


def test_enrolment_shows_qr_confirms_and_gives_single_use_backup_codes(db):
    make_user("newcomer", with_device=False)
    client = Client()
    response = password_step(client, "newcomer")
    assert response["Location"].startswith("/accounts/enroll/")
    page = client.get("/accounts/enroll/")
    assert b"<svg" in page.content and b"totp-secret" in page.content
    device = TOTPDevice.objects.get(user__username="newcomer", confirmed=False)
    assert client.post("/accounts/enroll/", {"code": "000000"}).status_code == 400
    device.confirmed = True  # so the helper can compute the code
    device.save()
    code = totp_code(device.user)
    device.confirmed = False
    device.save()
    response = client.post("/accounts/enroll/", {"code": code})
    assert response.status_code == 200
    codes = list(
        StaticToken.objects.filter(device__user__username="newcomer").values_list("token", flat=True)
    )
    assert len(codes) == 10
    assert all(c.encode() in response.content for c in codes)
    assert client.get("/").status_code == 200

    # A backup code signs in once.
    other = Client()
    password_step(other, "newcomer")
    assert other.post("/accounts/verify/", {"code": codes[0]}).status_code == 302
    again = Client()
    password_step(again, "newcomer")
    assert again.post("/accounts/verify/", {"code": codes[0]}).status_code == 400


def test_sign_out_ends_the_session(world):
    client = verified_client(world.coordinator)
    assert client.get("/").status_code == 200
    stolen = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    thief = Client()
    thief.cookies["sessionid"] = stolen
    assert thief.get("/").status_code == 302
    assert thief.get("/api/v1/operations").status_code == 401


def test_session_key_rotates_at_sign_in(world):
    client = Client()
    client.get("/accounts/login/")
    password_step(client, "coordinator")
    before = client.session.session_key
    client.post("/accounts/verify/", {"code": totp_code(world.coordinator)})
    assert client.session.session_key != before


def test_open_redirect_after_sign_in_is_refused(world):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "coordinator", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert "evil" not in response["Location"]


def test_operation_of_another_operation_is_not_found(world):
    client = verified_client(world.officer_other)
    assert client.get("/operations/TEST-OP/").status_code == 404
    assert client.get("/operations/NO-SUCH-OP/").status_code == 404
    assert client.get("/operations/OTHER-OP/").status_code == 200


def test_operation_page_shows_window_administrations_and_entry_points(world):
    page = verified_client(world.officer_al).get("/operations/TEST-OP/")
    assert page.status_code == 200
    for text in (
        "Operation Test Gate",
        "Port of Durrës",
        "Port of Bari",
        "Albanian Customs",
        "Active",
        "Europe/Tirane",
    ):
        assert text.encode() in page.content
