"""A national contact point validates or returns one of their administration's results."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from cencomm.errors import Refused
from cencomm.live import board_group, publish_on_commit
from operations.models import Membership
from results import audit, events
from results.models import Result
from results.selectors import may_validate
from results.services.versions import _board_bump, _lock_result


@transaction.atomic
def result_validate(
    *, membership: Membership, result_uuid: object, decision: str, comment: str = ""
) -> Result:
    """A national contact point validates or returns one of their administration's results."""
    result = _lock_result(membership, result_uuid)
    if not may_validate(membership, result):
        raise Refused(
            gettext("Only the administration's national contact point validates its results, until archived.")
        )
    if decision not in (Result.Validation.VALIDATED, Result.Validation.RETURNED):
        raise ValidationError({"decision": [gettext("Choose validated or returned.")]})
    comment = comment.strip()
    if decision == Result.Validation.RETURNED and not comment:
        raise ValidationError({"comment": [gettext("Say why the result is returned.")]})
    result.validation, result.validation_comment = decision, comment[:1000]
    result.validated_by, result.validated_at = membership.user, timezone.now()
    result.save(update_fields=["validation", "validation_comment", "validated_by", "validated_at"])
    audit.result_validated(actor=membership.user, result=result)
    current = result.versions.get(is_current=True)
    seq = _board_bump(result.operation)
    publish_on_commit(board_group(result.operation_id), events.validation_changed(seq=seq, version=current))
    return result
