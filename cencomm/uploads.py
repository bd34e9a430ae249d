"""Checking an uploaded photo or document before anything is stored.

The real type comes from the file's first bytes, never from its name or the client's header;
images are opened with a pixel limit (decompression bombs are refused) and re-encoded from their
pixels alone, so the copy shown to people carries no EXIF, GPS or comments. The original is kept
as evidence, with its SHA-256, by the caller (sealed).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageOps

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
IMAGES = frozenset({JPEG, PNG})
MAGIC = {b"\xff\xd8\xff": JPEG, b"\x89PNG\r\n\x1a\n": PNG, b"%PDF-": PDF}
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG"}
MAX_IMAGE_PIXELS = 40_000_000
DISPLAY_MAX_SIDE = 2048


class UploadRejected(ValidationError):
    """A file the hub will not store; the API answers 422 (413 for size: ``hub.api.upload_rejected``)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__({"file": message})
        self.too_large = too_large


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    original: bytes
    display: bytes | None  # images only
    width: int | None
    height: int | None
    sha256: str
    name: str


def sniff(data: bytes, allowed: frozenset[str]) -> str:
    for magic, content_type in MAGIC.items():
        if data.startswith(magic) and content_type in allowed:
            return content_type
    kinds = " or ".join(sorted({"JPEG or PNG photo" if t in IMAGES else "PDF document" for t in allowed}))
    raise UploadRejected(f"Upload a {kinds}.")


def display_copy(data: bytes, content_type: str) -> tuple[bytes, int, int]:
    """The image re-encoded from its pixels alone: no EXIF, no GPS, no comments."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format != PILLOW_FORMATS[content_type]:
                    raise UploadRejected("The file is not what its content says it is.")
                if probe.width * probe.height > MAX_IMAGE_PIXELS:
                    raise UploadRejected("The image has too many pixels.")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                width, height = image.size
                image.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE))
                out = io.BytesIO()
                if content_type == JPEG:
                    image.convert("RGB").save(out, format="JPEG", quality=85)
                else:
                    clean = image.convert("RGBA") if image.mode not in ("RGB", "RGBA", "L", "LA") else image
                    clean.save(out, format="PNG")
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected("The image has too many pixels.") from None
    except Exception:  # Pillow raises many types for a damaged file
        raise UploadRejected("The image could not be read.") from None
    return out.getvalue(), width, height


def safe_name(name: str) -> str:
    base = PurePath((name or "").replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()[:200]
    return cleaned or "file"


def too_large_message() -> str:
    return f"A file is at most {settings.CENCOMM_UPLOAD_MAX_BYTES // (1024 * 1024)} MB."


def read_upload(file: Any) -> bytes:
    """An uploaded file's bytes (an API's ``UploadedFile``), never more than one byte past the limit.

    Over the limit it raises ``UploadRejected(too_large=True)``, which the API answers with 413
    (``hub.api``); ``check_upload`` refuses a file of limit + 1 bytes the same way.
    """
    limit = settings.CENCOMM_UPLOAD_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise UploadRejected(too_large_message(), too_large=True)
    return file.read(limit + 1)


def check_upload(
    data: bytes, name: str, *, allowed: frozenset[str] = frozenset(MAGIC.values())
) -> CheckedUpload:
    """Size, real type and (for images) a clean display copy; raises UploadRejected."""
    if len(data) > settings.CENCOMM_UPLOAD_MAX_BYTES:
        raise UploadRejected(too_large_message(), too_large=True)
    if not data:
        raise UploadRejected("The file is empty.")
    content_type = sniff(data, allowed)
    display = width = height = None
    if content_type in IMAGES:
        display, width, height = display_copy(data, content_type)
    elif b"%%EOF" not in data[-2048:]:
        raise UploadRejected("The PDF is incomplete.")
    return CheckedUpload(
        content_type=content_type,
        original=data,
        display=display,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        name=safe_name(name),
    )
