"""Reads for rooms and messages. ``access_*`` raise NotFound for anything the caller may not see.

Who is in which room is never stored for the standard rooms: it is worked out from operation
membership on every read, so removing someone from the operation removes them from its rooms.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from cencomm.errors import NotFound
from cencomm.principal import Principal
from messaging.models import (
    EDIT_WINDOW,
    Acknowledgement,
    Attachment,
    Connection,
    Message,
    ReadPosition,
    Room,
)
from messaging.sealing import open_attachment_name, open_message
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


# --- messages as clients see them -----------------------------------------------------------------


class _RenderCache:
    """Decrypted, rendered messages keyed by (message uid, rev), per process.

    A thousand sockets in one process that all receive the same message decrypt it once.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[Any, int], dict[str, Any]] = OrderedDict()

    def get(self, key: tuple[Any, int]) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple[Any, int], item: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = item
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


render_cache = _RenderCache()


def message_text(message: Message) -> str:
    return open_message(message)


def _author_labels(operation_id: int, user_ids: set[int]) -> dict[int, dict[str, Any]]:
    labels = {}
    for m in Membership.objects.filter(operation_id=operation_id, user_id__in=user_ids).select_related(
        "user", "entry_point"
    ):
        labels[m.user_id] = {
            "id": m.user_id,
            "username": m.user.username,
            "role": m.role,
            "entry_point": m.entry_point.name if m.entry_point else None,
        }
    return labels


def render_messages(room: Room, messages: list[Message]) -> list[dict[str, Any]]:
    """Messages as frames and API responses carry them, in the given order."""
    missing = [m for m in messages if render_cache.get((m.uid, m.rev)) is None]
    if missing:
        labels = _author_labels(room.operation_id, {m.author_id for m in missing})
        attachments: dict[int, list[Attachment]] = {}
        for a in Attachment.objects.filter(message__in=missing).order_by("pk"):
            attachments.setdefault(a.message_id, []).append(a)
        targets: dict[int, list[int]] = {}
        through = Message.entry_points.through
        for message_id, entry_point_id in through.objects.filter(message__in=missing).values_list(
            "message_id", "entrypoint_id"
        ):
            targets.setdefault(message_id, []).append(entry_point_id)
        audiences = _audiences(missing)
        for m in missing:
            m.room = room
            for a in attachments.get(m.pk, []):
                a.room = room
            rendered = _render(m, labels, attachments.get(m.pk, []), targets.get(m.pk, []))
            render_cache.put((m.uid, m.rev), rendered | audiences.get(m.pk, _NO_AUDIENCE))
    return [dict(render_cache.get((m.uid, m.rev)) or {}) for m in messages]


_NO_AUDIENCE: dict[str, Any] = {"administrations": [], "roles": [], "recipients": [], "reminder_of": None}


def _audiences(messages: list[Message]) -> dict[int, dict[str, Any]]:
    """Administrations, roles, recipients and the reminded message of the warnings and alerts."""
    asking = [m for m in messages if m.needs_acknowledgement]
    if not asking:
        return {}
    out = {
        m.pk: {
            "administrations": [],
            "roles": sorted(m.roles or []),
            "recipients": [],
            "reminder_of": m.reminder_of_id,
        }
        for m in asking
    }
    for message_id, administration_id in Message.administrations.through.objects.filter(
        message__in=asking
    ).values_list("message_id", "administration_id"):
        out[message_id]["administrations"].append(administration_id)
    for message_id, user_id in Message.recipients.through.objects.filter(message__in=asking).values_list(
        "message_id", "user_id"
    ):
        out[message_id]["recipients"].append(user_id)
    for item in out.values():
        item["administrations"].sort()
        item["recipients"].sort()
    return out


def _render(
    m: Message, labels: dict[int, dict[str, Any]], attachments: list[Attachment], targets: list[int]
) -> dict[str, Any]:
    withdrawn = m.withdrawn_at is not None
    return {
        "id": m.pk,
        "room": m.room_id,
        "seq": m.seq,
        "rev": m.rev,
        "client_id": str(m.client_id),
        "author": labels.get(
            m.author_id, {"id": m.author_id, "username": None, "role": None, "entry_point": None}
        ),
        "kind": m.kind,
        "handling": m.handling,
        "text": None if withdrawn else message_text(m),
        "reply_to": m.reply_to_id,
        "warning": m.warning_id,
        "entry_points": sorted(targets),
        "version": m.version,
        "created_at": m.created_at.isoformat(),
        "edited_at": m.edited_at.isoformat() if m.edited_at else None,
        "withdrawn": withdrawn,
        "attachments": []
        if withdrawn
        else [
            {
                "id": str(a.uid),
                "content_type": a.content_type,
                "size": a.size,
                "name": open_attachment_name(a),
                "sha256": a.sha256,
                "preview": a.display is not None,
                "width": a.width,
                "height": a.height,
                "handling": a.handling,
            }
            for a in attachments
        ],
    }


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


def acknowledged_ids(user: AbstractBaseUser, message_ids: Iterable[int]) -> set[int]:
    return set(
        Acknowledgement.objects.filter(user_id=user.pk, message_id__in=list(message_ids)).values_list(
            "message_id", flat=True
        )
    )


# --- acknowledgements -------------------------------------------------------------------------------


class Audience:
    """Whom a warning or alert asks: its entry points and administrations (places, any of them),
    its roles (narrowing), or, for a reminder, its recipients only. Nothing set: the whole room."""

    __slots__ = ("administrations", "entry_points", "recipients", "roles")

    def __init__(
        self,
        entry_points: Iterable[int] = (),
        administrations: Iterable[int] = (),
        roles: Iterable[str] = (),
        recipients: Iterable[int] = (),
    ) -> None:
        self.entry_points = set(entry_points)
        self.administrations = set(administrations)
        self.roles = set(roles)
        self.recipients = set(recipients)

    @classmethod
    def of(cls, message: Message) -> Audience:
        return cls(
            message.entry_points.values_list("pk", flat=True),
            message.administrations.values_list("pk", flat=True),
            message.roles or (),
            message.recipients.values_list("pk", flat=True),
        )

    @classmethod
    def of_rendered(cls, m: dict[str, Any]) -> Audience:
        return cls(
            m["entry_points"], m.get("administrations", ()), m.get("roles", ()), m.get("recipients", ())
        )

    def includes(self, membership: Membership) -> bool:
        if self.recipients:
            return membership.user_id in self.recipients
        if self.roles and membership.role not in self.roles:
            return False
        if not self.entry_points and not self.administrations:
            return True
        if membership.administration_id and membership.administration_id in self.administrations:
            return True
        if membership.entry_point_id:
            return membership.entry_point_id in self.entry_points
        # A national contact point answers for their administration's targeted entry points.
        return (
            bool(self.entry_points)
            and membership.role == Role.NATIONAL_CONTACT
            and membership.administration is not None
            and membership.administration.entry_points.filter(pk__in=self.entry_points).exists()
        )


def _asked(
    kind: str, author_id: int | None, withdrawn: bool, audience: Audience, membership: Membership
) -> bool:
    if kind not in (Message.Kind.WARNING, Message.Kind.ALERT) or author_id == membership.user_id or withdrawn:
        return False
    return audience.includes(membership)


def is_addressee(message: Message, membership: Membership, audience: Audience | None = None) -> bool:
    """Whether ``membership`` is asked to acknowledge ``message``."""
    if not message.needs_acknowledgement:
        return False
    audience = Audience.of(message) if audience is None else audience
    return _asked(message.kind, message.author_id, message.withdrawn_at is not None, audience, membership)


def with_acknowledgements(membership: Membership, rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``acked`` to rendered messages: True/False where this member is asked to acknowledge, else None."""
    asked = {
        m["id"]
        for m in rendered
        if _asked(m["kind"], m["author"]["id"], m["withdrawn"], Audience.of_rendered(m), membership)
    }
    acked = acknowledged_ids(membership.user, asked) if asked else set()
    for m in rendered:
        m["acked"] = (m["id"] in acked) if m["id"] in asked else None
    return rendered


def pending_acknowledgements(membership: Membership) -> list[Message]:
    """Warnings and alerts the member is asked to acknowledge and has not (shown again until they do)."""
    candidates = (
        Message.objects.filter(
            room__in=rooms_for(membership),
            kind__in=[Message.Kind.WARNING, Message.Kind.ALERT],
            withdrawn_at__isnull=True,
        )
        .exclude(author_id=membership.user_id)
        .exclude(acknowledgements__user_id=membership.user_id)
        .select_related("room")
        .order_by("created_at")
    )
    return [m for m in candidates if is_addressee(m, membership)]


def acknowledgement_status(message: Message) -> list[dict[str, Any]]:
    """For each addressee of a warning or alert: who they are and when they acknowledged, if they did."""
    acks = {a.user_id: a.at for a in message.acknowledgements.all()}
    audience = Audience.of(message)
    rows = []
    for m in room_members(message.room):
        if is_addressee(message, m, audience):
            rows.append(
                {
                    "user": m.user_id,
                    "username": m.user.username,
                    "role": m.role,
                    "entry_point": m.entry_point.name if m.entry_point else None,
                    "acknowledged_at": acks.get(m.user_id),
                }
            )
    return rows


def acknowledgement_overview(membership: Membership) -> list[dict[str, Any]]:
    """The coordinators' view: every warning and alert in their rooms with who has acknowledged it,
    newest first; in each, those who have not yet come first. Reminders are folded into the message
    they remind of (``reminders``: how many, ``reminded_at``: the last), since acknowledging either
    acknowledges both."""
    messages = (
        Message.objects.filter(
            room__in=rooms_for(membership),
            kind__in=[Message.Kind.WARNING, Message.Kind.ALERT],
            reminder_of__isnull=True,
        )
        .select_related("room", "author")
        .prefetch_related("acknowledgements")
        .annotate(reminder_count=Count("reminders"))
        .order_by("-created_at")
    )
    last_reminded = dict(
        Message.objects.filter(reminder_of__in=messages)
        .order_by()
        .values("reminder_of")
        .annotate(at=Max("created_at"))
        .values_list("reminder_of", "at")
    )
    overview = []
    for message in messages:
        status = sorted(
            acknowledgement_status(message), key=lambda s: (s["acknowledged_at"] is not None, s["username"])
        )
        overview.append(
            {
                "message": message,
                "rendered": render_messages(message.room, [message])[0],
                "status": status,
                "acknowledged": sum(1 for s in status if s["acknowledged_at"]),
                "total": len(status),
                "missing": sum(1 for s in status if not s["acknowledged_at"]),
                "reminders": message.reminder_count,
                "reminded_at": last_reminded.get(message.pk),
            }
        )
    return overview


GRID_COLUMNS = 12


def acknowledgement_grid(overview: list[dict[str, Any]]) -> dict[str, Any]:
    """The overview as one grid: a column per warning or alert (the newest GRID_COLUMNS not withdrawn),
    a row per addressee with, in each column, when they acknowledged, "not yet", or nothing (not asked).

    Rows with the most "not yet" come first, then by name.
    """
    columns = [row for row in overview if row["message"].withdrawn_at is None][:GRID_COLUMNS]
    people: dict[int, dict[str, Any]] = {}
    for index, column in enumerate(columns):
        for s in column["status"]:
            person = people.setdefault(
                s["user"],
                {
                    "user": s["user"],
                    "username": s["username"],
                    "role": s["role"],
                    "entry_point": s["entry_point"],
                    "cells": [None] * len(columns),
                    "missing": 0,
                },
            )
            person["cells"][index] = {"acknowledged_at": s["acknowledged_at"]}
            person["missing"] += s["acknowledged_at"] is None
    rows = sorted(people.values(), key=lambda p: (-p["missing"], p["username"]))
    return {
        "columns": columns,
        "rows": rows,
        "missing": sum(p["missing"] for p in rows),
        "more": len([row for row in overview if row["message"].withdrawn_at is None]) > len(columns),
    }


def read_position(room: Room, user: AbstractBaseUser) -> int:
    position = ReadPosition.objects.filter(room=room, user_id=user.pk).values_list("seq", flat=True).first()
    return position or 0


# --- presence -----------------------------------------------------------------------------------------

_presence_cache: dict[int, tuple[float, list[dict[str, Any]]]] = {}


def online_members(operation_id: int, *, max_age: float = 2.0) -> list[dict[str, Any]]:
    """Who has a socket open to the operation's rooms, and at which entry point (cached briefly)."""
    hit = _presence_cache.get(operation_id)
    if hit and time.monotonic() - hit[0] < max_age:
        return hit[1]
    since = timezone.now() - timezone.timedelta(seconds=ONLINE_SECONDS)
    user_ids = set(
        Connection.objects.filter(operation_id=operation_id, seen_at__gte=since).values_list(
            "user_id", flat=True
        )
    )
    online = [
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


# --- statistics for reports -----------------------------------------------------------------------


def communication_stats(operation: Operation) -> dict[str, Any]:
    """Counts and acknowledgement times for the post-operation report. Never any text.

    "Unacknowledged" has one meaning here and wherever these figures are shown: an addressee of a
    warning or alert (not withdrawn) who has not acknowledged it; counted per message and addressee
    (``acknowledgement_status``), so one alert to ten entry points that two acknowledged leaves
    eight unacknowledged.

    Keys: ``rooms``, ``messages``, ``by_kind`` {chat, warning, feedback, alert}, ``edited``,
    ``withdrawn``, ``attachments`` (sent ones), ``authors``, ``acknowledgements_given`` and
    ``acknowledgements_missing`` (over every addressee of every warning and alert not withdrawn),
    ``ack_seconds_median`` and ``ack_seconds_max`` (posting to acknowledgement; None without any),
    ``acknowledgements`` [{kind, messages, acknowledged_messages, addressees, given, missing,
    seconds_min, seconds_mean, seconds_max}] for warnings and alerts,
    ``by_room`` [{room, name, kind, messages}], ``by_handling`` {operation, hub_only}.
    """
    messages = Message.objects.filter(room__operation=operation)
    by_kind = dict(messages.order_by().values("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    ack_seconds: list[float] = []
    per_kind: dict[str, dict[str, Any]] = {}
    for message in (
        messages.filter(  # a reminder is acknowledged with the message it reminds of: counted there
            kind__in=[Message.Kind.WARNING, Message.Kind.ALERT],
            withdrawn_at__isnull=True,
            reminder_of__isnull=True,
        )
        .select_related("room")
        .order_by("pk")
    ):
        kind = per_kind.setdefault(
            message.kind,
            {
                "kind": message.kind,
                "messages": 0,
                "acknowledged_messages": 0,
                "addressees": 0,
                "missing": 0,
                "seconds": [],
            },
        )
        kind["messages"] += 1
        any_ack = False
        for row in acknowledgement_status(message):
            kind["addressees"] += 1
            if row["acknowledged_at"]:
                any_ack = True
                kind["seconds"].append((row["acknowledged_at"] - message.created_at).total_seconds())
            else:
                kind["missing"] += 1
        kind["acknowledged_messages"] += any_ack
    acknowledgements = []
    for kind in (Message.Kind.WARNING, Message.Kind.ALERT):
        row = per_kind.get(kind)
        if row is None:
            continue
        seconds = row.pop("seconds")
        acknowledgements.append(
            row
            | {
                "given": len(seconds),
                "seconds_min": min(seconds) if seconds else None,
                "seconds_mean": statistics.fmean(seconds) if seconds else None,
                "seconds_max": max(seconds) if seconds else None,
            }
        )
        ack_seconds += seconds
    return {
        "rooms": operation.rooms.count(),
        "messages": messages.count(),
        "by_kind": {kind: by_kind.get(kind, 0) for kind in Message.Kind.values},
        "edited": messages.filter(edited_at__isnull=False).count(),
        "withdrawn": messages.filter(withdrawn_at__isnull=False).count(),
        "attachments": Attachment.objects.filter(room__operation=operation, message__isnull=False).count(),
        "authors": messages.values("author_id").distinct().count(),
        "acknowledgements_given": sum(a["given"] for a in acknowledgements),
        "acknowledgements_missing": sum(a["missing"] for a in acknowledgements),
        "ack_seconds_median": statistics.median(ack_seconds) if ack_seconds else None,
        "ack_seconds_max": max(ack_seconds) if ack_seconds else None,
        "acknowledgements": acknowledgements,
        "by_room": [
            {"room": r.pk, "name": r.name, "kind": r.kind, "messages": r.n}
            for r in operation.rooms.annotate(n=Count("messages")).order_by("pk")
        ],
        "by_handling": dict(
            messages.order_by().values("handling").annotate(n=Count("pk")).values_list("handling", "n")
        ),
    }


def rooms_info(membership: Membership) -> list[dict[str, Any]]:
    """The member's rooms with their latest numbers and the member's read position."""
    return [
        {
            "id": r.pk,
            "name": r.name,
            "kind": r.kind,
            "seq": r.last_seq,
            "rev": r.last_rev,
            "read": read_position(r, membership.user),
        }
        for r in rooms_for(membership)
    ]
