"""The report's adapters to the results app's record: sealed fields, photos, the chain check.

The results app owns how fields are sealed (results.sealing) and what the chain hashes and how it is
checked (results.chain): the report's check is ``manage.py verify_chain``'s own, fast on PostgreSQL
(the database writes each canonical payload, two connections check the chain's halves on one
snapshot). ``on_snapshot`` is re-exported for the report's own chain-check thread.
"""

from __future__ import annotations

import base64
from typing import Any

from cencomm.crypto import DecryptionError
from operations.models import Operation
from results import sealing
from results.chain import chain_verify, on_snapshot
from results.models import ResultVersion

__all__ = ["PHOTOS_PER_SEIZURE", "data_uri", "on_snapshot", "photos", "reveal", "verify_chain"]


def reveal(version: ResultVersion) -> dict[str, str]:
    """The version's sealed text fields (notes, reference, parties) in the clear; "" when empty."""
    try:
        fields = sealing.sealed_fields(version)
    except DecryptionError:
        return {field: "[unreadable]" for field in sealing.SEALED_FIELDS}
    return {field: value or "" for field, value in fields.items()}


PHOTOS_PER_SEIZURE = 3


def photos(version: ResultVersion) -> list[str]:
    """The result's first photos as data URIs: the display copies, without EXIF or GPS."""
    return [
        data_uri(photo.content_type, sealing.photo_content(photo, part="display"))
        for photo in version.result.photos.select_related("result")[:PHOTOS_PER_SEIZURE]
    ]


def data_uri(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def verify_chain(operation: Operation, *, snapshot_id: str | None = None) -> dict[str, Any]:
    """The verdict of ``manage.py verify_chain`` (the same function, results.chain.chain_verify)."""
    return chain_verify(operation.pk, snapshot_id=snapshot_id).as_dict()
