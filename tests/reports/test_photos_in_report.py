"""Notable seizures carry their photos (the copies without metadata) in the HTML and PDF reports."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from results.models import Result
from results.services import result_photo_add
from tests.reports.conftest import generate, membership

pytestmark = pytest.mark.django_db


def photo_with_camera_tag() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_the_largest_seizure_shows_its_photo(seeded):
    largest = Result.objects.get(client_id="al-1")
    result_photo_add(
        membership=membership(seeded, seeded.officer_al),
        result_uuid=largest.uuid,
        data=photo_with_camera_tag(),
        name="pills.jpg",
    )
    html = generate(seeded, seeded.coordinator, "restricted", "html").decode()
    found = re.search(r'<img alt="Photo of the seizure" src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    assert found
    embedded = base64.b64decode(found.group(1))
    assert b"SecretCam" not in embedded  # the copy without metadata, not the original
    with Image.open(io.BytesIO(embedded)) as image:
        assert image.size == (40, 30)
    pdf = generate(seeded, seeded.coordinator, "restricted", "pdf")
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" in pdf


def test_without_photos_no_image_is_embedded(seeded):
    html = generate(seeded, seeded.coordinator, "restricted", "html").decode()
    assert 'alt="Photo of the seizure"' not in html
