"""Photos of a result: checked, sealed, shown without metadata, the original kept with its SHA-256."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.db import connection
from PIL import Image

from cencomm.models import AuditEvent
from results.models import ResultPhoto
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (41.0, 18.0, 44.0), 3: "E", 4: (19.0, 26.0, 45.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(client: Any, result_uuid: str, data: bytes, name: str = "goods.jpg") -> Any:
    return client.post(
        f"/api/v1/operations/TEST-OP/results/{result_uuid}/photos", {"file": io.BytesIO(data) | _named(name)}
    )


class _named:
    def __init__(self, name: str) -> None:
        self.name = name

    def __ror__(self, other: io.BytesIO) -> io.BytesIO:
        other.name = self.name
        return other


@pytest.fixture
def result_uuid(world: Any, post: Any) -> str:
    response = post(world.officer_al)
    assert response.status_code == 201
    return response.json()["uuid"]


def test_officer_adds_a_photo_shown_without_location_and_kept_as_evidence(world, result_uuid):
    officer = verified_client(world.officer_al)
    data = jpeg_with_gps()
    assert b"SecretCam" in data
    response = upload(officer, result_uuid, data)
    assert response.status_code == 201, response.content
    photo = response.json()
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()
    assert (photo["width"], photo["height"]) == (64, 48)

    shown = verified_client(world.coordinator).get(photo["url"])
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(shown.content)) as image:
        assert not image.getexif()
    assert b"SecretCam" not in shown.content

    original = officer.get(photo["url"] + "?original=true")
    assert original.content == data and original["X-Content-SHA256"] == photo["sha256"]
    listed = officer.get(f"/api/v1/operations/TEST-OP/results/{result_uuid}").json()["photos"]
    assert [p["uid"] for p in listed] == [photo["uid"]]
    assert AuditEvent.objects.filter(action="result.photo", data__sha256=photo["sha256"]).exists()


def test_photos_are_sealed_in_the_database(world, result_uuid):
    data = jpeg_with_gps()
    assert upload(verified_client(world.officer_al), result_uuid, data).status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT original, display FROM results_resultphoto")
        original, display = cursor.fetchone()
    assert bytes(original) != data and b"SecretCam" not in bytes(original)
    assert b"JFIF" not in bytes(display)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4 not a photo %%EOF", "JPEG or PNG"),
        (b"GIF89a" + b"\0" * 40, "JPEG or PNG"),
        (b"\xff\xd8\xff" + b"not really a jpeg", "could not be read"),
        (b"", "empty"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_and_nothing_stored(world, result_uuid, data, message):
    response = upload(verified_client(world.officer_al), result_uuid, data, name="photo.jpg")
    assert response.status_code == 422
    assert message in response.json()["errors"]["file"][0]
    assert ResultPhoto.objects.count() == 0


def test_an_oversized_photo_is_refused(world, result_uuid, settings):
    settings.CENCOMM_UPLOAD_MAX_BYTES = 1024
    noisy = Image.effect_noise((200, 200), 100).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    assert (
        upload(verified_client(world.officer_al), result_uuid, out.getvalue(), "big.png").status_code == 413
    )
    assert ResultPhoto.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "status"), [("officer_it", 404), ("officer_other", 404), ("outsider", 404), ("observer", 409)]
)
def test_who_may_not_correct_the_result_may_not_add_photos(world, result_uuid, who, status):
    response = upload(verified_client(getattr(world, who)), result_uuid, jpeg_with_gps())
    assert response.status_code == status
    assert ResultPhoto.objects.count() == 0


def test_photos_are_seen_only_by_who_sees_the_result(world, result_uuid):
    photo = upload(verified_client(world.officer_al), result_uuid, jpeg_with_gps()).json()
    assert verified_client(world.officer_it).get(photo["url"]).status_code == 404
    assert verified_client(world.officer_other).get(photo["url"]).status_code == 404
    assert verified_client(world.ncp_al).get(photo["url"]).status_code == 200


def test_the_result_page_shows_the_photos(world, result_uuid):
    photo = upload(verified_client(world.officer_al), result_uuid, jpeg_with_gps()).json()
    page = verified_client(world.coordinator).get(f"/operations/TEST-OP/results/{result_uuid}/")
    assert page.status_code == 200
    assert photo["url"].encode() in page.content
