"""Searching an operation: the query side of the blind index (``cencomm.search`` writes it).

``search(membership, q, flt, page)`` turns the search box's text into terms (``query_parse``),
hashes their tokens under the operation's search key, and finds the documents that have every
term, among those the member may open: messages of the rooms they are in
(``messaging.selectors.rooms_for``) and results they may see (``results.selectors.visible_results``),
a result's sealed fields (notes, reference, parties, brands) counting only for members of its
administration (``results.selectors.may_see_sealed``). So a member never finds, nor counts, what
they could not open. Answers are ranked by how many of the query's tokens they hold, whole
identifiers counting double, newest first among equals (when every answer must hold them all, as
for plain words, the newest simply come first); each is opened to show a short snippet with
the matching words marked, and links to the message in its room or to the result.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop

from cencomm.models import SearchDocument, SearchToken
from cencomm.search import Hasher, Kind, Query, query_parse, search_key_if_any, token_spans
from messaging.models import Attachment, Message
from messaging.sealing import open_attachment_name, open_message
from messaging.selectors import rooms_for
from operations.models import Membership
from operations.selectors import operation_entry_points
from results.models import ResultVersion
from results.sealing import line_brand, sealed_fields
from results.selectors import may_see_sealed, visible_results

PAGE_SIZE = 20
MAX_ANSWERS = 500  # counted and paged up to this many; "500 or more" beyond
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
SNIPPET_CHARS = 220
KINDS = tuple(Kind.values)


@dataclass(frozen=True)
class SearchFilter:
    room: int | None = None
    kind: str | None = None
    author: int | None = None
    entry_point: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_params(self) -> dict[str, str]:
        """The filter as query parameters (the page's links to the next page)."""
        return {k: str(v) for k, v in self.__dict__.items() if v is not None}


def _int(errors: dict[str, list[str]], name: str, value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError:
        errors.setdefault(name, []).append(gettext("Give a number."))
        return None
    if not 0 < number < 2**63:
        errors.setdefault(name, []).append(gettext("Give a number."))
        return None
    return number


def _date(errors: dict[str, list[str]], name: str, value: object) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault(name, []).append(gettext("Give a date as YYYY-MM-DD."))
        return None


def parse_search(membership: Membership, params: Mapping[str, Any]) -> tuple[str, SearchFilter, int]:
    """The search box and its filters, checked: ``(q, filter, page)``, or ValidationError by field.

    A room, author or entry point the member does not know is refused the same way as one that does
    not exist."""
    errors: dict[str, list[str]] = {}
    q = str(params.get("q") or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        errors["q"] = [gettext("Search for at most %(n)s characters.") % {"n": MAX_QUERY_CHARS}]
    elif len(query_parse(q).terms) > MAX_TERMS:
        errors["q"] = [gettext("Search for at most %(n)s words.") % {"n": MAX_TERMS}]
    room = _int(errors, "room", params.get("room"))
    if room is not None and not rooms_for(membership).filter(pk=room).exists():
        errors.setdefault("room", []).append(gettext("Choose one of your rooms."))
    kind = str(params.get("kind") or "") or None
    if kind is not None and kind not in KINDS:
        errors["kind"] = [gettext("Choose message, feedback, warning, alert or result.")]
    author = _int(errors, "author", params.get("author"))
    if (
        author is not None
        and not Membership.objects.filter(operation_id=membership.operation_id, user_id=author).exists()
    ):
        errors.setdefault("author", []).append(gettext("Choose a member of this operation."))
    entry_point = _int(errors, "entry_point", params.get("entry_point"))
    if (
        entry_point is not None
        and not operation_entry_points(membership.operation).filter(pk=entry_point).exists()
    ):
        errors.setdefault("entry_point", []).append(gettext("Choose an entry point of this operation."))
    date_from = _date(errors, "date_from", params.get("date_from"))
    date_to = _date(errors, "date_to", params.get("date_to"))
    if date_from and date_to and date_from > date_to:
        errors.setdefault("date_to", []).append(gettext("The end comes before the start."))
    page = _int(errors, "page", params.get("page")) or 1
    if page > MAX_ANSWERS // PAGE_SIZE:
        errors.setdefault("page", []).append(
            gettext("Narrow the search: at most %(n)s answers are shown.") % {"n": MAX_ANSWERS}
        )
    if errors:
        raise ValidationError(errors)
    return q, SearchFilter(room, kind, author, entry_point, date_from, date_to), page


# --- matching ------------------------------------------------------------------------------------


def searchable(membership: Membership) -> QuerySet[SearchDocument]:
    """The documents of the member's operation that the member may open: messages of their rooms
    (``rooms_for``, a handful, given as a list so that the filter costs nothing per document), and
    results they may see (``visible_results``)."""
    rooms = list(rooms_for(membership).values_list("pk", flat=True))
    return SearchDocument.objects.filter(operation_id=membership.operation_id).filter(
        Q(room_id__in=rooms) | Q(result_id__in=visible_results(membership).values("pk"))
    )


def readable_tokens(membership: Membership) -> Q:
    """The postings whose word the member may read: every word of what they may open, but a word
    only a result's sealed fields hold for its administration's members alone (may_see_sealed)."""
    if membership.administration_id is None:
        return Q(sealed=False)
    return Q(sealed=False) | Q(document__administration_id=membership.administration_id)


def _holding_all(hashes: Sequence[int], readable: Q) -> QuerySet[SearchToken]:
    postings = SearchToken.objects.filter(readable, token__in=list(hashes))
    if len(hashes) == 1:
        return postings.values("document_id")
    return (
        postings.values("document_id").annotate(n=Count("token")).filter(n=len(hashes)).values("document_id")
    )


def _filtered(
    documents: QuerySet[SearchDocument], flt: SearchFilter, zone: dt.tzinfo
) -> QuerySet[SearchDocument]:
    if flt.room is not None:
        documents = documents.filter(room_id=flt.room)
    if flt.kind is not None:
        documents = documents.filter(kind=flt.kind)
    if flt.author is not None:
        documents = documents.filter(author_id=flt.author)
    if flt.entry_point is not None:
        documents = documents.filter(entry_point_id=flt.entry_point)
    if flt.date_from is not None:
        documents = documents.filter(at__gte=dt.datetime.combine(flt.date_from, dt.time(), tzinfo=zone))
    if flt.date_to is not None:
        end = dt.datetime.combine(flt.date_to + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        documents = documents.filter(at__lt=end)
    return documents


def matching(membership: Membership, query: Query, flt: SearchFilter) -> QuerySet[SearchDocument]:
    """The documents the member may open that hold every term of ``query``, ranked (``score``)."""
    documents = _filtered(searchable(membership), flt, dt.UTC)
    if not query.terms or membership.operation.shredded_at is not None:
        return documents.none()
    key = search_key_if_any(membership.operation_id)  # reading never makes a key
    if key is None:
        return documents.none()
    hasher = Hasher(membership.operation_id, key)
    readable = readable_tokens(membership)
    for term in query.terms:
        found = Q()
        for alternative in term.alternatives:
            found |= Q(pk__in=_holding_all([hasher(t) for t in alternative], readable))
        documents = documents.filter(found)
    if not query.ranked:  # every answer holds every token: the newest come first
        return documents.annotate(score=Value(len(query.tokens))).order_by("-at", "-pk")
    every = sorted({hasher(t) for t in query.tokens})
    whole = sorted({hasher(t.text) for t in query.terms if t.identifier} | {hasher(t) for t in query.exact})

    def held(hashes: list[int]) -> Coalesce:
        counted = (
            SearchToken.objects.filter(readable, document=OuterRef("pk"), token__in=hashes)
            .order_by()
            .values("document")
            .annotate(n=Count("token"))
            .values("n")
        )
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    return documents.annotate(score=held(every) + held(whole) * 2).order_by("-score", "-at", "-pk")


# --- answers -------------------------------------------------------------------------------------


@dataclass
class Answer:
    kind: str
    at: dt.datetime
    title: str
    snippet: SafeString
    link: str
    score: int
    voided: bool = False
    room: int | None = None
    message: int | None = None
    result: str | None = None
    author: str | None = None

    @property
    def kind_label(self) -> str:
        return gettext(KIND_LABELS[Kind(self.kind)])

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at.isoformat(),
            "title": self.title,
            "snippet": str(self.snippet),
            "link": self.link,
            "score": self.score,
            "voided": self.voided,
            "room": self.room,
            "message": self.message,
            "result": self.result,
            "author": self.author,
        }


@dataclass
class Page:
    q: str
    terms: list[str]
    count: int  # capped at MAX_ANSWERS
    more: bool  # more than MAX_ANSWERS matched
    page: int
    pages: int
    answers: list[Answer]


def search(membership: Membership, q: str, flt: SearchFilter = SearchFilter(), page: int = 1) -> Page:
    query = query_parse(q)
    documents = matching(membership, query, flt)
    count = documents.order_by()[: MAX_ANSWERS + 1].count()
    start = (page - 1) * PAGE_SIZE
    rows = list(documents[start : start + PAGE_SIZE]) if start < count else []
    tokens = query.tokens
    answers = _answers(membership, rows, tokens)
    return Page(
        q=q,
        terms=[t.text for t in query.terms],
        count=min(count, MAX_ANSWERS),
        more=count > MAX_ANSWERS,
        page=page,
        pages=max(1, -(-min(count, MAX_ANSWERS) // PAGE_SIZE)),
        answers=answers,
    )


def _answers(membership: Membership, rows: list[SearchDocument], tokens: set[str]) -> list[Answer]:
    """The page's documents opened (in a few queries, not a few per answer), in the page's order.

    Each is read again through the member's access (``rooms_for``, ``visible_results``): a document
    withdrawn or put out of reach since it was indexed is left out."""
    messages = {
        m.pk: m
        for m in Message.objects.filter(
            pk__in=[r.message_id for r in rows if r.message_id is not None],
            room__in=rooms_for(membership),
            withdrawn_at__isnull=True,
        ).select_related("room", "author")
    }
    names: dict[int, list[str]] = {}
    for attachment in Attachment.objects.filter(message_id__in=list(messages)).order_by("pk"):
        assert attachment.message_id is not None
        names.setdefault(attachment.message_id, []).append(open_attachment_name(attachment))
    results = {
        r.pk: r
        for r in visible_results(membership)
        .filter(pk__in=[r.result_id for r in rows if r.result_id is not None])
        .select_related("entry_point", "reported_by")
    }
    versions = {}
    for version in ResultVersion.objects.filter(
        result_id__in=list(results), is_current=True
    ).prefetch_related("lines"):
        version.result = results[version.result_id]
        versions[version.result_id] = version
    code = membership.operation.code
    answers = []
    for row in rows:
        message = messages.get(row.message_id) if row.message_id is not None else None
        if message is not None:
            answers.append(_message_answer(code, row, message, names.get(message.pk, []), tokens))
        version = versions.get(row.result_id) if row.result_id is not None else None
        if version is not None:
            answers.append(_result_answer(membership, code, row, version, tokens))
    return answers


KIND_LABELS = {
    Kind.MESSAGE: gettext_noop("Message"),
    Kind.FEEDBACK: gettext_noop("Feedback"),
    Kind.WARNING: gettext_noop("Warning"),
    Kind.ALERT: gettext_noop("Alert"),
    Kind.RESULT: gettext_noop("Result"),
}


def _message_answer(
    code: str, row: SearchDocument, message: Message, names: list[str], tokens: set[str]
) -> Answer:
    return Answer(
        kind=row.kind,
        at=message.created_at,
        title=f"{message.room.name} #{message.seq}",
        snippet=snippet([open_message(message), *names], tokens),
        link=reverse("messaging:room", args=[code, message.room_id])
        + f"#msg-{message.room_id}-{message.seq}",
        score=row.score,  # type: ignore[attr-defined]
        room=message.room_id,
        message=message.pk,
        author=message.author.get_username(),
    )


def result_texts(membership: Membership, version: ResultVersion) -> list[str]:
    """What of a result's current version the member reads, for its snippet (as results.indexing
    indexes it: the sealed fields only for the result's administration)."""
    lines = sorted(version.lines.all(), key=lambda line: line.position)
    texts = [t for line in lines for t in (line.description, line.gtin, line.hs_code) if t]
    if version.concealment:
        texts.append(version.concealment)
    if may_see_sealed(membership, version.result):
        fields = sealed_fields(version)
        texts += [fields[f] for f in ("reference", "parties", "notes") if fields.get(f)]
        texts += [b for b in (line_brand(version, line) for line in lines) if b]
    return texts


def _result_answer(
    membership: Membership, code: str, row: SearchDocument, version: ResultVersion, tokens: set[str]
) -> Answer:
    result = version.result
    return Answer(
        kind=row.kind,
        at=version.inspected_at,
        title=f"{result.entry_point.name} · {gettext(version.get_outcome_display())}",
        snippet=snippet(result_texts(membership, version), tokens),
        link=reverse("results:detail", args=[code, result.uuid]),
        score=row.score,  # type: ignore[attr-defined]
        voided=version.voided,
        result=str(result.uuid),
        author=result.reported_by.get_username(),
    )


# --- snippets ------------------------------------------------------------------------------------


def snippet(texts: Sequence[str], tokens: set[str], width: int = SNIPPET_CHARS) -> SafeString:
    """About ``width`` characters around the first match, HTML-escaped, each match in <mark>."""
    text = " · ".join(t.strip() for t in texts if t and t.strip())
    text = re.sub(r"\s+", " ", text)
    spans = token_spans(text, tokens)
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 4)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > max(first, start) else end
    out, cursor = [], start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[cursor:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        cursor = e
    out.append(escape(text[cursor:end]))
    return mark_safe(("…" if start else "") + "".join(out) + ("…" if end < len(text) else ""))  # noqa: S308 - escaped above
