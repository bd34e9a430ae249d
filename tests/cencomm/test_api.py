"""The API: bearer tokens scoped to one operation, verified sessions, 404 for outsiders."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from cencomm.models import ApiToken
from operations.services import api_token_create
from tests.conftest import PASSWORD, bearer, verified_client

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_served(world):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/operations" in response.json()["paths"]


def test_member_lists_own_operations_with_administrations_and_entry_points(world):
    response = verified_client(world.officer_al).get("/api/v1/operations")
    assert response.status_code == 200
    [operation] = response.json()
    assert operation["code"] == "TEST-OP" and operation["state"] == "active"
    entry_points = {ep["name"] for a in operation["administrations"] for ep in a["entry_points"]}
    assert entry_points == {"Port of Durrës", "Port of Bari"}
    assert operation["my_membership"]["role"] == "officer"


def test_outsider_gets_not_found_like_a_missing_operation(world):
    client = verified_client(world.outsider)
    assert client.get("/api/v1/operations").json() == []
    missing = client.get("/api/v1/operations/NO-SUCH")
    hidden = client.get("/api/v1/operations/TEST-OP")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert verified_client(world.officer_other).get("/api/v1/operations/TEST-OP").status_code == 404


def test_password_only_session_cannot_use_the_api(world):
    client = Client()
    client.post("/accounts/login/", {"username": "coordinator", "password": PASSWORD})
    assert client.get("/api/v1/operations").status_code == 401


def test_token_is_created_once_hashed_and_works_as_bearer(world):
    client = verified_client(world.coordinator)
    response = client.post(
        "/api/v1/tokens",
        {"operation": "TEST-OP", "name": "exporter", "days": 7},
        content_type="application/json",
    )
    assert response.status_code == 201
    plaintext = response.json()["token"]
    stored = ApiToken.objects.get()
    assert plaintext not in (stored.digest, stored.prefix) and stored.digest != plaintext
    assert "token" not in client.get("/api/v1/tokens").json()[0]
    api = Client()
    assert api.get("/api/v1/operations/TEST-OP", **bearer(plaintext)).status_code == 200


def test_token_is_scoped_to_its_operation(world):
    from operations.services import membership_add

    membership_add(operation=world.other, user=world.coordinator, role="coordinator", actor=None)
    _, plaintext = api_token_create(user=world.coordinator, operation=world.op, name="t", days=1)
    api = Client()
    assert [o["code"] for o in api.get("/api/v1/operations", **bearer(plaintext)).json()] == ["TEST-OP"]
    assert api.get("/api/v1/operations/OTHER-OP", **bearer(plaintext)).status_code == 404


def test_expired_and_revoked_tokens_are_refused(world):
    token, plaintext = api_token_create(user=world.officer_al, operation=world.op, name="t", days=1)
    api = Client()
    assert api.get("/api/v1/operations", **bearer(plaintext)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert api.get("/api/v1/operations", **bearer(plaintext)).status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + dt.timedelta(days=1))
    response = verified_client(world.officer_al).delete(f"/api/v1/tokens/{token.pk}")
    assert response.status_code == 204
    assert api.get("/api/v1/operations", **bearer(plaintext)).status_code == 401
    assert api.get("/api/v1/operations", **bearer("cct_not-a-token")).status_code == 401


def test_a_token_cannot_make_more_tokens(world):
    _, plaintext = api_token_create(user=world.coordinator, operation=world.op, name="t", days=1)
    response = Client().post(
        "/api/v1/tokens",
        {"operation": "TEST-OP", "name": "x"},
        content_type="application/json",
        **bearer(plaintext),
    )
    assert response.status_code == 401
    assert ApiToken.objects.count() == 1


def test_token_for_an_operation_one_does_not_belong_to_is_not_found(world):
    response = verified_client(world.outsider).post(
        "/api/v1/tokens", {"operation": "TEST-OP", "name": "x"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert ApiToken.objects.count() == 0


def test_bad_token_input_gets_field_errors(world):
    response = verified_client(world.coordinator).post(
        "/api/v1/tokens", {"operation": "TEST-OP", "name": "", "days": 9999}, content_type="application/json"
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"name", "days"}
    assert ApiToken.objects.count() == 0


def test_session_writes_need_the_csrf_token(world):
    client = verified_client(world.coordinator, enforce_csrf=True)
    response = client.post(
        "/api/v1/tokens", {"operation": "TEST-OP", "name": "x"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert ApiToken.objects.count() == 0


def test_tokens_page_shows_a_new_token_once(world):
    client = verified_client(world.coordinator)
    page = client.post("/accounts/tokens/", {"operation": "TEST-OP", "name": "cli", "days": "5"})
    assert page.status_code == 200
    token = ApiToken.objects.get()
    assert b"cct_" in page.content and token.prefix.encode() in page.content
    assert b"cct_" not in client.get("/accounts/tokens/").content.replace(token.prefix.encode(), b"")
