"""The only place that knows which key scope and which AAD context protect what of a result.

Everything an operation seals is under its scope ``operation:<id>`` (results here; the reports app's
files too, through :func:`operation_scope`). Each sealed value is bound to where it lives:

- a version's text field: ``result:<uuid>:v<n>:<field>`` (notes, reference, parties);
- a goods line's brand: ``result:<uuid>:v<n>:line<position>:brand``;
- a photo: ``photo:<result uuid>:<photo uid>:<part>`` (original, display).

So a ciphertext copied to another row, version or field does not open. ``reseal_operation`` gives
the operation a new data key and re-seals the photos under it; versions keep their ciphertexts (the
chain hashes them), and older key versions stay to open them. ``shred_operation_results`` is
retention's end of it all: the ciphertexts go, their digests stay for the chain.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from cencomm.crypto import data_key_rotate, open_sealed, open_text, seal, seal_text
from results.chain import ciphertext_digest
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


# --- retention -----------------------------------------------------------------------------------


def shred_operation_results(operation_id: int) -> dict[str, int]:
    """Delete everything sealed of the operation's results; returns counts. The caller destroys the key.

    Photos are deleted. A version's sealed fields and a goods line's brand are emptied and keep only
    their ciphertext's SHA-256 (``*_digest``), which is all the results chain hashes of them, so
    ``results.chain.chain_verify`` passes on what remains. The validator's free-text comment goes too
    (the chain does not hash it). Runs in the caller's transaction (records.retention.operation_shred).
    """
    photos, _ = ResultPhoto.objects.filter(result__operation_id=operation_id).delete()
    versions = list(
        ResultVersion.objects.filter(result__operation_id=operation_id)
        .filter(
            models.Q(notes_sealed__isnull=False)
            | models.Q(reference_sealed__isnull=False)
            | models.Q(parties_sealed__isnull=False)
        )
        .only("pk", *(f"{f}_sealed" for f in SEALED_FIELDS))
    )
    for version in versions:
        for f in SEALED_FIELDS:
            blob = getattr(version, f"{f}_sealed")
            if blob is not None:
                setattr(version, f"{f}_digest", ciphertext_digest(blob))
                setattr(version, f"{f}_sealed", None)
    ResultVersion.objects.bulk_update(
        versions, [f"{f}_{part}" for f in SEALED_FIELDS for part in ("sealed", "digest")], batch_size=500
    )
    lines = list(
        GoodsLine.objects.filter(version__result__operation_id=operation_id, brand_sealed__isnull=False).only(
            "pk", "brand_sealed"
        )
    )
    for line in lines:
        line.brand_digest, line.brand_sealed = ciphertext_digest(line.brand_sealed) or "", None
    GoodsLine.objects.bulk_update(lines, ["brand_sealed", "brand_digest"], batch_size=500)
    Result.objects.filter(operation_id=operation_id).exclude(validation_comment="").update(
        validation_comment=""
    )
    return {"photos": photos, "versions_sealed": len(versions), "brands": len(lines)}
