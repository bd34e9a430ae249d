"""Who may do what in the rooms, and the reads that depend on it. ``access_*`` raise NotFound for
anything the caller may not see; the ``may_*`` predicates are the one statement of each rule.

Who is in which room is never stored for the standard rooms: it is worked out from operation
membership on every read, so removing someone from the operation removes them from its rooms.
Messages as clients see them are built in ``messaging.rendering``; who is asked to acknowledge
what, and the communication figures, in ``messaging.acknowledgements``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_noop

from cencomm.errors import NotFound
from cencomm.principal import Principal
from messaging.models import (
    EDIT_WINDOW,
    Attachment,
    Connection,
    Message,
    ReadPosition,
    Room,
)
from messaging.rendering import render_cache
from operations.models import Membership, Operation
from operations.selectors import access_membership

Role = Membership.Role
ONLINE_SECONDS = 90
PAGE_SIZE = 100


# --- who may do what (one rule, one function: services raise on these, pages and API show them) ---

POSTING_STATES = frozenset({Operation.State.PLANNED, Operation.State.ACTIVE, Operation.State.FOLLOW_UP})
# Who may send what; observers read only.
KINDS_BY_ROLE: dict[str, frozenset[str]] = {
    Role.COORDINATOR: frozenset(Message.Kind.values),
    Role.NATIONAL_CONTACT: frozenset(Message.Kind.values),
    Role.OFFICER: frozenset({Message.Kind.CHAT, Message.Kind.FEEDBACK}),
    Role.ANALYST: frozenset({Message.Kind.CHAT}),
    Role.OBSERVER: frozenset(),
}


def kinds_for(role: str) -> frozenset[str]:
    """The message kinds a role may send (none: the role reads only)."""
    return KINDS_BY_ROLE.get(role, frozenset())


def may_send(membership: Membership, kind: str = Message.Kind.CHAT) -> bool:
    return kind in kinds_for(membership.role)


def may_upload(membership: Membership) -> bool:
    """Who may send anything may attach files to it."""
    return bool(kinds_for(membership.role))


def may_post_in(operation: Operation) -> bool:
    """Whether the operation takes new messages, edits and files (not once closed)."""
    return operation.state in POSTING_STATES


def may_open_room(membership: Membership) -> bool:
    return membership.role == Role.COORDINATOR


def may_review_acknowledgements(membership: Membership) -> bool:
    """Who sees who has and has not acknowledged warnings and alerts."""
    return membership.role in (Role.COORDINATOR, Role.NATIONAL_CONTACT)


def edit_refusal(membership: Membership, message: Message) -> str | None:
    """Why ``membership`` may not edit or withdraw ``message`` now, or None when they may."""
    if message.author_id != membership.user_id:
        return "Only the author may change a message."
    if message.withdrawn_at is not None:
        return "This message was withdrawn."
    if timezone.now() - message.created_at > EDIT_WINDOW:
        return f"Messages can be changed for {int(EDIT_WINDOW.total_seconds() // 60)} minutes after sending."
    return None


def may_edit(membership: Membership, message: Message) -> bool:
    """The author, within EDIT_WINDOW of sending, of a message not withdrawn (withdrawing too)."""
    return edit_refusal(membership, message) is None


# --- rooms and who is in them --------------------------------------------------------------------


def rooms_for(membership: Membership) -> QuerySet[Room]:
    """The rooms of the member's operation that the member is in."""
    visible = Q(kind=Room.Kind.OPERATION) | Q(kind=Room.Kind.CUSTOM, members__user_id=membership.user_id)
    if membership.role == Role.COORDINATOR:
        visible |= Q(kind__in=[Room.Kind.COORDINATORS, Room.Kind.ADMINISTRATION])
    elif membership.administration_id:
        visible |= Q(kind=Room.Kind.ADMINISTRATION, administration_id=membership.administration_id)
    return Room.objects.filter(visible, operation_id=membership.operation_id).distinct().order_by("pk")


def room_members(room: Room) -> QuerySet[Membership]:
    """The operation memberships that are in ``room`` now."""
    members = Membership.objects.filter(operation_id=room.operation_id).select_related(
        "user", "entry_point", "administration"
    )
    if room.kind == Room.Kind.COORDINATORS:
        members = members.filter(role=Role.COORDINATOR)
    elif room.kind == Room.Kind.ADMINISTRATION:
        members = members.filter(Q(administration_id=room.administration_id) | Q(role=Role.COORDINATOR))
    elif room.kind == Room.Kind.CUSTOM:
        members = members.filter(user__in=room.members.values("user_id"))
    return members.order_by("user__username")


#: Headings for a list of members by role (translated where shown).
ROLE_GROUPS = {
    Role.COORDINATOR: gettext_noop("Coordinators"),
    Role.NATIONAL_CONTACT: gettext_noop("National contact points"),
    Role.OFFICER: gettext_noop("Officers"),
    Role.ANALYST: gettext_noop("Analysts"),
    Role.OBSERVER: gettext_noop("Observers"),
}


def members_by_role(membership: Membership) -> list[tuple[str, list[Membership]]]:
    """The operation's other members, grouped by role, for choosing who goes into a new room."""
    others = (
        Membership.objects.filter(operation_id=membership.operation_id)
        .exclude(user_id=membership.user_id)
        .select_related("user", "administration", "entry_point")
        .order_by("administration__name", "entry_point__name", "user__username")
    )
    groups: dict[str, list[Membership]] = {role: [] for role in ROLE_GROUPS}
    for other in others:
        groups[other.role].append(other)
    return [(ROLE_GROUPS[role], members) for role, members in groups.items() if members]


def access_room(principal: Principal, *, operation_code: str, room_id: int) -> tuple[Membership, Room]:
    membership = access_membership(principal, operation_code=operation_code)
    room = rooms_for(membership).filter(pk=int(room_id)).select_related("operation").first()
    if room is None:
        raise NotFound("room")
    return membership, room


def access_message(membership: Membership, message_id: int) -> Message:
    """A message in one of the member's rooms, or NotFound."""
    message = (
        Message.objects.filter(pk=int(message_id), room__in=rooms_for(membership))
        .select_related("room", "room__operation")
        .first()
    )
    if message is None:
        raise NotFound("message")
    return message


def access_attachment(membership: Membership, uid: str) -> Attachment:
    attachment = (
        Attachment.objects.filter(uid=uid, room__in=rooms_for(membership)).select_related("room").first()
    )
    if attachment is None:
        raise NotFound("attachment")
    return attachment


def room_heads(room_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Each room's latest (seq, rev)."""
    return {
        pk: (seq, rev)
        for pk, seq, rev in Room.objects.filter(pk__in=list(room_ids)).values_list(
            "pk", "last_seq", "last_rev"
        )
    }


# --- messages a socket or page lacks --------------------------------------------------------------

_batch_cache: dict[tuple[int, int, int], tuple[float, list[Message]]] = {}
_batch_lock = threading.Lock()


def messages_past(
    room: Room,
    *,
    seq: int,
    rev: int,
    limit: int = PAGE_SIZE,
    known_rev: int | None = None,
    max_age: float = 2.0,
) -> list[Message]:
    """Messages after ``seq`` or changed after ``rev``, ordered by rev: what a socket at that cursor lacks.

    A thousand sockets at the same cursor, woken by the same live event (which says the room has
    reached ``known_rev``), share one query: a cached batch is used only if it reaches that rev.
    """
    key = (room.pk, seq, rev)
    now = time.monotonic()
    if known_rev is not None:
        with _batch_lock:
            hit = _batch_cache.get(key)
        if (
            hit is not None
            and now - hit[0] < max_age
            and hit[1]
            and len(hit[1]) <= limit
            and (len(hit[1]) == limit or hit[1][-1].rev >= known_rev)
        ):
            return hit[1]
    batch = list(room.messages.filter(Q(seq__gt=seq) | Q(rev__gt=rev)).order_by("rev")[:limit])
    if batch:
        with _batch_lock:
            if len(_batch_cache) > 2048:
                _batch_cache.clear()
            _batch_cache[key] = (now, batch)
    return batch


def caches_clear() -> None:
    """Forget every decrypted or read-ahead message held by this process."""
    render_cache.clear()
    with _batch_lock:
        _batch_cache.clear()
    _presence_cache.clear()


def messages_after(room: Room, *, after_seq: int, limit: int = PAGE_SIZE) -> list[Message]:
    return list(room.messages.filter(seq__gt=after_seq).order_by("seq")[:limit])


def messages_before(room: Room, *, before_seq: int, limit: int = PAGE_SIZE) -> list[Message]:
    page = list(room.messages.filter(seq__lt=before_seq).order_by("-seq")[:limit])
    return page[::-1]


def messages_changed(room: Room, *, after_rev: int, up_to_seq: int, limit: int = PAGE_SIZE) -> list[Message]:
    """Messages the client already has (seq <= up_to_seq) that changed since ``after_rev``."""
    return list(room.messages.filter(rev__gt=after_rev, seq__lte=up_to_seq).order_by("rev")[:limit])


# --- presence -----------------------------------------------------------------------------------------

_presence_cache: dict[int, tuple[float, list[dict[str, Any]]]] = {}


def online_members(operation_id: int, *, max_age: float = 2.0) -> list[dict[str, Any]]:
    """Who has a socket open to the operation's rooms, and at which entry point (cached briefly)."""
    hit = _presence_cache.get(operation_id)
    if hit and time.monotonic() - hit[0] < max_age:
        return hit[1]
    since = timezone.now() - timezone.timedelta(seconds=ONLINE_SECONDS)
    user_ids = Connection.objects.filter(operation_id=operation_id, seen_at__gte=since).values("user_id")
    online = [  # one statement (the connections a subquery): a connect burst asks it once per socket
        {
            "user": m.user_id,
            "username": m.user.username,
            "role": m.role,
            "entry_point": m.entry_point.name if m.entry_point else None,
        }
        for m in Membership.objects.filter(operation_id=operation_id, user_id__in=user_ids)
        .select_related("user", "entry_point")
        .order_by("user__username")
    ]
    _presence_cache[operation_id] = (time.monotonic(), online)
    return online


def rooms_info(membership: Membership) -> list[dict[str, Any]]:
    """The member's rooms with their latest numbers and the member's read position (one statement)."""
    read = ReadPosition.objects.filter(room=OuterRef("pk"), user_id=membership.user_id).order_by("pk")
    return [
        {
            "id": r.pk,
            "name": r.name,
            "kind": r.kind,
            "seq": r.last_seq,
            "rev": r.last_rev,
            "read": r.read or 0,
        }
        for r in rooms_for(membership).annotate(read=Subquery(read.values("seq")[:1]))
    ]
