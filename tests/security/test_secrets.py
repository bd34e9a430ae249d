"""No plaintext of messages or sensitive fields in the database, the channel layer, the logs or error pages.

The production refusals and ``check --deploy`` are proved in tests/cencomm/test_settings.py.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import uuid
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import Client
from django.utils import timezone

from tests.conftest import verified_client, ws_communicator
from tests.security.conftest import SECRET_MESSAGE, SECRET_NOTE, api_json, dump_database, seed_operation

SECRETS = [SECRET_NOTE, SECRET_MESSAGE, "MSCU7654321", "Mr Secretname", "SECRET-ATTACHMENT-NAME"]


def png_with_name() -> io.BytesIO:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "SECRET-ATTACHMENT-NAME.png"
    return buffer


def traffic(w: SimpleNamespace, seed: SimpleNamespace) -> None:
    """Edits, an attachment, a correction: every path that writes sensitive text."""
    officer = verified_client(w.officer_al)
    base = "/api/v1/operations/TEST-OP"
    if hasattr(seed, "room_id"):
        upload = officer.post(f"{base}/rooms/{seed.room_id}/attachments", {"file": png_with_name()})
        assert upload.status_code == 201, upload.content
        posted = api_json(
            officer,
            "POST",
            f"{base}/rooms/{seed.room_id}/messages",
            {
                "client_id": str(uuid.uuid4()),
                "text": f"second {SECRET_MESSAGE}",
                "attachments": [upload.json()["id"]],
            },
        )
        assert posted.status_code == 201, posted.content
        edited = api_json(
            officer, "PATCH", f"{base}/messages/{seed.message_id}", {"text": f"edited {SECRET_MESSAGE}"}
        )
        assert edited.status_code == 200, edited.content
    corrected = api_json(
        officer,
        "POST",
        f"{base}/results/{seed.result_uuid}/corrections",
        {
            "inspected_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "origin": "CN",
            "outcome": "seized",
            "reason": "typo",
            "lines": [{"category": "medicines", "quantity": 5, "unit": "pieces", "brand": "Mr Secretname"}],
            "notes": f"corrected {SECRET_NOTE}",
        },
    )
    assert corrected.status_code == 201, corrected.content


def restricted_report(w: SimpleNamespace) -> bytes:
    """A restricted report for Albania's national contact point, stored in the database like every report."""
    from reports.selectors import Audience, report_content
    from reports.services import report_generate_now

    membership = w.op.memberships.get(user=w.ncp_al)
    report = report_generate_now(
        operation=w.op,
        audience=Audience.of(membership),
        edition="restricted",
        format="csv",
        requested_by=w.ncp_al,
    )
    assert report.state == "done", report.error
    return report_content(report)


@pytest.mark.django_db
def test_no_plaintext_in_any_table(world):
    seed = seed_operation(world)
    traffic(world, seed)
    report = restricted_report(world)
    dump = dump_database()
    assert len(dump) > 10_000
    for secret in SECRETS:
        assert secret.encode() not in dump, f"{secret!r} is stored in plaintext"
        assert secret.encode("utf-16-le") not in dump
    assert SECRET_NOTE.split()[0] in _zip_text(report)  # the stored report carries the note, sealed
    # ...and the members still read it all back (it is sealed, not lost).
    page = verified_client(world.officer_al).get(f"/api/v1/operations/TEST-OP/results/{seed.result_uuid}")
    assert SECRET_NOTE in page.content.decode()


@pytest.mark.django_db
def test_no_plaintext_in_the_logs(world, caplog):
    caplog.set_level(logging.DEBUG)
    seed = seed_operation(world)
    traffic(world, seed)
    Client().post("/accounts/login/", {"username": "officer-durres", "password": SECRET_NOTE})
    text = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} reached the logs"


@pytest.mark.django_db
def test_error_pages_show_nothing(world, settings, monkeypatch):
    assert settings.DEBUG is False
    client = verified_client(world.coordinator)
    client.raise_request_exception = False
    not_found = client.get(f"/operations/{SECRET_MESSAGE.split()[0]}/")
    assert not_found.status_code == 404 and SECRET_MESSAGE.split()[0].encode() not in not_found.content

    from operations import selectors

    def explode(*args, **kwargs):
        raise RuntimeError(f"database said: {SECRET_NOTE}")

    monkeypatch.setattr(selectors, "operations_for", explode)
    for path in ("/", "/api/v1/operations"):
        response = client.get(path)
        assert response.status_code == 500
        for leak in (SECRET_NOTE, "Traceback", "RuntimeError", "settings", "SECRET_KEY", "/work/"):
            assert leak.encode() not in response.content, (path, leak)


# --- the channel layer in Redis ------------------------------------------------------------------


@pytest.fixture
def redis_layer(settings):
    """The app's channel layer on the shared Redis, under a prefix of this test's own."""
    from channels.layers import channel_layers

    prefix = f"sectest{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ["REDIS_URL"]], "prefix": prefix},
        }
    }
    channel_layers.backends.clear()
    yield prefix
    channel_layers.backends.clear()


def redis_contents(prefix: str) -> bytes:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    out = []
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        out.append(key)
        kind = client.type(key)
        if kind == b"string":
            out.append(client.get(key) or b"")
        elif kind == b"zset":
            out += [m for m, _ in client.zrange(key, 0, -1, withscores=True)]
        elif kind == b"list":
            out += client.lrange(key, 0, -1)
        elif kind == b"hash":
            out += [k + b"=" + v for k, v in client.hgetall(key).items()]
        elif kind == b"set":
            out += list(client.smembers(key))
    client.delete(*[k for k in client.scan_iter(match=f"{prefix}*")] or [f"{prefix}:none"])
    return b"\n".join(out)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_no_plaintext_in_the_channel_layer(tworld, redis_layer):
    from channels.layers import get_channel_layer

    from cencomm.live import board_group, room_group

    seed = seed_operation(tworld)
    layer = get_channel_layer()
    # A member that never reads keeps every event in Redis for us to inspect.
    for group in (
        room_group(getattr(seed, "room_id", 0)),
        board_group(tworld.op.pk),
        f"user.{tworld.officer_al.pk}",
    ):
        async_to_sync(layer.group_add)(group, "specific.never-reads!x")

    async def live_socket() -> None:
        client = await sync_to_async(verified_client)(tworld.coordinator)
        communicator = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
        assert (await communicator.connect())[0]
        await sync_to_async(traffic)(tworld, seed)
        await communicator.disconnect()

    async_to_sync(live_socket)()
    contents = redis_contents(redis_layer)
    assert b"room" in contents or b"board" in contents, "events should have reached Redis"
    for secret in SECRETS:
        assert secret.encode() not in contents, f"{secret!r} went through Redis"


@pytest.mark.django_db
def test_no_plaintext_in_a_backup(world):
    """``manage.py dumpdata``, the application-level backup, carries the sealed bytes only."""
    from django.core.management import call_command

    seed = seed_operation(world)
    traffic(world, seed)
    restricted_report(world)
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    backup = out.getvalue()
    assert len(backup) > 10_000 and "messaging.message" in backup
    for secret in SECRETS:
        assert secret not in backup, f"{secret!r} is in the backup"


def _zip_text(content: bytes) -> str:
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(content))
    return "".join(archive.read(n).decode("utf-8-sig") for n in archive.namelist())
