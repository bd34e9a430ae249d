"""Reads of results: who may see which result, what each member may do with it, the results list.

``access_*`` raise NotFound for anything the member may not see. The permission predicates
(``may_*``, ``postable_entry_points``) are the one statement of each rule: the services raise on
them, the pages and the API turn them into flags. The board's aggregates and its filter live in
``results.board``; sealed values in ``results.sealing``; the chain in ``results.chain``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from cencomm.errors import NotFound
from messaging.models import Message
from messaging.selectors import rooms_for
from operations.models import EntryPoint, Membership, Operation
from operations.selectors import operation_entry_points
from results.board import NO_FILTER, BoardFilter, current_versions, local_day
from results.chain import results_chain_name
from results.models import Result, ResultPhoto, ResultVersion

Role = Membership.Role
State = Operation.State
READ_ROLES = (Role.COORDINATOR, Role.NATIONAL_CONTACT, Role.OFFICER, Role.ANALYST, Role.OBSERVER)
BOARD_ROLES = (Role.COORDINATOR, Role.NATIONAL_CONTACT, Role.ANALYST, Role.OBSERVER)
POST_ROLES = (Role.COORDINATOR, Role.OFFICER)
#: States in which results are posted, corrected and voided by officers (late in follow-up).
OPEN_STATES = (State.ACTIVE, State.FOLLOW_UP)
#: States in which a national contact point reviews results (validates, voids), and coordinators void.
REVIEW_STATES = (State.ACTIVE, State.FOLLOW_UP, State.CLOSED)

__all__ = [
    "BOARD_ROLES",
    "OPEN_STATES",
    "POST_ROLES",
    "READ_ROLES",
    "REVIEW_STATES",
    "access_result",
    "access_result_photo",
    "counted_on_day",
    "current_version",
    "entry_point_day",
    "entry_point_window_days",
    "may_change_categories",
    "may_correct",
    "may_post",
    "may_see_board",
    "may_see_sealed",
    "may_validate",
    "may_void",
    "postable_entry_points",
    "results_chain_name",
    "results_list",
    "visible_results",
    "warning_visible",
]


def visible_results(membership: Membership) -> QuerySet[Result]:
    """Results the member may see: officers their entry point's, NCPs their administration's."""
    results = Result.objects.filter(operation_id=membership.operation_id)
    if membership.role == Role.OFFICER:
        return results.filter(entry_point_id=membership.entry_point_id)
    if membership.role not in READ_ROLES:
        return results.none()
    return results


def access_result(membership: Membership, result_uuid: object) -> Result:
    """A result of the member's operation that they may see, or NotFound."""
    try:
        key = uuid.UUID(str(result_uuid))
    except ValueError:
        raise NotFound("result") from None
    result = (
        visible_results(membership)
        .select_related("entry_point", "administration", "reported_by")
        .filter(uuid=key)
        .first()
    )
    if result is None:
        raise NotFound("result")
    return result


def access_result_photo(membership: Membership, result_uuid: object, photo_uid: object) -> ResultPhoto:
    """A photo of a result the member may see, or NotFound."""
    result = access_result(membership, result_uuid)
    try:
        key = uuid.UUID(str(photo_uid))
    except ValueError:
        raise NotFound("photo") from None
    photo = result.photos.filter(uid=key).first()
    if photo is None:
        raise NotFound("photo")
    return photo


def current_version(result: Result) -> ResultVersion:
    return result.versions.get(is_current=True)


def results_list(
    membership: Membership,
    flt: BoardFilter = NO_FILTER,
    *,
    outcome: str | None = None,
    validation: str | None = None,
) -> QuerySet[ResultVersion]:
    """The current versions of the results the member may see, voided ones too, newest first."""
    versions = current_versions(membership.operation, flt).filter(result__in=visible_results(membership))
    if outcome:
        versions = versions.filter(outcome=outcome)
    if validation:
        versions = versions.filter(result__validation=validation)
    return (
        versions.select_related("result__entry_point", "result__administration")
        .prefetch_related("lines__category")
        .order_by("-inspected_at", "-pk")
    )


# --- an entry point's days (nil returns are per day on the entry point's own clock) ---------------


def entry_point_day(entry_point: EntryPoint, moment: dt.datetime) -> dt.date:
    """The day ``moment`` fell on at the entry point (its time zone): ``results.board.local_day``."""
    return local_day(moment, entry_point.time_zone)


def entry_point_window_days(entry_point: EntryPoint, operation: Operation) -> list[dt.date]:
    """The entry point's local days that the operation's window touches."""
    first = entry_point_day(entry_point, operation.window_start)
    last = entry_point_day(entry_point, operation.window_end - dt.timedelta(microseconds=1))
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def counted_on_day(operation: Operation, entry_point: EntryPoint, day: dt.date) -> QuerySet[ResultVersion]:
    """Current, not voided versions of the entry point's results inspected on its local ``day``."""
    zone = ZoneInfo(entry_point.time_zone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return ResultVersion.objects.filter(
        result__operation=operation,
        result__entry_point=entry_point,
        is_current=True,
        voided=False,
        inspected_at__gte=start.astimezone(dt.UTC),
        inspected_at__lt=end.astimezone(dt.UTC),
    )


# --- what a member may do ------------------------------------------------------------------------


def may_post(membership: Membership) -> bool:
    """Officers (for their entry point) and coordinators (for any) post results and nil returns."""
    return membership.role in POST_ROLES


def may_see_board(membership: Membership) -> bool:
    """Coordinators, national contact points, analysts and observers watch the board (officers post)."""
    return membership.role in BOARD_ROLES


def may_change_categories(membership: Membership) -> bool:
    """Coordinators add, rename and reclassify the operation's commodity categories."""
    return membership.role == Role.COORDINATOR


def postable_entry_points(membership: Membership) -> list[EntryPoint]:
    """The entry points the member may post results and nil returns for."""
    if not may_post(membership):
        return []
    entry_points = list(operation_entry_points(membership.operation))
    if membership.role == Role.OFFICER:
        return [e for e in entry_points if e.pk == membership.entry_point_id]
    return entry_points


def may_correct(membership: Membership, result: Result) -> bool:
    """The entry point's officers and coordinators correct a result (and add photos), while open."""
    allowed = membership.role == Role.COORDINATOR or (
        membership.role == Role.OFFICER and result.entry_point_id == membership.entry_point_id
    )
    return allowed and membership.operation.state in OPEN_STATES


def may_validate(membership: Membership, result: Result) -> bool:
    """The national contact point of the result's administration validates it, until archived."""
    return (
        membership.role == Role.NATIONAL_CONTACT
        and membership.administration_id == result.administration_id
        and membership.operation.state in REVIEW_STATES
    )


def may_void(membership: Membership, result: Result) -> bool:
    """Who voids and restores a result: its posting officer while the operation is open; the national
    contact point of its administration and the coordinators while results are reviewed."""
    state = membership.operation.state
    if membership.role == Role.OFFICER:
        return result.reported_by_id == membership.user_id and state in OPEN_STATES
    if membership.role == Role.NATIONAL_CONTACT:
        return membership.administration_id == result.administration_id and state in REVIEW_STATES
    return membership.role == Role.COORDINATOR and state in REVIEW_STATES


def may_see_sealed(membership: Membership, result: Result) -> bool:
    """Nominal data and references stay national: members of the result's administration only."""
    return (
        membership.administration_id is not None and membership.administration_id == result.administration_id
    )


def warning_visible(membership: Membership, warning_uuid: uuid.UUID) -> bool:
    """Whether the member can see a Warning with this id in one of their rooms."""
    return Message.objects.filter(
        uid=warning_uuid, kind=Message.Kind.WARNING, room__in=rooms_for(membership)
    ).exists()
