"""Loading an operation from a file, and the Balkan Gate demo set-up."""

import json

import pytest
from django.core.management import CommandError, call_command

from cencomm.models import ApiToken, AuditEvent
from hub.demo import demo_setup
from operations.models import EntryPoint, Membership, Operation

pytestmark = pytest.mark.django_db

FIXTURE = "operations/fixtures/balkan-gate.yaml"


def test_balkan_gate_loads_with_ten_administrations_and_entry_points():
    call_command("load_operation", FIXTURE)
    operation = Operation.objects.get(code="BALKAN-GATE")
    assert operation.participations.count() == 10
    assert EntryPoint.objects.count() == 10
    countries = set(operation.administrations.values_list("country", flat=True))
    assert countries == {"AL", "BA", "BG", "HR", "GR", "IT", "MK", "ME", "RO", "RS"}
    assert EntryPoint.objects.get(unlocode="ALDRZ").time_zone == "Europe/Tirane"
    assert operation.state == "active"


def test_loading_twice_changes_nothing():
    call_command("load_operation", FIXTURE)
    counts = (Operation.objects.count(), EntryPoint.objects.count(), AuditEvent.objects.count())
    call_command("load_operation", FIXTURE)
    assert (Operation.objects.count(), EntryPoint.objects.count(), AuditEvent.objects.count()) == counts


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code: X\n", "name"),
        ("[1, 2]", "mapping"),
        ("{not yaml", "not valid YAML"),
        (
            "code: BAD-TZ\nname: n\nwindow_start: '2025-01-01T00:00:00Z'\nwindow_end: '2025-01-08T00:00:00Z'\n"
            "administrations: [{country: AL, name: A, entry_points: [{name: P, kind: seaport, time_zone: Mars/Base}]}]\n",
            "time zone",
        ),
        (
            "code: BAD-WIN\nname: n\nwindow_start: '2025-01-08T00:00:00Z'\nwindow_end: '2025-01-01T00:00:00Z'\nadministrations: []\n",
            "window",
        ),
        (
            "code: BAD-C\nname: n\nwindow_start: '2025-01-01T00:00:00Z'\nwindow_end: '2025-01-08T00:00:00Z'\n"
            "administrations: [{country: QQ, name: A}]\n",
            "country",
        ),
    ],
)
def test_a_bad_file_is_refused_with_a_message_and_stores_nothing(tmp_path, content, message):
    path = tmp_path / "op.yaml"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("load_operation", str(path))
    assert Operation.objects.count() == 0


def test_json_files_load_too(tmp_path):
    path = tmp_path / "op.json"
    path.write_text(
        json.dumps(
            {
                "code": "JSON-OP",
                "name": "J",
                "window_start": "2025-01-01T00:00:00Z",
                "window_end": "2025-01-08T00:00:00Z",
                "administrations": [{"country": "HR", "name": "Croatia"}],
            }
        )
    )
    call_command("load_operation", str(path))
    assert Operation.objects.get(code="JSON-OP").state == "planned"


def test_demo_setup_is_idempotent_and_writes_credentials(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    operation, path = demo_setup()
    data = json.loads(path.read_text())
    assert data["operation"] == "BALKAN-GATE" and operation.state == "active"
    roles = [u["role"] for u in data["users"]]
    assert roles.count("officer") == 10 and roles.count("ncp") == 10
    assert {"coordinator", "observer"} <= set(roles)
    for user in data["users"]:
        if user["role"] == "right_holder":  # outside the operation: no place in it, no API token
            assert set(user) == {"username", "password", "totp_secret", "role", "right_holder"}
            continue
        assert set(user) == {
            "username",
            "password",
            "totp_secret",
            "role",
            "administration",
            "entry_point",
            "api_token",
        }
    counts = (Membership.objects.count(), ApiToken.objects.count(), AuditEvent.objects.count())
    demo_setup()
    assert json.loads(path.read_text()) == data
    assert (Membership.objects.count(), ApiToken.objects.count(), AuditEvent.objects.count()) == counts
