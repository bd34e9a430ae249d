"""Photos of a result's goods or concealment: sealed, audited, never versions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from cencomm.uploads import IMAGES, check_upload
from operations.models import Membership
from results import audit, sealing
from results.models import ResultPhoto
from results.services.checks import _require_may_correct, _require_open
from results.services.versions import _lock_result

MAX_PHOTOS_PER_RESULT = 20


@transaction.atomic
def result_photo_add(*, membership: Membership, result_uuid: object, data: bytes, name: str) -> ResultPhoto:
    """A JPEG or PNG of the goods or the concealment, added by whoever may correct the result.

    Photos do not change the figures, so they are not versions; each is audited with its SHA-256.
    """
    result = _lock_result(membership, result_uuid)
    _require_open(result.operation)
    _require_may_correct(membership, result)
    if result.photos.count() >= MAX_PHOTOS_PER_RESULT:
        raise ValidationError({"file": f"A result has at most {MAX_PHOTOS_PER_RESULT} photos."})
    upload = check_upload(data, name, allowed=IMAGES)
    assert upload.display is not None and upload.width is not None and upload.height is not None
    photo = ResultPhoto(
        result=result,
        uploaded_by=membership.user,
        content_type=upload.content_type,
        size=len(data),
        sha256=upload.sha256,
        width=upload.width,
        height=upload.height,
    )
    sealing.seal_photo(photo, result, original=data, display=upload.display)
    photo.save()
    audit.photo_added(actor=membership.user, result=result, photo=photo)
    return photo
