"""The admin shows audited records but cannot change them; membership changes go through services."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from cencomm.models import AuditEvent
from operations.models import Membership
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(world) -> Client:
    user = get_user_model().objects.create_superuser("admin", password="x" * 16)
    TOTPDevice.objects.create(user=user, name="a", confirmed=True)
    return verified_client(user)


@pytest.mark.parametrize(
    "path", ["/admin/cencomm/auditevent/", "/admin/results/result/", "/admin/messaging/message/"]
)
def test_audited_records_are_listed_but_cannot_be_added(staff, path):
    assert staff.get(path).status_code == 200
    assert staff.get(path + "add/").status_code == 403


def test_removing_a_membership_in_the_admin_is_audited(staff, world):
    membership = Membership.objects.get(user=world.officer_al)
    response = staff.post(f"/admin/operations/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.remove", operation=world.op).exists()


def test_admin_needs_the_second_factor_too(world):
    user = get_user_model().objects.create_superuser("admin2", password="x" * 16)
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
    assert DEVICE_ID_SESSION_KEY not in client.session
