"""Writing a result's versions: store one as current and append it to the results chain, copy the
current one with a change (void, restore, reclassification), index it for search in place of the
version before, bump the board and publish what changed.

Locks are always taken in the same order: results (by pk), chain head, board sequence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext

from cencomm.errors import Refused
from cencomm.live import board_group, publish_on_commit
from operations.models import Membership, Operation
from operations.services import operation_hold_state
from results import events, sealing
from results.chain import chain_version
from results.indexing import version_index
from results.models import BoardSequence, GoodsLine, Result, ResultVersion
from results.sealing import SEALED_FIELDS, line_brand, sealed_fields
from results.selectors import access_result
from results.services.inputs import LINE_FIELDS, PLAIN_FIELDS


def _version_write(
    *,
    result: Result,
    version: ResultVersion,
    lines: Sequence[tuple[GoodsLine, str | None]],
    sealed: dict[str, str | None],
    actor: AbstractBaseUser,
    reason: str,
) -> ResultVersion:
    """Store ``version`` as the result's current one, append it to the chain and index it."""
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
    version_index(result, version, lines=lines, sealed=sealed)  # its words replace the last version's
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


def _lock_result(membership: Membership, result_uuid: object) -> Result:
    """The result under lock, its operation's state held first (see operation_hold_state); Refused
    once the operation is shredded (a void, restore, correction or validation would write records
    again, index them under a new search key, and bring back a validator's comment)."""
    result = access_result(membership, result_uuid)
    operation = operation_hold_state(membership.operation)
    if operation.shredded_at is not None:  # closed, reviewable by state, but nothing left to change
        raise Refused(gettext("This operation's records were shredded: it stays as it is."))
    locked = Result.objects.select_for_update(no_key=True, of=("self",)).get(pk=result.pk)
    locked.operation = operation
    membership.operation = operation
    return locked


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
