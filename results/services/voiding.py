"""Voiding a result (a duplicate, a post in error) and restoring it: each a new chained version."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from cencomm.errors import Refused
from operations.models import Membership
from results import audit
from results.models import ResultVersion
from results.selectors import may_void
from results.services.checks import _reason
from results.services.nil_returns import _supersede_nil_return
from results.services.versions import _lock_result, _publish_version, _version_copy


@transaction.atomic
def result_void(*, membership: Membership, result_uuid: object, reason: str) -> ResultVersion:
    """Void a result (a duplicate, a post in error): a new chained version, voided, saying why.

    A voided result counts nowhere (board, grid, reports, exports) but stays readable, struck through.
    """
    return _void_or_restore(membership, result_uuid, reason, voided=True)


@transaction.atomic
def result_restore(*, membership: Membership, result_uuid: object, reason: str) -> ResultVersion:
    """Bring a voided result back: a new chained version, not voided, saying why (required too)."""
    return _void_or_restore(membership, result_uuid, reason, voided=False)


def _void_or_restore(
    membership: Membership, result_uuid: object, reason: str, *, voided: bool
) -> ResultVersion:
    result = _lock_result(membership, result_uuid)
    if not may_void(membership, result):
        raise Refused(
            gettext(
                "Only the officer who posted it (while the operation is open), the national contact "
                "point of its administration and coordinators void or restore a result."
            )
        )
    previous = result.versions.get(is_current=True)
    if previous.voided == voided:
        raise Refused(
            gettext("This result is voided already.") if voided else gettext("This result is not voided.")
        )
    reason = _reason(
        reason,
        gettext("Say why the result is voided.") if voided else gettext("Say why the result is restored."),
    )
    new = _version_copy(result=result, actor=membership.user, reason=reason, voided=voided)
    audit.result_voided(actor=membership.user, result=result, version=new)
    if not voided:
        _supersede_nil_return(result, new, membership.user)
    _publish_version(result, previous, new, "voided" if voided else "restored")
    return new
