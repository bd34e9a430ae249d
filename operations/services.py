"""Every write to operations and membership. Each records an audit event through operations.audit and
publishes on commit; writes that shape an operation send ``operations.signals.operation_changed``."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from cencomm.errors import NotFound, Refused
from cencomm.formats import exact_or_none
from cencomm.live import publish_on_commit, user_group
from cencomm.models import ApiToken
from cencomm.principal import TOKEN_PREFIX, token_digest
from operations import audit, selectors
from operations.models import (
    Administration,
    CommodityCategory,
    EntryPoint,
    LegalHold,
    Membership,
    Operation,
    OperationCategory,
    OperationTransition,
    Participation,
)
from operations.signals import operation_changed

State = Operation.State
TRANSITIONS: dict[str, set[str]] = {
    State.PLANNED: {State.ACTIVE, State.CLOSED},
    State.ACTIVE: {State.FOLLOW_UP},
    State.FOLLOW_UP: {State.ACTIVE, State.CLOSED},
    State.CLOSED: {State.ARCHIVED, State.FOLLOW_UP},
    State.ARCHIVED: set(),
}


def operation_hold_state(operation: Operation) -> Operation:
    """Re-read the operation's state under a shared lock kept to the end of the caller's transaction.

    Every write that depends on the state (posting, correcting, messaging) takes this first, before
    any other lock; a lifecycle transition takes the row FOR NO KEY UPDATE. So a write and a
    transition queue one behind the other and nothing lands in an operation that has just closed.
    FOR SHARE does not hold up other writers, nor PostgreSQL's foreign-key checks (KEY SHARE).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("operation_hold_state must run inside a transaction")
    table = Operation._meta.db_table
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""  # SQLite: one writer at a time
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state, access_epoch, shredded_at FROM {table} WHERE id = %s{lock}",  # noqa: S608
            [operation.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Operation.DoesNotExist
    # The access epoch read under the same lock: a change of who may see what (which bumps it with
    # an UPDATE, see access_epoch_bump) queues behind this transaction or is already in the value.
    # And whether it was shredded: a shredding (which holds the row FOR NO KEY UPDATE) ran meanwhile.
    operation.state, operation.access_epoch, shredded_at = row
    operation.shredded_at = parse_datetime(shredded_at) if isinstance(shredded_at, str) else shredded_at
    return operation


def access_epoch_bump(*, operation_id: int) -> None:
    """Who may see what in the operation changes in the caller's transaction: bump its access epoch.

    Every live hint carries the epoch its write read under ``operation_hold_state``; a socket that
    checked its access at an older epoch checks again before it delivers anything (docs/protocol.md).
    Called first in the transaction, so the operation's row is locked before any other row, as the
    writers that hold its state do.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("access_epoch_bump must run inside a transaction")
    Operation.objects.filter(pk=operation_id).update(access_epoch=F("access_epoch") + 1)


def user_access_changed_receiver(
    *, instance: AbstractBaseUser, update_fields: Any = None, **kwargs: Any
) -> None:
    """``post_save`` of a user: a deactivated account loses every operation at once (its sockets'
    next hint carries a new epoch, so they check again). A save that only touches other fields
    (``last_login`` at sign-in) changes nothing here."""
    if instance.is_active or (update_fields is not None and "is_active" not in update_fields):
        return
    with transaction.atomic():
        for operation_id in Membership.objects.filter(user_id=instance.pk).values_list(
            "operation_id", flat=True
        ):
            access_epoch_bump(operation_id=operation_id)


@transaction.atomic
def operation_transition(*, operation: Operation, to_state: str, actor: AbstractBaseUser | None) -> Operation:
    operation = Operation.objects.select_for_update(no_key=True).get(pk=operation.pk)
    access_epoch_bump(operation_id=operation.pk)  # an archived operation is no one's any more
    if operation.shredded_at is not None:
        raise Refused(gettext("This operation's records were shredded: it stays as it is."), field="state")
    if to_state not in TRANSITIONS.get(operation.state, set()):
        raise Refused(
            f"An operation in state {operation.get_state_display()!r} cannot move to {to_state!r}.",
            field="state",
        )
    from_state = operation.state
    operation.state = to_state
    # Retention counts from the close; reopening for follow-up starts the count again at the next one.
    if to_state == State.CLOSED:
        operation.closed_at = timezone.now()
    elif from_state == State.CLOSED and to_state != State.ARCHIVED:
        operation.closed_at = None
    operation.save(update_fields=["state", "closed_at"])
    OperationTransition.objects.create(
        operation=operation, from_state=from_state, to_state=to_state, by=actor
    )
    audit.operation_transitioned(operation=operation, actor=actor, from_state=from_state, to_state=to_state)
    return operation


@transaction.atomic
def membership_add(
    *,
    operation: Operation,
    user: AbstractBaseUser,
    role: str,
    actor: AbstractBaseUser | None,
    administration: Administration | None = None,
    entry_point: EntryPoint | None = None,
) -> Membership:
    existing = Membership.objects.filter(operation=operation, user=user).first()
    wanted_admin = (
        entry_point.administration_id
        if entry_point is not None
        else (administration.pk if administration else None)
    )
    if existing is not None and (existing.role, existing.administration_id, existing.entry_point_id) == (
        role,
        wanted_admin,
        entry_point.pk if entry_point else None,
    ):
        return existing
    membership = existing or Membership(operation=operation, user=user)
    membership.role = role
    membership.administration = administration
    membership.entry_point = entry_point
    if entry_point is not None:
        membership.administration = entry_point.administration
    membership.full_clean(exclude=["operation", "user"])
    access_epoch_bump(operation_id=operation.pk)
    participating = operation.participations.filter(administration_id=membership.administration_id).first()
    if membership.administration_id and participating is None:
        raise ValidationError({"administration": "This administration does not take part."})
    if entry_point is not None and not participating.entry_points.filter(pk=entry_point.pk).exists():
        raise ValidationError({"entry_point": "This entry point does not take part."})
    changed = membership.pk is not None
    membership.save()
    audit.membership_saved(membership=membership, actor=actor, changed=changed)
    operation_announce(operation=operation)
    if changed:  # open sockets re-check what this user may see
        publish_on_commit(
            user_group(user.pk),
            {"type": "access.changed", "operation": operation.pk},
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: AbstractBaseUser | None) -> None:
    operation, user_id = membership.operation, membership.user_id
    access_epoch_bump(operation_id=operation.pk)
    audit.membership_removed(membership=membership, actor=actor)
    membership.delete()
    publish_on_commit(user_group(user_id), {"type": "access.changed", "operation": operation.pk})


@transaction.atomic
def operation_load(data: dict[str, Any], *, actor: AbstractBaseUser | None = None) -> Operation:
    """Create or update an operation from a plain description (the ``load_operation`` format).

    Loading the same description twice changes nothing the second time.
    """
    errors: dict[str, str] = {}
    for key in ("code", "name", "window_start", "window_end", "administrations"):
        if key not in data:
            errors[key] = "This field is required."
    if errors:
        raise ValidationError(errors)

    listed = []  # the description's categories: into the shared catalogue once, and the operation's list
    for position, category in enumerate(data.get("categories", []), start=1):
        names = category.get("names") or {}
        entry, _ = CommodityCategory.objects.get_or_create(
            code=category["code"],
            defaults={"name": category["name"], "names": names, "position": position * 10},
        )
        if names and not entry.names:
            entry.names = names
            entry.full_clean()
            entry.save(update_fields=["names"])
        listed.append((position * 10, entry, category["name"], names))

    operation = Operation.objects.filter(code=data["code"]).first() or Operation(code=data["code"])
    operation.name = data["name"]
    operation.objectives = data.get("objectives", "")
    operation.window_start = _parse_time(data["window_start"], "window_start")
    operation.window_end = _parse_time(data["window_end"], "window_end")
    created = operation.pk is None
    retention = data.get("retention_days")
    if created and retention is not None:  # set when created; a reload changes it as a coordinator would
        operation.retention_days = retention
    operation.full_clean(exclude=["state"] if created else None)
    if created:
        operation.save()
    else:  # never the access epoch read above: a bump committed since would be undone
        operation.save(update_fields=["name", "objectives", "window_start", "window_end"])
    if created:
        audit.operation_created(operation=operation, actor=actor)
    elif retention is not None and retention != operation.retention_days:
        operation = operation_retention_set(operation=operation, retention_days=retention, actor=actor)
    _operation_categories_start(operation, listed, created=created)

    targets = data.get("target_categories", [])
    unknown = set(targets) - set(
        CommodityCategory.objects.filter(code__in=targets).values_list("code", flat=True)
    )
    if unknown:
        raise ValidationError({"target_categories": f"Unknown categories: {', '.join(sorted(unknown))}"})
    operation.target_categories.set(CommodityCategory.objects.filter(code__in=targets))

    for item in data["administrations"]:
        administration, _ = Administration.objects.update_or_create(
            country=item["country"], defaults={"name": item["name"]}
        )
        administration.full_clean()
        participation, _ = Participation.objects.get_or_create(
            operation=operation, administration=administration
        )
        for ep in item.get("entry_points", []):
            entry_point, _ = EntryPoint.objects.update_or_create(
                administration=administration,
                name=ep["name"],
                defaults={
                    "kind": ep["kind"],
                    "unlocode": ep.get("unlocode", ""),
                    "time_zone": ep["time_zone"],
                    "latitude": exact_or_none(ep.get("latitude")),
                    "longitude": exact_or_none(ep.get("longitude")),
                },
            )
            entry_point.full_clean()
            participation.entry_points.add(entry_point)

    wanted = data.get("state")
    if wanted and wanted != operation.state:
        for step in _path(operation.state, wanted):
            operation = operation_transition(operation=operation, to_state=step, actor=actor)
    operation_announce(operation=operation)
    return operation


# --- retention and legal hold --------------------------------------------------------------------


def _validated_days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError({"retention_days": gettext("Give a whole number of days.")})
    try:
        days = int(value)
    except ValueError:
        raise ValidationError({"retention_days": gettext("Give a whole number of days.")}) from None
    try:
        Operation._meta.get_field("retention_days").run_validators(days)
    except ValidationError as exc:
        raise ValidationError({"retention_days": exc.messages}) from None
    return days


def _reason(value: Any, field: str) -> str:
    reason = str(value or "").strip()
    if not reason:
        raise ValidationError({field: gettext("Give the reason.")})
    if len(reason) > 500:
        raise ValidationError({field: gettext("A reason has at most 500 characters.")})
    return reason


@transaction.atomic
def operation_retention_set(
    *,
    operation: Operation,
    retention_days: Any,
    actor: AbstractBaseUser | None,
    membership: Membership | None = None,
) -> Operation:
    """How many days after its close the operation's records are kept (then retention shreds them).

    ``membership``: the asking member's, checked (a coordinator); None for the loader and the admin.
    """
    if membership is not None and not selectors.may_change_retention(membership):
        raise NotFound("operation")
    days = _validated_days(retention_days)
    locked = Operation.objects.select_for_update(no_key=True).get(pk=operation.pk)
    if locked.shredded_at is not None:
        raise Refused(gettext("This operation's records were shredded already."), field="retention_days")
    if days != locked.retention_days:
        from_days = locked.retention_days
        Operation.objects.filter(pk=locked.pk).update(retention_days=days)
        operation.retention_days = locked.retention_days = days
        audit.retention_changed(operation=locked, actor=actor, from_days=from_days)
    return operation


@transaction.atomic
def legal_hold_set(
    *, operation: Operation, reason: Any, actor: AbstractBaseUser, membership: Membership | None
) -> LegalHold:
    """Stop retention from shredding the operation until the hold is lifted (coordinator or hub admin)."""
    if not selectors.may_hold(actor, membership):
        raise NotFound("operation")
    text = _reason(reason, "reason")
    # The operation's row lock orders a hold and a shredding run (records.retention.operation_shred).
    locked = Operation.objects.select_for_update(no_key=True).get(pk=operation.pk)
    if locked.shredded_at is not None:
        raise Refused(gettext("This operation's records were shredded already."), field="reason")
    if selectors.standing_hold(locked) is not None:
        raise Refused(gettext("A legal hold already stands on this operation."), field="reason")
    hold = LegalHold.objects.create(operation=locked, reason=text, set_by=actor)
    audit.legal_hold_set(hold=hold, actor=actor)
    return hold


@transaction.atomic
def legal_hold_lift(
    *, operation: Operation, reason: Any, actor: AbstractBaseUser, membership: Membership | None
) -> LegalHold:
    """Lift the standing hold, saying why; retention shreds the operation at its next run if it is due."""
    if not selectors.may_hold(actor, membership):
        raise NotFound("operation")
    text = _reason(reason, "lift_reason")
    locked = Operation.objects.select_for_update(no_key=True).get(pk=operation.pk)
    hold = selectors.standing_hold(locked)
    if hold is None:
        raise Refused(gettext("No legal hold stands on this operation."), field="lift_reason")
    hold.lifted_by, hold.lifted_at, hold.lift_reason = actor, timezone.now(), text
    hold.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
    audit.legal_hold_lifted(hold=hold, actor=actor)
    return hold


@transaction.atomic
def operation_announce(*, operation: Operation) -> None:
    """Tell the apps above (rooms) that the operation or its participants changed, in this
    transaction: they make what the operation needs now (its rooms), so reads never write.
    Called by the services here, and by the admin after it saves participations (an administration
    added or removed changes who may see which room: the access epoch moves)."""
    access_epoch_bump(operation_id=operation.pk)
    operation_changed.send(sender=Operation, operation=operation)


def _operation_categories_start(
    operation: Operation, listed: list[tuple[int, CommodityCategory, str, dict[str, str]]], *, created: bool
) -> None:
    """The operation's own categories: those its description lists, or (a new operation whose
    description lists none) every active one of the catalogue. Names changed since are kept."""
    if not listed and created:
        listed = [(c.position, c, c.name, c.names) for c in CommodityCategory.objects.filter(active=True)]
    for position, entry, name, names in listed:
        own, made = OperationCategory.objects.get_or_create(
            operation=operation, category=entry, defaults={"name": name, "names": names, "position": position}
        )
        if made:
            own.full_clean()
        elif names and not own.names:
            own.names = names
            own.save(update_fields=["names"])


def _path(start: str, goal: str) -> list[str]:
    """The shortest chain of allowed transitions from ``start`` to ``goal``."""
    frontier: list[list[str]] = [[start]]
    seen = {start}
    while frontier:
        path = frontier.pop(0)
        if path[-1] == goal:
            return path[1:]
        for nxt in sorted(TRANSITIONS.get(path[-1], set())):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append([*path, nxt])
    raise ValidationError({"state": f"Cannot move from {start!r} to {goal!r}."})


def _parse_time(value: Any, field: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise ValidationError({field: f"{value!r} is not an ISO 8601 date and time."}) from None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


# --- personal access tokens ----------------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *, user: AbstractBaseUser, operation: Operation, name: str, days: int
) -> tuple[ApiToken, str]:
    """A new token; the plaintext is returned once and only its digest is stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name."})
    if not 1 <= days <= settings.CENCOMM_API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {"days": f"A token lives from 1 to {settings.CENCOMM_API_TOKEN_MAX_DAYS} days."}
        )
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        operation=operation,
        name=name[:80],
        prefix=plaintext[:10],
        digest=token_digest(plaintext),
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    audit.token_created(token=token, actor=user)
    return token, plaintext


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: AbstractBaseUser) -> ApiToken:
    """Revoked at once for the API; the sockets opened with it close once this commits."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        access_epoch_bump(operation_id=token.operation_id)
        token.save(update_fields=["revoked_at"])
        audit.token_revoked(token=token, actor=actor)
        publish_on_commit(
            user_group(token.user_id), {"type": "access.changed", "operation": token.operation_id}
        )
    return token
