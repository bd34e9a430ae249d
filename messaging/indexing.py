"""What of a message the search index gets (``cencomm.search``): its text and its files' names.

The services call ``message_index`` when a message is posted or edited (the new version replaces the
old one's tokens) and ``message_unindex`` when it is withdrawn (a withdrawn message shows no text, so
it is found by none), in their own transaction. ``operation_message_documents`` gives every message
of an operation, for rebuilding its index (``records.services``).
"""

from __future__ import annotations

from collections.abc import Iterator

from cencomm.search import Document, Kind, index_document, unindex
from messaging.models import Attachment, Message
from messaging.sealing import open_attachment_name, open_message
from operations.models import Membership

#: A message's kind as the search index files it.
SEARCH_KINDS = {
    Message.Kind.CHAT: Kind.MESSAGE,
    Message.Kind.FEEDBACK: Kind.FEEDBACK,
    Message.Kind.WARNING: Kind.WARNING,
    Message.Kind.ALERT: Kind.ALERT,
}


def message_document(
    message: Message, *, text: str, file_names: list[str], author: Membership | None
) -> Document:
    return Document(
        operation_id=message.room.operation_id,
        kind=SEARCH_KINDS[Message.Kind(message.kind)],
        at=message.created_at,
        texts=[text, *file_names],
        author_id=message.author_id,
        entry_point_id=author.entry_point_id if author else None,
        administration_id=author.administration_id if author else None,
        room_id=message.room_id,
        message_id=message.pk,
        seq=message.seq,
        version=message.version,
    )


def message_index(message: Message, *, text: str, author: Membership | None) -> None:
    """Index the message's current version (``text``, as just sealed) and its files' names."""
    names = [open_attachment_name(a) for a in Attachment.objects.filter(message=message).order_by("pk")]
    index_document(message_document(message, text=text, file_names=names, author=author))


def message_unindex(message: Message) -> None:
    unindex(message_ids=[message.pk])


def operation_message_documents(operation_id: int) -> Iterator[Document]:
    """Every message of the operation that is not withdrawn, opened, as the index gets it."""
    authors = {
        m.user_id: m
        for m in Membership.objects.filter(operation_id=operation_id).only(
            "user_id", "entry_point_id", "administration_id"
        )
    }
    names: dict[int, list[str]] = {}
    for attachment in Attachment.objects.filter(
        room__operation_id=operation_id, message__isnull=False, message__withdrawn_at__isnull=True
    ).order_by("pk"):
        assert attachment.message_id is not None
        names.setdefault(attachment.message_id, []).append(open_attachment_name(attachment))
    messages = (
        Message.objects.filter(room__operation_id=operation_id, withdrawn_at__isnull=True)
        .select_related("room")
        .order_by("pk")
    )
    for message in messages.iterator(chunk_size=2000):
        yield message_document(
            message,
            text=open_message(message),
            file_names=names.get(message.pk, []),
            author=authors.get(message.author_id),
        )
