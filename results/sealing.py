"""The only place that knows which key scope and which AAD context protect what of a result.

Everything an operation seals is under its scope ``operation:<id>`` (results here; the reports app's
files too, through :func:`operation_scope`). Each sealed value is bound to where it lives:

- a version's text field: ``result:<uuid>:v<n>:<field>`` (notes, reference, parties);
- a goods line's brand: ``result:<uuid>:v<n>:line<position>:brand``;
- a photo: ``photo:<result uuid>:<photo uid>:<part>`` (original, display).

So a ciphertext copied to another row, version or field does not open. ``reseal_operation`` gives
the operation a new data key and re-seals the photos under it; versions keep their ciphertexts (the
chain hashes them), and older key versions stay to open them.
"""

from __future__ import annotations

from typing import Any

from cencomm.crypto import data_key_rotate, open_sealed, open_text, seal, seal_text
from results.models import GoodsLine, Result, ResultPhoto, ResultVersion

SEALED_FIELDS = ("notes", "reference", "parties")
PHOTO_PARTS = ("original", "display")


def operation_scope(operation_id: int) -> str:
    return f"operation:{operation_id}"


def _field_context(result: Result, number: int, field: str) -> str:
    return f"result:{result.uuid}:v{number}:{field}"


def _brand_field(position: int) -> str:
    return f"line{position}:brand"


def _photo_context(photo: ResultPhoto, result: Result, part: str) -> str:
    if part not in PHOTO_PARTS:
        raise ValueError(f"no photo part {part!r}")
    return f"photo:{result.uuid}:{photo.uid}:{part}"


# --- sealing -------------------------------------------------------------------------------------


def seal_field(result: Result, number: int, field: str, text: str | None) -> bytes | None:
    """A version's text field sealed; None for no text."""
    if not text:
        return None
    return seal_text(
        scope=operation_scope(result.operation_id), context=_field_context(result, number, field), text=text
    )


def seal_brand(result: Result, number: int, position: int, brand: str | None) -> bytes | None:
    return seal_field(result, number, _brand_field(position), brand)


def seal_photo(photo: ResultPhoto, result: Result, *, original: bytes, display: bytes) -> None:
    """Seal both copies of a photo onto it (its uid must be set: the context names it)."""
    scope = operation_scope(result.operation_id)
    photo.original = seal(scope=scope, context=_photo_context(photo, result, "original"), plaintext=original)
    photo.display = seal(scope=scope, context=_photo_context(photo, result, "display"), plaintext=display)


# --- opening (callers decide who may see) --------------------------------------------------------


def _open_field(result: Result, number: int, field: str, blob: Any) -> str | None:
    if blob is None:
        return None
    return open_text(
        context=_field_context(result, number, field),
        blob=bytes(blob),
        scope=operation_scope(result.operation_id),
    )


def sealed_fields(version: ResultVersion) -> dict[str, str | None]:
    """The version's sealed text fields, decrypted."""
    result = version.result
    return {
        f: _open_field(result, version.number, f, getattr(version, f"{f}_sealed")) for f in SEALED_FIELDS
    }


def line_brand(version: ResultVersion, line: GoodsLine) -> str | None:
    return _open_field(version.result, version.number, _brand_field(line.position), line.brand_sealed)


def photo_content(photo: ResultPhoto, *, part: str) -> bytes:
    """The display copy (no metadata) or the original, decrypted."""
    part = "original" if part == "original" else "display"
    return open_sealed(
        scope=operation_scope(photo.result.operation_id),
        context=_photo_context(photo, photo.result, part),
        blob=photo.original if part == "original" else photo.display,
    )


# --- key rotation --------------------------------------------------------------------------------


def reseal_operation(operation_id: int) -> int:
    """A new data key for the operation; what may be re-sealed is, under it. Returns the count.

    Runs in the caller's transaction (a service audits it). New values are sealed under the new key
    from now on. Photos are opened under their old key and sealed again (same contexts). A version's
    sealed fields and brands are NOT re-sealed: the results chain hashes their ciphertexts, so new
    ciphertexts would break every link; they stay under the key version they were sealed with, which
    is kept (inactive) for that. The master key still protects every key version (rewrap_master_key).
    """
    photos = list(
        ResultPhoto.objects.filter(result__operation_id=operation_id).select_related("result").order_by("pk")
    )
    opened = [(p, photo_content(p, part="original"), photo_content(p, part="display")) for p in photos]
    data_key_rotate(scope=operation_scope(operation_id))
    for photo, original, display in opened:
        seal_photo(photo, photo.result, original=original, display=display)
        photo.save(update_fields=["original", "display"])
    return len(opened)
