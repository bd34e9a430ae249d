"""Nil returns: an entry point found nothing on a day; a result that counts on that day replaces it."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from cencomm.errors import Refused
from cencomm.live import board_group, publish_on_commit
from operations.models import Membership
from operations.services import operation_hold_state
from results import audit, events
from results.board import compliance_cells
from results.models import NilReturn, Result, ResultVersion
from results.selectors import counted_on_day, entry_point_day, entry_point_window_days
from results.services.checks import _posting_entry_point, _require_open
from results.services.versions import _board_bump


@transaction.atomic
def nil_return_post(*, membership: Membership, entry_point_id: int, day: dt.date) -> tuple[NilReturn, bool]:
    """The entry point found nothing on ``day``, a day on its own clock; posting it again changes nothing.

    Refused (409) for a day on which the entry point has a result that counts (not voided).
    """
    operation = operation_hold_state(membership.operation)
    _require_open(operation)
    entry_point = _posting_entry_point(membership, entry_point_id)
    if day not in entry_point_window_days(entry_point, operation):
        raise ValidationError({"day": [gettext("The day is outside the operation's window.")]})
    if day > entry_point_day(entry_point, timezone.now()):
        raise ValidationError({"day": [gettext("The day has not begun yet.")]})
    if counted_on_day(operation, entry_point, day).exists():
        raise Refused(
            gettext("%(place)s has results on %(day)s: a nil return says nothing was found that day.")
            % {"place": entry_point.name, "day": day.isoformat()},
            field="day",
        )
    nil, created = NilReturn.objects.get_or_create(
        operation=operation,
        entry_point=entry_point,
        day=day,
        defaults={"reported_by": membership.user},
    )
    if created:
        audit.nil_return_posted(actor=membership.user, nil=nil)
        seq = _board_bump(operation)
        cells = compliance_cells(operation, [(entry_point.pk, day)])
        publish_on_commit(board_group(operation.pk), events.compliance_changed(seq=seq, cells=cells))
    return nil, created


def _supersede_nil_return(result: Result, version: ResultVersion, actor: AbstractBaseUser) -> None:
    """A result that counts, on a day its entry point returned nil: the nil return goes (audited).

    Called before the version's event is published, so the event's compliance cells read right.
    """
    if version.voided:
        return
    day = entry_point_day(result.entry_point, version.inspected_at)
    superseded = NilReturn.objects.filter(
        operation_id=result.operation_id, entry_point_id=result.entry_point_id, day=day
    )
    if superseded.exists():
        superseded.delete()
        audit.nil_return_superseded(
            actor=actor,
            operation=result.operation,
            entry_point_id=result.entry_point_id,
            day=day,
            result=result,
        )
