"""Encryption at rest: no text in the database, ciphertexts bound to their rows, keys rotated."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from cencomm.crypto import DecryptionError, key_cache
from messaging import rendering, services
from messaging.models import Message, MessageVersion, Room
from messaging.rendering import render_cache
from messaging.sealing import room_data_key
from operations.models import Membership

pytestmark = pytest.mark.django_db

SECRET = "Container MSKU-7731 holds falsified sildenafil"


def post(world, user, text, **extra):
    membership = Membership.objects.get(user=user, operation=world.op)
    room = services.rooms_ensure(operation=world.op)[0]
    return services.message_post(
        membership=membership, room=room, client_id=uuid.uuid4(), text=text, **extra
    )[0]


def read_all(room: Room) -> list[str]:
    render_cache.clear()
    key_cache.clear()
    return [m["text"] for m in rendering.render_messages(room, list(room.messages.order_by("seq")))]


def test_raw_database_holds_no_message_text(world):
    post(world, world.coordinator, SECRET)
    edited = post(world, world.officer_al, "first words about sildenafil")
    services.message_edit(
        membership=Membership.objects.get(user=world.officer_al, operation=world.op),
        message=edited,
        text="second words about sildenafil",
    )
    dump = bytearray()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the schema
            for row in cursor.fetchall():
                for value in row:  # bytea comes back as memoryview/bytes: search the raw bytes
                    dump += bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    dump += b"\n"
    assert Message.objects.count() == 2
    for needle in ("MSKU-7731", "sildenafil", "first words", "second words"):
        assert needle.encode() not in dump
    # The dump really holds the message rows: their sealed bodies are in it.
    assert all(bytes(m.body) in dump for m in Message.objects.all())


def test_ciphertext_moved_to_another_row_does_not_decrypt(world):
    secret = post(world, world.coordinator, SECRET)
    other = post(world, world.coordinator, "harmless")
    Message.objects.filter(pk=other.pk).update(body=secret.body)
    other.refresh_from_db()
    render_cache.clear()
    with pytest.raises(DecryptionError):
        rendering.message_text(other)
    # Nor does an older version's ciphertext presented as the current one.
    services.message_edit(
        membership=Membership.objects.get(user=world.coordinator, operation=world.op),
        message=secret,
        text="corrected",
    )
    secret.refresh_from_db()
    v1 = MessageVersion.objects.get(message=secret, version=1)
    Message.objects.filter(pk=secret.pk).update(body=v1.body)
    secret.refresh_from_db()
    with pytest.raises(DecryptionError):
        rendering.message_text(secret)


def test_after_room_key_rotation_and_master_rewrap_everything_decrypts(world, settings, tmp_path):
    room = services.rooms_ensure(operation=world.op)[0]
    for n in range(3):
        post(world, world.coordinator, f"{SECRET} #{n}")
    before = read_all(room)
    first_key = room_data_key(room)

    out = StringIO()
    call_command("rotate_room_key", "--room", str(room.pk), stdout=out)
    assert "3 records re-sealed" in out.getvalue()
    new_key = room_data_key(room)
    assert new_key.version == first_key.version + 1
    assert all(
        int.from_bytes(bytes(v.body)[2:10], "big") == new_key.pk
        for v in MessageVersion.objects.filter(message__room=room)
    )
    assert read_all(room) == before
    post(world, world.coordinator, "after rotation")

    old_master = settings.CENCOMM_MASTER_KEY
    call_command("rewrap_master_key", "--generate", str(tmp_path / "new.key"), stdout=StringIO())
    settings.CENCOMM_MASTER_KEY = (tmp_path / "new.key").read_text()
    settings.CENCOMM_PREVIOUS_MASTER_KEYS = []
    assert read_all(room) == [*before, "after rotation"]
    # The old master key alone no longer opens anything: the data keys really were re-wrapped.
    settings.CENCOMM_MASTER_KEY = old_master
    with pytest.raises(DecryptionError):
        read_all(room)
