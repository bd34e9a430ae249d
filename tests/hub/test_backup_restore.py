"""Backup and restore as docs/deploy.md tells it: pg_dump the database, restore it into a new one, and
the restored hub checks its chains and opens its sealed contents with the master key (kept apart
from the dump), and opens nothing with another key.

Everything after the dump runs as ``manage.py`` in a fresh process against the restored database,
as an operator would run it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from messaging.services import rooms_ensure
from tests.world import post_result, send_message

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SECRET_TEXTS = ["Container MSCU1234567 held at gate 3.", "Reefer from Shenzhen: scanner image attached."]
SECRET_NOTE = "Driver named Mr Examplename, tip from the port police."

# Run in the restored hub: open every sealed message and every result's sealed notes.
OPEN_EVERYTHING = """
import json
from cencomm.crypto import DecryptionError
from messaging.models import Message
from messaging.sealing import open_message
from results.models import ResultVersion
from results.sealing import sealed_fields
opened, failed = [], 0
for message in Message.objects.order_by("room_id", "seq"):
    try:
        opened.append(open_message(message))
    except DecryptionError:
        failed += 1
for version in ResultVersion.objects.order_by("pk"):
    try:
        opened.append(sealed_fields(version)["notes"])
    except DecryptionError:
        failed += 1
print(json.dumps({"opened": opened, "failed": failed}))
"""


def pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ, PGHOST=db["HOST"] or "127.0.0.1", PGPORT=str(db["PORT"] or 5432))
    env["PGUSER"] = db["USER"] or "postgres"
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER'] or 'postgres'}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def manage(*args: str, database: str, master_key: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CENCOMM_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=database_url(database),
        CENCOMM_MASTER_KEY=master_key,
        CENCOMM_VAR_DIR=str(tmp_path / "var"),  # none of the test run's demo secrets
        CENCOMM_CHANNEL_PREFIX=os.environ.get("CENCOMM_CHANNEL_PREFIX", "restore") + "-restore",
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def restored(tworld: Any, tmp_path: Path) -> Any:
    """The test database, with rooms, messages and a result, dumped and restored into a new database."""
    rooms_ensure(operation=tworld.op)
    for text in SECRET_TEXTS:
        send_message(tworld, tworld.coordinator, text)
    post_result(
        tworld,
        tworld.officer_al,
        tworld.durres,
        str(uuid.uuid4()),
        lines=[("medicines", 500, "")],
        notes=SECRET_NOTE,
    )
    dump = tmp_path / "hub.dump"
    env = pg_env()
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), connection.settings_dict["NAME"]],
        env=env,
        check=True,
        capture_output=True,
    )
    assert SECRET_TEXTS[0].encode() not in dump.read_bytes()  # the dump holds ciphertext only
    name = f"restore_test_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", name], env=env, check=True, capture_output=True)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", name, str(dump)],
            env=env,
            check=True,
            capture_output=True,
        )
        yield name
    finally:
        subprocess.run(["dropdb", "--if-exists", name], env=env, check=True, capture_output=True)


def test_restored_database_verifies_and_opens_with_the_master_key(restored, tmp_path):
    key = settings.CENCOMM_MASTER_KEY
    checked = manage("verify_chain", "TEST-OP", database=restored, master_key=key, tmp_path=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "TEST-OP: results chain OK, 1 entries" in checked.stdout
    audit = manage(
        "export_audit", "TEST-OP", "--output", "-", database=restored, master_key=key, tmp_path=tmp_path
    )
    assert audit.returncode == 0, audit.stderr
    assert any(json.loads(line)["action"] == "result.post" for line in audit.stdout.splitlines())

    opened = manage("shell", "-c", OPEN_EVERYTHING, database=restored, master_key=key, tmp_path=tmp_path)
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout.strip().splitlines()[-1]) == {
        "opened": [*SECRET_TEXTS, SECRET_NOTE],
        "failed": 0,
    }


def test_restored_database_opens_nothing_with_another_master_key(restored, tmp_path):
    other = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    opened = manage("shell", "-c", OPEN_EVERYTHING, database=restored, master_key=other, tmp_path=tmp_path)
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout.strip().splitlines()[-1]) == {"opened": [], "failed": 3}
