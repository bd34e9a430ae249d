"""``GET /api/v1/operations/{code}/search``: the operation's search box for programs (``records.search``).

Outsiders get the 404 a missing operation gets; bad filters 422 with a message per field; a shredded
operation 410 Gone, as its pages (nothing is left to search, and no search key is made for it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema

from cencomm.principal import principal_of
from operations.selectors import access_membership
from records.search import KINDS, MAX_QUERY_CHARS, parse_search, search

router = Router(tags=["search"])


class SearchIn(Schema):
    q: str = Field(
        "", max_length=MAX_QUERY_CHARS, description="Words, numbers and identifiers; all must match."
    )
    room: int | None = Field(None, description="Only this room's messages.")
    kind: str | None = Field(None, max_length=20, description="One of: " + ", ".join(KINDS) + ".")
    author: int | None = Field(None, description="Only what this member (a user id) wrote or reported.")
    entry_point: int | None = Field(
        None, description="Only results of, and messages by members at, this entry point."
    )
    date_from: str | None = Field(
        None,
        max_length=10,
        description="From this UTC day (YYYY-MM-DD): a message's posting, a result's inspection.",
    )
    date_to: str | None = Field(None, max_length=10, description="To this UTC day (YYYY-MM-DD), included.")
    page: int = Field(1, ge=1)


class AnswerOut(Schema):
    kind: str
    at: dt.datetime
    title: str
    snippet: str = Field(description="HTML: the text escaped, the matching words in <mark>.")
    link: str = Field(description="The message in its room, or the result's page.")
    score: int
    voided: bool
    room: int | None
    message: int | None
    result: str | None
    author: str | None


class GoneOut(Schema):
    detail: str
    shredded_at: dt.datetime


class SearchOut(Schema):
    q: str
    terms: list[str]
    count: int = Field(description="Answers the caller may open, counted up to 500.")
    more: bool = Field(description="More than 500 matched: narrow the search.")
    page: int
    pages: int
    answers: list[AnswerOut]


@router.get("/operations/{code}/search", response={200: SearchOut, 410: GoneOut})
def search_operation(
    request: HttpRequest, code: str, query: Query[SearchIn]
) -> dict[str, Any] | HttpResponse:
    """Messages of the caller's rooms, results they may see and files' names, ranked, newest first
    among equals. A shredded operation: 410."""
    membership = access_membership(principal_of(request), operation_code=code)
    if membership.operation.shredded_at is not None:
        return JsonResponse(
            {
                "detail": gettext("This operation's records were shredded already."),
                "shredded_at": membership.operation.shredded_at.isoformat(),
            },
            status=410,
        )
    q, flt, page = parse_search(membership, query.dict())
    found = search(membership, q, flt, page)
    return {
        "q": found.q,
        "terms": found.terms,
        "count": found.count,
        "more": found.more,
        "page": found.page,
        "pages": found.pages,
        "answers": [a.as_json() for a in found.answers],
    }
