"""Hostile attachments: wrong type, a file lying about its type, oversized, a decompression bomb."""

from __future__ import annotations

import io
import resource
import time
from types import SimpleNamespace

import pytest

from tests.conftest import verified_client
from tests.security.conftest import seed_operation

pytestmark = pytest.mark.django_db


def upload(name: str, data: bytes, content_type: str = "image/png") -> io.BytesIO:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def png(size: tuple[int, int] = (16, 16), mode: str = "RGB") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@pytest.fixture
def room(world: SimpleNamespace) -> SimpleNamespace:
    seed = seed_operation(world)
    if not hasattr(seed, "room_id"):
        pytest.skip("rooms not built")
    from messaging.models import Attachment

    return SimpleNamespace(
        path=f"/api/v1/operations/TEST-OP/rooms/{seed.room_id}/attachments",
        client=verified_client(world.officer_al),
        count=Attachment.objects.count,
    )


def post(room: SimpleNamespace, file: io.BytesIO):  # noqa: ANN201
    return room.client.post(room.path, {"file": file, "handling": "operation"})


def test_a_real_png_is_accepted(room):
    """The refusals below are about the files, not a broken upload path."""
    assert post(room, upload("goods.png", png())).status_code == 201
    assert room.count() == 1


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("notes.txt", b"just text", "text/plain"),
        ("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
        ("goods.png", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "image/png"),  # lies
        ("goods.png", b"MZ\x90\x00" + b"\x00" * 200, "image/png"),  # an executable calling itself a PNG
        ("goods.jpg", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/jpeg"),  # PNG magic, then garbage
        ("goods.png", b"\xff\xd8\xff\xe0" + b"\x00" * 100, "image/png"),  # JPEG magic, broken body
        ("doc.pdf", b"%PDF-1.7\n" + b"garbage", "application/pdf"),
        ("empty.png", b"", "image/png"),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused(room, name, data, content_type):
    response = post(room, upload(name, data, content_type))
    assert response.status_code == 422, (response.status_code, response.content[:200])
    assert "file" in response.json()["errors"]
    assert room.count() == 0


def test_an_oversized_file_is_refused_with_413(room, settings):
    settings.CENCOMM_UPLOAD_MAX_BYTES = 64 * 1024
    big = png() + b"\x00" * (settings.CENCOMM_UPLOAD_MAX_BYTES + 1)
    response = post(room, upload("big.png", big))
    assert response.status_code == 413
    assert room.count() == 0


@pytest.mark.parametrize("side", [8_000, 20_000])  # 64 and 400 million pixels of nothing: tiny on disk
def test_a_decompression_bomb_is_refused_quickly_without_eating_memory(room, side):
    bomb = png((side, side), mode="1")
    assert len(bomb) < 200_000
    assert int.from_bytes(bomb[16:20], "big") == side  # the header's width
    memory_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    response = post(room, upload("bomb.png", bomb))
    assert response.status_code in (413, 422), response.status_code
    assert room.count() == 0
    assert time.monotonic() - started < 5
    # Decoding it as RGB would take 1.2 GB; refusing it takes next to nothing (ru_maxrss is in KiB).
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - memory_before < 300_000
