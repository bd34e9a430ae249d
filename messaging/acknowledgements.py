"""Who is asked to acknowledge a warning or an alert, who has, and the communication figures.

The addressees are worked out from the message's audience (``Audience``) and the room's members
(``messaging.selectors.room_members``) on every read; the figures for the report
(``communication_stats``) count over the same addressees.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max

from messaging.models import Acknowledgement, Attachment, Message
from messaging.rendering import render_messages
from messaging.selectors import room_members, rooms_for
from operations.models import EntryPoint, Membership, Operation

Role = Membership.Role


def acknowledged_ids(user: AbstractBaseUser, message_ids: Iterable[int]) -> set[int]:
    return set(
        Acknowledgement.objects.filter(user_id=user.pk, message_id__in=list(message_ids)).values_list(
            "message_id", flat=True
        )
    )


class Audience:
    """Whom a warning or alert asks: its entry points and administrations (places, any of them),
    its roles (narrowing), or, for a reminder, its recipients only. Nothing set: the whole room."""

    __slots__ = ("administrations", "entry_point_administrations", "entry_points", "recipients", "roles")

    def __init__(
        self,
        entry_points: Iterable[int] = (),
        administrations: Iterable[int] = (),
        roles: Iterable[str] = (),
        recipients: Iterable[int] = (),
        entry_point_administrations: Iterable[int] | None = None,
    ) -> None:
        self.entry_points = set(entry_points)
        self.administrations = set(administrations)
        self.roles = set(roles)
        self.recipients = set(recipients)
        # The administrations of ``entry_points``, when already read (``shared_acknowledgements``):
        # the national contact point's rule then needs no query.
        self.entry_point_administrations = (
            None if entry_point_administrations is None else set(entry_point_administrations)
        )

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
        if (
            not self.entry_points
            or membership.role != Role.NATIONAL_CONTACT
            or not membership.administration_id
        ):
            return False
        if self.entry_point_administrations is not None:
            return membership.administration_id in self.entry_point_administrations
        return EntryPoint.objects.filter(
            pk__in=self.entry_points, administration_id=membership.administration_id
        ).exists()


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


class SharedAcknowledgements:
    """Who is asked to acknowledge which message of a rendered batch, and who has: read once for every
    socket of a process (``messaging.fanout``), so that ``acked_for`` a member needs no database."""

    def __init__(
        self, rendered: list[dict[str, Any]], audiences: dict[int, Audience], acked_by: dict[int, set[int]]
    ) -> None:
        self.rendered, self.audiences, self.acked_by = rendered, audiences, acked_by

    def acked_for(self, membership: Membership) -> tuple[bool | None, ...]:
        """``acked`` of each message for this member, as ``with_acknowledgements`` gives it."""
        states: list[bool | None] = []
        for m in self.rendered:
            audience = self.audiences.get(m["id"])
            if audience is None or not _asked(
                m["kind"], m["author"]["id"], m["withdrawn"], audience, membership
            ):
                states.append(None)
            else:
                states.append(membership.user_id in self.acked_by.get(m["id"], ()))
        return tuple(states)


def shared_acknowledgements(rendered: list[dict[str, Any]]) -> SharedAcknowledgements:
    """The acknowledgements of the warnings and alerts in ``rendered``, for any member: two queries
    at most (who acknowledged; the administrations of the targeted entry points), none without any."""
    asking = [
        m for m in rendered if m["kind"] in (Message.Kind.WARNING, Message.Kind.ALERT) and not m["withdrawn"]
    ]
    if not asking:
        return SharedAcknowledgements(rendered, {}, {})
    targeted = {ep for m in asking for ep in m["entry_points"]}
    administration_of = (
        dict(EntryPoint.objects.filter(pk__in=targeted).values_list("pk", "administration_id"))
        if targeted
        else {}
    )
    audiences = {
        m["id"]: Audience(
            m["entry_points"],
            m.get("administrations", ()),
            m.get("roles", ()),
            m.get("recipients", ()),
            entry_point_administrations={
                administration_of[ep] for ep in m["entry_points"] if ep in administration_of
            },
        )
        for m in asking
    }
    acked_by: dict[int, set[int]] = {}
    for message_id, user_id in Acknowledgement.objects.filter(message_id__in=list(audiences)).values_list(
        "message_id", "user_id"
    ):
        acked_by.setdefault(message_id, set()).add(user_id)
    return SharedAcknowledgements(rendered, audiences, acked_by)


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
