"""Correcting a result: a new version, the earlier ones kept readable; validation starts again."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from operations.models import Membership
from results import audit
from results.models import Result, ResultVersion
from results.sealing import SEALED_FIELDS, line_brand, sealed_fields
from results.services.checks import _reason, _require_may_correct, _require_open, _validate
from results.services.inputs import ResultInput
from results.services.nil_returns import _supersede_nil_return
from results.services.versions import _lock_result, _publish_version, _version_write


@transaction.atomic
def result_correct(
    *, membership: Membership, result_uuid: object, content: ResultInput, reason: str
) -> ResultVersion:
    """Store a corrected version; the earlier versions stay readable, validation starts again.

    A voided result stays voided when corrected (only a restore brings it back)."""
    result = _lock_result(membership, result_uuid)
    _require_open(result.operation)
    _require_may_correct(membership, result)
    reason = _reason(reason, gettext("Say why the result is corrected."))
    version, lines = _validate(membership, content)
    previous = result.versions.get(is_current=True)
    version.voided = previous.voided
    old_sealed = sealed_fields(previous)
    sealed = {f: old_sealed[f] if getattr(content, f) is None else getattr(content, f) for f in SEALED_FIELDS}
    old_brands = {line.position: line_brand(previous, line) for line in previous.lines.all()}
    lines = [(line, old_brands.get(line.position) if brand is None else brand) for line, brand in lines]
    new = _version_write(
        result=result, version=version, lines=lines, sealed=sealed, actor=membership.user, reason=reason
    )
    _reset_validation(result)
    audit.result_corrected(actor=membership.user, result=result, version=new)
    _supersede_nil_return(result, new, membership.user)
    _publish_version(result, previous, new, "corrected")
    return new


def _reset_validation(result: Result) -> None:
    if result.validation != Result.Validation.PENDING:
        result.validation = Result.Validation.PENDING
        result.validated_by, result.validated_at = None, None
        result.save(update_fields=["validation", "validated_by", "validated_at"])
