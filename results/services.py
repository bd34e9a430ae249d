"""Every write to results: post, correct, validate, nil returns, categories and reclassification.

Each service checks the caller's membership, validates everything before it writes (a half-valid
post stores nothing), appends the stored version to the operation's results hash chain under the
chain's row lock, bumps the board sequence, records an audit event and publishes a board event on
commit. Locks are always taken in the same order: results (by pk), chain head, board sequence.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from cencomm import metrics
from cencomm.errors import NotFound, Refused
from cencomm.live import board_group, publish_on_commit
from cencomm.protocol import ClientIdReused
from cencomm.uploads import IMAGES, check_upload
from operations.models import CommodityCategory, EntryPoint, Membership, Operation, OperationCategory
from operations.selectors import category_labels, operation_entry_points
from operations.services import operation_hold_state
from results import audit, events, sealing
from results.board import compliance_cells
from results.chain import chain_version
from results.models import (
    BoardSequence,
    GoodsLine,
    HandlingCode,
    NilReturn,
    Result,
    ResultPhoto,
    ResultVersion,
    Unit,
)
from results.sealing import SEALED_FIELDS, line_brand, sealed_fields
from results.selectors import (
    access_result,
    counted_on_day,
    entry_point_day,
    entry_point_window_days,
    may_change_categories,
    may_correct,
    may_post,
    may_validate,
    may_void,
    warning_visible,
)

Role = Membership.Role
State = Operation.State
FUTURE_SKEW = dt.timedelta(minutes=10)
#: Units counted one by one: a quantity in them is a whole number.
WHOLE_UNITS = (Unit.PIECES, Unit.PACKS)
# API field name -> ResultVersion field, for the plain fields of a version.
PLAIN_FIELDS = {
    "inspected_at": "inspected_at",
    "origin": "origin_country",
    "departure": "departure_country",
    "transit": "transit_countries",
    "destination": "destination_country",
    "transport_mode": "transport_mode",
    "detection_method": "detection_method",
    "outcome": "outcome",
    "infringement": "infringement",
    "concealment": "concealment",
    "estimated_value": "estimated_value",
    "currency": "currency",
    "handling_code": "handling_code",
    "answers_warning": "answers_warning",
}
LINE_FIELDS = ("description", "gtin", "hs_code", "quantity", "unit")


@dataclass(frozen=True)
class LineInput:
    category: str  # the category's code
    quantity: Decimal
    unit: str = Unit.PIECES
    description: str = ""
    brand: str | None = None
    gtin: str = ""
    hs_code: str = ""


@dataclass(frozen=True)
class ResultInput:
    """What an officer reports. Sealed fields left as None keep their earlier value on correction."""

    inspected_at: dt.datetime
    origin: str
    outcome: str
    lines: tuple[LineInput, ...]
    departure: str = ""
    transit: tuple[str, ...] = ()
    destination: str = ""
    transport_mode: str = ""
    detection_method: str = ""
    infringement: str = ""
    concealment: str = ""
    estimated_value: Decimal | None = None
    currency: str = ""
    handling_code: str = HandlingCode.H1
    answers_warning: uuid.UUID | None = None
    notes: str | None = None
    reference: str | None = None
    parties: str | None = None


# --- checks -------------------------------------------------------------------------------------


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


# --- writing versions ---------------------------------------------------------------------------


def _version_write(
    *,
    result: Result,
    version: ResultVersion,
    lines: Sequence[tuple[GoodsLine, str | None]],
    sealed: dict[str, str | None],
    actor: AbstractBaseUser,
    reason: str,
) -> ResultVersion:
    """Store ``version`` as the result's current one and append it to the chain."""
    previous = result.versions.filter(is_current=True).first()
    number = previous.number + 1 if previous else 1
    if previous is not None:
        ResultVersion.objects.filter(pk=previous.pk).update(is_current=False)
    version.result, version.number, version.is_current = result, number, True
    version.created_at, version.created_by, version.reason = timezone.now(), actor, reason
    for field in SEALED_FIELDS:
        setattr(version, f"{field}_sealed", sealing.seal_field(result, number, field, sealed.get(field)))
    version.chain_seq, version.prev_hash, version.hash = 0, "", ""
    version.save()
    for line, brand in lines:
        line.pk, line.version = None, version
        line.brand_sealed = sealing.seal_brand(result, number, line.position, brand)
    GoodsLine.objects.bulk_create([line for line, _ in lines])
    chain_version(version)
    return version


def _board_bump(operation: Operation) -> int:
    BoardSequence.objects.bulk_create([BoardSequence(operation=operation, seq=0)], ignore_conflicts=True)
    board = BoardSequence.objects.select_for_update(no_key=True).get(operation=operation)
    board.seq += 1
    board.save(update_fields=["seq"])
    return board.seq


def _publish_version(result: Result, old: ResultVersion | None, new: ResultVersion, kind: str) -> None:
    """Bump the board and publish what changed, read back inside this transaction."""
    seq = _board_bump(result.operation)
    event = events.version_changed(seq=seq, old=old, new=new, kind=kind)
    publish_on_commit(board_group(result.operation_id), event)


# --- posting ------------------------------------------------------------------------------------


@transaction.atomic
def result_post(
    *, membership: Membership, entry_point_id: int, client_id: str, content: ResultInput
) -> tuple[Result, bool]:
    """Store a new result, or return the one already stored under ``client_id`` (created=False).

    A client ID sent again with the same content is a retry and answers the stored result; with
    other content it is refused (ClientIdReused, naming the stored result).
    """
    operation = operation_hold_state(membership.operation)
    existing = _by_client_id(membership, client_id, entry_point_id, content)
    if existing is not None:
        return existing, False
    late = _require_open(operation)
    entry_point, version, lines = _posting_checked(membership, entry_point_id, content)
    try:
        with transaction.atomic():
            result = Result.objects.create(
                operation=operation,
                client_id=client_id,
                entry_point=entry_point,
                administration_id=entry_point.administration_id,
                reported_by=membership.user,
                late=late,
            )
    except IntegrityError:  # the same client_id committed concurrently: a retry
        existing = _by_client_id(membership, client_id, entry_point_id, content)
        if existing is None:
            raise
        return existing, False
    sealed = {f: getattr(content, f) for f in SEALED_FIELDS}
    _version_write(
        result=result, version=version, lines=lines, sealed=sealed, actor=membership.user, reason=""
    )
    audit.result_posted(actor=membership.user, result=result, version=version)
    metrics.count_on_commit(metrics.RESULTS_POSTED)
    _supersede_nil_return(result, version, membership.user)
    _publish_version(result, None, version, "posted")
    return result, True


def _posting_checked(
    membership: Membership, entry_point_id: int, content: ResultInput
) -> tuple[EntryPoint, ResultVersion, list[tuple[GoodsLine, str | None]]]:
    """The entry point and the content checked together: one answer names every bad field."""
    errors: dict[str, list[str]] = {}
    entry_point: EntryPoint | None = None
    try:
        entry_point = _posting_entry_point(membership, entry_point_id)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        version, lines = _validate(membership, content)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors or entry_point is None:
        raise ValidationError(errors)
    return entry_point, version, lines


def _by_client_id(
    membership: Membership, client_id: str, entry_point_id: int, content: ResultInput
) -> Result | None:
    """The result stored under ``client_id`` if this post is a retry of it; refused if it is not."""
    result = Result.objects.filter(operation=membership.operation, client_id=client_id).first()
    if result is None:
        return None
    if result.reported_by_id != membership.user_id:
        raise ValidationError({"client_id": [gettext("This client ID is already used by another result.")]})
    # The body as posted is the result's first version (a later correction does not change what a
    # retry of the post carries). Compared field by field as stored, not byte by byte.
    posted = result.versions.select_related("result").get(number=1)
    if _posted_form(posted) != _input_form(entry_point_id, content):
        raise ClientIdReused(
            gettext(
                "This client ID already names result %(uuid)s, posted with other content. "
                "Post a new result with a new client ID, or correct that one."
            )
            % {"uuid": result.uuid},
            stored_id=str(result.uuid),
        )
    return result


def _posted_form(version: ResultVersion) -> dict[str, Any]:
    """A stored version as the input that made it, for comparing a retry with."""
    form = {api: getattr(version, model) for api, model in PLAIN_FIELDS.items()}
    form["transit"] = list(version.transit_countries)
    form["entry_point"] = version.result.entry_point_id
    form |= {f: text or "" for f, text in sealed_fields(version).items()}
    form["lines"] = [
        {
            "category": line.category.code,
            **{f: getattr(line, f) for f in LINE_FIELDS},
            "brand": line_brand(version, line) or "",
        }
        for line in version.lines.select_related("category").order_by("position")
    ]
    return form


def _input_form(entry_point_id: int, content: ResultInput) -> dict[str, Any]:
    form = {api: getattr(content, api) for api in PLAIN_FIELDS}
    form["transit"] = list(content.transit)
    form["entry_point"] = entry_point_id
    form |= {f: getattr(content, f) or "" for f in SEALED_FIELDS}
    form["lines"] = [
        {"category": line.category, **{f: getattr(line, f) for f in LINE_FIELDS}, "brand": line.brand or ""}
        for line in content.lines
    ]
    return form


# --- correcting ---------------------------------------------------------------------------------


def _lock_result(membership: Membership, result_uuid: object) -> Result:
    """The result under lock, its operation's state held first (see operation_hold_state)."""
    result = access_result(membership, result_uuid)
    operation = operation_hold_state(membership.operation)
    locked = Result.objects.select_for_update(no_key=True, of=("self",)).get(pk=result.pk)
    locked.operation = operation
    membership.operation = operation
    return locked


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


# --- voiding and restoring ----------------------------------------------------------------------


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


def _void_or_restore(membership: Membership, result_uuid: object, reason: str, *, voided: bool) -> ResultVersion:
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


# --- validating ---------------------------------------------------------------------------------


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


# --- nil returns --------------------------------------------------------------------------------


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
            actor=actor, operation=result.operation, entry_point_id=result.entry_point_id, day=day, result=result
        )


# --- commodity categories -----------------------------------------------------------------------


def _require_coordinator(membership: Membership) -> None:
    if not may_change_categories(membership):
        raise Refused("Only coordinators change commodity categories.")


def _resync(operation: Operation, kind: str) -> None:
    seq = _board_bump(operation)
    publish_on_commit(board_group(operation.pk), events.resync(seq=seq, kind=kind))


def _category_names(names: dict[str, str] | None) -> dict[str, str]:
    return {
        lang: text.strip() for lang, text in (names or {}).items() if isinstance(text, str) and text.strip()
    }


def _category_checked(category: models.Model, field_prefix: str = "") -> None:
    """full_clean with the errors named as the API names them (``names``, ``name``, ``code``)."""
    try:
        category.full_clean(exclude=["operation", "category"])
    except ValidationError as exc:
        raise ValidationError({field_prefix + f: msgs for f, msgs in exc.message_dict.items()}) from None


@transaction.atomic
def category_add(
    *, membership: Membership, code: str, name: str = "", names: dict[str, str] | None = None
) -> OperationCategory:
    """Offer a category in this operation only: picked from the shared catalogue by its code (its
    names there are the default), or new, and then added to the catalogue for the next operation."""
    _require_coordinator(membership)
    operation = membership.operation
    code, name, names = code.strip(), name.strip(), _category_names(names)
    entry = CommodityCategory.objects.filter(code=code).first()
    if entry is None:
        entry = CommodityCategory(code=code, name=name, names=names)
        if not name:
            raise ValidationError({"name": [gettext("Give the category's name in English.")]})
        _category_checked(entry)
        entry.save()
        added_to_catalogue = True
    else:
        added_to_catalogue = False
    if OperationCategory.objects.filter(operation=operation, category=entry).exists():
        raise ValidationError({"code": [gettext("This operation offers this category already.")]})
    category = OperationCategory(
        operation=operation,
        category=entry,
        name=name or entry.name,
        names=names or dict(entry.names),
        position=entry.position,
    )
    _category_checked(category)
    if OperationCategory.objects.filter(operation=operation, name=category.name).exists():
        raise ValidationError({"name": [gettext("Another category of this operation has this name.")]})
    category.save()
    audit.category_added(
        actor=membership.user,
        operation=operation,
        target=category,
        data={
            "code": entry.code,
            "name": category.name,
            "names": category.names,
            "catalogue": added_to_catalogue,
        },
    )
    _resync(operation, "category_added")
    return category


@transaction.atomic
def category_rename(
    *, membership: Membership, code: str, name: str = "", names: dict[str, str] | None = None
) -> OperationCategory:
    """Rename a category in this operation only (its English name, its other languages' names or
    both); the catalogue and every other operation keep theirs."""
    _require_coordinator(membership)
    operation = membership.operation
    category = (
        OperationCategory.objects.select_for_update(no_key=True, of=("self",))
        .select_related("category")
        .filter(operation=operation, category__code=code)
        .first()
    )
    if category is None:
        raise NotFound("category")
    old = {"name": category.name, "names": dict(category.names)}
    if name.strip():
        category.name = name.strip()
    if names is not None:
        category.names = {**category.names, **_category_names(names)}
    _category_checked(category)
    if (
        OperationCategory.objects.filter(operation=operation, name=category.name)
        .exclude(pk=category.pk)
        .exists()
    ):
        raise ValidationError({"name": [gettext("Another category of this operation has this name.")]})
    audit.category_renamed(
        actor=membership.user,
        operation=operation,
        target=category,
        data={
            "code": code,
            "from": old["name"],
            "to": category.name,
            "names_from": old["names"],
            "names_to": category.names,
        },
    )
    category.save(update_fields=["name", "names"])
    _resync(operation, "category_renamed")
    return category


@transaction.atomic
def goods_reclassify(
    *,
    membership: Membership,
    from_category: str,
    to_category: str,
    reason: str,
    result_uuids: Sequence[object] | None = None,
) -> int:
    """Move current goods lines of one category into another, as a new version per result.

    Returns how many results got a new version. Closed operations keep their history as it is.
    """
    _require_coordinator(membership)
    operation = operation_hold_state(membership.operation)
    _require_open(operation)
    categories = _categories(operation, [from_category, to_category])
    errors = {}
    for field, code in (("from_category", from_category), ("to_category", to_category)):
        if code not in categories:
            errors[field] = [f"Unknown commodity category {code!r}."]
    if from_category == to_category:
        errors["to_category"] = ["Choose another category."]
    if not reason.strip():
        errors["reason"] = ["Say why the goods are reclassified."]
    if errors:
        raise ValidationError(errors)
    source, target = categories[from_category], categories[to_category]
    results = Result.objects.filter(
        operation=operation,
        versions__is_current=True,
        versions__lines__category=source,
    )
    if result_uuids is not None:
        results = results.filter(uuid__in=[str(access_result(membership, u).uuid) for u in result_uuids])
    locked = list(
        Result.objects.select_for_update(no_key=True).filter(pk__in=results.values("pk")).order_by("pk")
    )
    names = category_labels(operation.pk, "en")  # the record is kept in English
    text = f"Reclassified from {names[source.pk]} to {names[target.pk]}: {reason.strip()}"[:500]
    for result in locked:
        _version_copy(
            result=result,
            actor=membership.user,
            reason=text,
            change=lambda line: target if line.category_id == source.pk else line.category,
        )
    audit.goods_reclassified(
        actor=membership.user,
        operation=operation,
        data={"from": source.code, "to": target.code, "results": [str(r.uuid) for r in locked]},
    )
    _resync(operation, "reclassified")
    return len(locked)


def _version_copy(
    *,
    result: Result,
    actor: AbstractBaseUser,
    reason: str,
    change: Any = None,
    voided: bool | None = None,
) -> ResultVersion:
    """A new version equal to the current one but for each line's category (``change(line)``, if
    given) and, if given, ``voided``. A reclassification keeps a voided result voided."""
    previous = result.versions.get(is_current=True)
    version = ResultVersion(**{f: getattr(previous, f) for f in PLAIN_FIELDS.values()})
    version.voided = previous.voided if voided is None else voided
    lines = [
        (
            GoodsLine(
                position=line.position,
                category=line.category if change is None else change(line),
                **{f: getattr(line, f) for f in LINE_FIELDS},
            ),
            line_brand(previous, line),
        )
        for line in previous.lines.select_related("category")
    ]
    return _version_write(
        result=result,
        version=version,
        lines=lines,
        sealed=sealed_fields(previous),
        actor=actor,
        reason=reason,
    )


# --- photos -------------------------------------------------------------------------------------

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


# --- keys ---------------------------------------------------------------------------------------


@transaction.atomic
def operation_key_rotate(*, operation: Operation, actor: AbstractBaseUser | None) -> int:
    """A new data key for the operation's sealed results; returns how many records were re-sealed.

    See results.sealing.reseal_operation for what is re-sealed and why versions keep theirs.
    """
    operation = operation_hold_state(operation)
    count = sealing.reseal_operation(operation.pk)
    audit.operation_key_rotated(actor=actor, operation=operation, resealed=count)
    return count
