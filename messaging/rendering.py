"""Messages as clients see them: one dict per message, the same for API answers and socket frames.

Opened (``messaging.sealing``) and rendered once per process and change number (``render_cache``),
so a thousand sockets that receive the same message decrypt it once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from messaging.models import Attachment, Message, Room
from messaging.sealing import open_attachment_name, open_message
from operations.models import Membership


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
