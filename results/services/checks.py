"""The checks a post or a correction passes before anything is written: the operation open, the
entry point the caller may post for, every field at once (one ValidationError naming each bad one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from cencomm.errors import Refused
from operations.models import CommodityCategory, EntryPoint, Membership, Operation, OperationCategory
from operations.selectors import operation_entry_points
from results.models import GoodsLine, Result, ResultVersion, Unit
from results.selectors import may_correct, may_post, warning_visible
from results.services.inputs import LINE_FIELDS, PLAIN_FIELDS, ResultInput

Role = Membership.Role
State = Operation.State
FUTURE_SKEW = dt.timedelta(minutes=10)
#: Units counted one by one: a quantity in them is a whole number.
WHOLE_UNITS = (Unit.PIECES, Unit.PACKS)


def _require_open(operation: Operation) -> bool:
    """Whether a result written now is late; refuses outside the active and follow-up states."""
    if operation.state == State.ACTIVE:
        return False
    if operation.state == State.FOLLOW_UP:
        return True
    raise Refused(
        gettext("The operation is %(state)s: results cannot be posted or corrected now.")
        % {"state": gettext(operation.get_state_display()).lower()}
    )


def _posting_entry_point(membership: Membership, entry_point_id: int) -> EntryPoint:
    if not may_post(membership):
        raise Refused(gettext("Only officers and coordinators post results."))
    entry_point = operation_entry_points(membership.operation).filter(pk=entry_point_id).first()
    if entry_point is None:
        raise ValidationError({"entry_point": [gettext("Not an entry point of this operation.")]})
    if membership.role == Role.OFFICER and entry_point.pk != membership.entry_point_id:
        raise ValidationError(
            {
                "entry_point": [
                    gettext("You post results for %(place)s only.") % {"place": membership.entry_point}
                ]
            }
        )
    return entry_point


def _categories(operation: Operation, codes: Iterable[str]) -> dict[str, CommodityCategory]:
    """Code -> catalogue entry, for the codes the operation offers (its own active categories)."""
    offered = OperationCategory.objects.filter(operation=operation, active=True).values("category_id")
    return {c.code: c for c in CommodityCategory.objects.filter(code__in=set(codes), pk__in=offered)}


def _version_errors(version: ResultVersion) -> dict[str, list[str]]:
    api_name = {model: api for api, model in PLAIN_FIELDS.items()}
    try:
        version.full_clean(
            exclude=["result", "number", "created_at", "created_by", "chain_seq", "prev_hash", "hash"]
        )
    except ValidationError as exc:
        return {api_name.get(f, f): [str(m) for m in msgs] for f, msgs in exc.message_dict.items()}
    return {}


def _whole(quantity: Any) -> bool:
    try:
        value = Decimal(str(quantity))
    except ArithmeticError:
        return False
    return value.is_finite() and value == value.to_integral_value()


def _line_errors(index: int, line: GoodsLine) -> dict[str, list[str]]:
    try:
        line.full_clean(exclude=["version", "category"])
    except ValidationError as exc:
        return {f"lines.{index}.{f}": [str(m) for m in msgs] for f, msgs in exc.message_dict.items()}
    return {}


def _validate(
    membership: Membership, content: ResultInput
) -> tuple[ResultVersion, list[tuple[GoodsLine, str | None]]]:
    """Build the unsaved version and lines, or raise one ValidationError naming every bad field."""
    operation = membership.operation
    version = ResultVersion(**{model: getattr(content, api) for api, model in PLAIN_FIELDS.items()})
    version.transit_countries = list(content.transit)
    errors = _version_errors(version)
    if content.inspected_at.tzinfo is None:
        errors.setdefault("inspected_at", []).append(gettext("Give the time with its UTC offset."))
    elif not operation.window_start <= content.inspected_at < operation.window_end:
        errors.setdefault("inspected_at", []).append(
            gettext("The inspection time is outside the operation's window (%(start)s to %(end)s UTC).")
            % {
                "start": f"{operation.window_start:%Y-%m-%d %H:%M}",
                "end": f"{operation.window_end:%Y-%m-%d %H:%M}",
            }
        )
    elif content.inspected_at > timezone.now() + FUTURE_SKEW:
        errors.setdefault("inspected_at", []).append(gettext("The inspection time is in the future."))
    if content.estimated_value is not None and not content.currency:
        errors.setdefault("currency", []).append(gettext("Give the currency of the estimated value."))
    if content.answers_warning is not None and not warning_visible(membership, content.answers_warning):
        errors.setdefault("answers_warning", []).append(gettext("No such warning in this operation."))
    if not content.lines:
        errors.setdefault("lines", []).append(gettext("Report at least one goods line."))
    if len(content.lines) > 50:
        errors.setdefault("lines", []).append(gettext("At most 50 goods lines per result."))
    categories = _categories(operation, (line.category for line in content.lines))
    lines = []
    for index, item in enumerate(content.lines):
        line = GoodsLine(position=index, **{f: getattr(item, f) for f in LINE_FIELDS})
        category = categories.get(item.category)
        if category is None:
            errors.setdefault(f"lines.{index}.category", []).append(
                f"Unknown commodity category {item.category!r}."
            )
        else:
            line.category = category
        errors.update(_line_errors(index, line))
        if item.unit in WHOLE_UNITS and f"lines.{index}.quantity" not in errors and not _whole(item.quantity):
            errors.setdefault(f"lines.{index}.quantity", []).append(
                gettext("Pieces and packs are counted in whole numbers.")
            )
        lines.append((line, item.brand))
    if errors:
        raise ValidationError(errors)
    return version, lines


def _require_may_correct(membership: Membership, result: Result) -> None:
    if not may_correct(membership, result):
        raise Refused(gettext("Only the entry point's officers and coordinators correct a result."))


def _reason(reason: str, missing: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [missing]})
    if len(reason) > 500:
        raise ValidationError({"reason": [gettext("At most 500 characters.")]})
    return reason
