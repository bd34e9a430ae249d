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
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from cencomm.audit import audit_record
from cencomm.chain import chain_append
from cencomm.crypto import seal, seal_text
from cencomm.errors import NotFound, Refused
from cencomm.live import board_group, publish_on_commit
from cencomm.uploads import IMAGES, check_upload
from operations.models import CommodityCategory, EntryPoint, Membership, Operation
from operations.selectors import operation_entry_points
from operations.services import operation_hold_state
from results import events
from results.models import (
    BoardSequence,
    GoodsLine,
    HandlingCode,
    NilReturn,
    Result,
    ResultPhoto,
    ResultVersion,
    Unit,
    photo_context,
    sealed_context,
)
from results.selectors import (
    SEALED_FIELDS,
    access_result,
    compliance_cells,
    line_brand,
    results_chain_name,
    sealed_fields,
    sealed_scope,
    version_payload,
    warning_visible,
)

Role = Membership.Role
State = Operation.State
POST_ROLES = (Role.COORDINATOR, Role.OFFICER)
FUTURE_SKEW = dt.timedelta(minutes=10)
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
    if membership.role not in POST_ROLES:
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


def _categories(codes: Iterable[str]) -> dict[str, CommodityCategory]:
    return {c.code: c for c in CommodityCategory.objects.filter(code__in=set(codes), active=True)}


def _version_errors(version: ResultVersion) -> dict[str, list[str]]:
    api_name = {model: api for api, model in PLAIN_FIELDS.items()}
    try:
        version.full_clean(
            exclude=["result", "number", "created_at", "created_by", "chain_seq", "prev_hash", "hash"]
        )
    except ValidationError as exc:
        return {api_name.get(f, f): [str(m) for m in msgs] for f, msgs in exc.message_dict.items()}
    return {}


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
    categories = _categories(line.category for line in content.lines)
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
        lines.append((line, item.brand))
    if errors:
        raise ValidationError(errors)
    return version, lines


# --- writing versions ---------------------------------------------------------------------------


def _seal(result: Result, number: int, field: str, text: str | None) -> bytes | None:
    if not text:
        return None
    return seal_text(
        scope=sealed_scope(result), context=sealed_context(result.uuid, number, field), text=text
    )


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
        setattr(version, f"{field}_sealed", _seal(result, number, field, sealed.get(field)))
    version.chain_seq, version.prev_hash, version.hash = 0, "", ""
    version.save()
    for line, brand in lines:
        line.pk, line.version = None, version
        line.brand_sealed = _seal(result, number, f"line{line.position}:brand", brand)
    GoodsLine.objects.bulk_create([line for line, _ in lines])
    # Hash what the database holds, read back, so verify_chain recomputes the same payload.
    stored = ResultVersion.objects.select_related("result").get(pk=version.pk)
    link = chain_append(results_chain_name(result.operation_id), version_payload(stored))
    ResultVersion.objects.filter(pk=version.pk).update(
        chain_seq=link.seq, prev_hash=link.prev_hash, hash=link.hash
    )
    version.chain_seq, version.prev_hash, version.hash = link.seq, link.prev_hash, link.hash
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
    """Store a new result, or return the one already stored under ``client_id`` (created=False)."""
    operation = operation_hold_state(membership.operation)
    existing = _by_client_id(membership, client_id)
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
        existing = _by_client_id(membership, client_id)
        if existing is None:
            raise
        return existing, False
    sealed = {f: getattr(content, f) for f in SEALED_FIELDS}
    _version_write(
        result=result, version=version, lines=lines, sealed=sealed, actor=membership.user, reason=""
    )
    audit_record(
        action="result.post",
        actor=membership.user,
        operation=operation,
        target=result,
        data={"uuid": str(result.uuid), "entry_point": entry_point.pk, "late": late, "hash": version.hash},
    )
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


def _by_client_id(membership: Membership, client_id: str) -> Result | None:
    result = Result.objects.filter(operation=membership.operation, client_id=client_id).first()
    if result is None:
        return None
    if result.reported_by_id != membership.user_id:
        raise ValidationError({"client_id": ["This client ID is already used by another result."]})
    return result


# --- correcting ---------------------------------------------------------------------------------


def _lock_result(membership: Membership, result_uuid: object) -> Result:
    """The result under lock, its operation's state held first (see operation_hold_state)."""
    result = access_result(membership, result_uuid)
    operation = operation_hold_state(membership.operation)
    locked = Result.objects.select_for_update(no_key=True, of=("self",)).get(pk=result.pk)
    locked.operation = operation
    return locked


def may_correct(membership: Membership, result: Result) -> bool:
    return membership.role == Role.COORDINATOR or (
        membership.role == Role.OFFICER and result.entry_point_id == membership.entry_point_id
    )


def _may_correct(membership: Membership, result: Result) -> None:
    if not may_correct(membership, result):
        raise Refused("Only the entry point's officers and coordinators correct a result.")


@transaction.atomic
def result_correct(
    *, membership: Membership, result_uuid: object, content: ResultInput, reason: str
) -> ResultVersion:
    """Store a corrected version; the earlier versions stay readable, validation starts again."""
    result = _lock_result(membership, result_uuid)
    _may_correct(membership, result)
    _require_open(result.operation)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [gettext("Say why the result is corrected.")]})
    if len(reason) > 500:
        raise ValidationError({"reason": ["At most 500 characters."]})
    version, lines = _validate(membership, content)
    previous = result.versions.get(is_current=True)
    old_sealed = sealed_fields(previous)
    sealed = {f: old_sealed[f] if getattr(content, f) is None else getattr(content, f) for f in SEALED_FIELDS}
    old_brands = {line.position: line_brand(previous, line) for line in previous.lines.all()}
    lines = [(line, old_brands.get(line.position) if brand is None else brand) for line, brand in lines]
    new = _version_write(
        result=result, version=version, lines=lines, sealed=sealed, actor=membership.user, reason=reason
    )
    _reset_validation(result)
    audit_record(
        action="result.correct",
        actor=membership.user,
        operation=result.operation,
        target=result,
        data={"uuid": str(result.uuid), "version": new.number, "hash": new.hash},
    )
    _publish_version(result, previous, new, "corrected")
    return new


def _reset_validation(result: Result) -> None:
    if result.validation != Result.Validation.PENDING:
        result.validation = Result.Validation.PENDING
        result.validated_by, result.validated_at = None, None
        result.save(update_fields=["validation", "validated_by", "validated_at"])


# --- validating ---------------------------------------------------------------------------------


@transaction.atomic
def result_validate(
    *, membership: Membership, result_uuid: object, decision: str, comment: str = ""
) -> Result:
    """A national contact point validates or returns one of their administration's results."""
    result = _lock_result(membership, result_uuid)
    if membership.role != Role.NATIONAL_CONTACT or membership.administration_id != result.administration_id:
        raise Refused("Only the administration's national contact point validates its results.")
    if result.operation.state not in (State.ACTIVE, State.FOLLOW_UP, State.CLOSED):
        raise Refused("Results of this operation cannot be validated now.")
    if decision not in (Result.Validation.VALIDATED, Result.Validation.RETURNED):
        raise ValidationError({"decision": ["Choose validated or returned."]})
    comment = comment.strip()
    if decision == Result.Validation.RETURNED and not comment:
        raise ValidationError({"comment": ["Say why the result is returned."]})
    result.validation, result.validation_comment = decision, comment[:1000]
    result.validated_by, result.validated_at = membership.user, timezone.now()
    result.save(update_fields=["validation", "validation_comment", "validated_by", "validated_at"])
    audit_record(
        action=f"result.{decision}",
        actor=membership.user,
        operation=result.operation,
        target=result,
        data={"uuid": str(result.uuid)},
    )
    current = result.versions.get(is_current=True)
    seq = _board_bump(result.operation)
    publish_on_commit(board_group(result.operation_id), events.validation_changed(seq=seq, version=current))
    return result


# --- nil returns --------------------------------------------------------------------------------


@transaction.atomic
def nil_return_post(*, membership: Membership, entry_point_id: int, day: dt.date) -> tuple[NilReturn, bool]:
    """The entry point found nothing on ``day``; posting it again changes nothing."""
    operation = operation_hold_state(membership.operation)
    _require_open(operation)
    entry_point = _posting_entry_point(membership, entry_point_id)
    if day not in operation.window_days:
        raise ValidationError({"day": [gettext("The day is outside the operation's window.")]})
    if day > timezone.now().astimezone(dt.UTC).date():
        raise ValidationError({"day": [gettext("The day has not begun yet.")]})
    nil, created = NilReturn.objects.get_or_create(
        operation=operation,
        entry_point=entry_point,
        day=day,
        defaults={"reported_by": membership.user},
    )
    if created:
        audit_record(
            action="result.nil_return",
            actor=membership.user,
            operation=operation,
            target=nil,
            data={"entry_point": entry_point.pk, "day": day.isoformat()},
        )
        seq = _board_bump(operation)
        cells = compliance_cells(operation, [(entry_point.pk, day)])
        publish_on_commit(board_group(operation.pk), events.compliance_changed(seq=seq, cells=cells))
    return nil, created


# --- commodity categories -----------------------------------------------------------------------


def _require_coordinator(membership: Membership) -> None:
    if membership.role != Role.COORDINATOR:
        raise Refused("Only coordinators change commodity categories.")


def _resync(operation: Operation, kind: str) -> None:
    seq = _board_bump(operation)
    publish_on_commit(board_group(operation.pk), events.resync(seq=seq, kind=kind))


@transaction.atomic
def category_add(*, membership: Membership, code: str, name: str) -> CommodityCategory:
    _require_coordinator(membership)
    category = CommodityCategory(code=code.strip(), name=name.strip())
    category.full_clean()
    category.save()
    audit_record(
        action="category.add",
        actor=membership.user,
        operation=membership.operation,
        target=category,
        data={"code": category.code, "name": category.name},
    )
    _resync(membership.operation, "category_added")
    return category


@transaction.atomic
def category_rename(*, membership: Membership, code: str, name: str) -> CommodityCategory:
    _require_coordinator(membership)
    category = CommodityCategory.objects.select_for_update(no_key=True).filter(code=code).first()
    if category is None:
        raise NotFound("category")
    old_name = category.name
    category.name = name.strip()
    category.full_clean()
    # The audit first: it queues on the operation's chain head behind posts in flight, before the
    # name (a unique column, so a key) is changed. Changed first, it would lock the row against
    # those posts' foreign-key checks at commit while waiting for their chain head: a deadlock.
    audit_record(
        action="category.rename",
        actor=membership.user,
        operation=membership.operation,
        target=category,
        data={"code": code, "from": old_name, "to": category.name},
    )
    category.save(update_fields=["name"])
    _resync(membership.operation, "category_renamed")
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
    categories = _categories([from_category, to_category])
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
    text = f"Reclassified from {source.name} to {target.name}: {reason.strip()}"[:500]
    for result in locked:
        _version_copy(
            result=result,
            actor=membership.user,
            reason=text,
            change=lambda line: target if line.category_id == source.pk else line.category,
        )
    audit_record(
        action="goods.reclassify",
        actor=membership.user,
        operation=operation,
        data={"from": source.code, "to": target.code, "results": [str(r.uuid) for r in locked]},
    )
    _resync(operation, "reclassified")
    return len(locked)


def _version_copy(*, result: Result, actor: AbstractBaseUser, reason: str, change: Any) -> ResultVersion:
    """A new version equal to the current one except for each line's category (``change(line)``)."""
    previous = result.versions.get(is_current=True)
    version = ResultVersion(**{f: getattr(previous, f) for f in PLAIN_FIELDS.values()})
    lines = [
        (
            GoodsLine(
                position=line.position, category=change(line), **{f: getattr(line, f) for f in LINE_FIELDS}
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
    _may_correct(membership, result)
    _require_open(result.operation)
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
    scope = sealed_scope(result)
    photo.original = seal(scope=scope, context=photo_context(photo, result.uuid, "original"), plaintext=data)
    photo.display = seal(
        scope=scope, context=photo_context(photo, result.uuid, "display"), plaintext=upload.display
    )
    photo.save()
    audit_record(
        action="result.photo",
        actor=membership.user,
        operation=result.operation,
        target=photo,
        data={"result": str(result.uuid), "sha256": photo.sha256, "size": photo.size},
    )
    return photo
