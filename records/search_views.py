"""The search page of an operation (``/operations/<code>/search/``): the search box, its filters and
the answers, through ``records.search`` as the API does."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cencomm.errors import validation_messages
from cencomm.principal import Principal
from messaging.selectors import rooms_for
from operations.models import Membership
from operations.selectors import access_membership, operation_entry_points
from records.search import KIND_LABELS, MAX_QUERY_CHARS, Page, SearchFilter, parse_search, search


@require_GET
def search_page(request: HttpRequest, code: str) -> HttpResponse:
    membership = access_membership(Principal(request.user), operation_code=code)
    errors: dict[str, list[str]] = {}
    found: Page | None = None
    flt = SearchFilter()
    q = request.GET.get("q", "").strip()
    try:
        q, flt, page = parse_search(membership, request.GET)
    except ValidationError as exc:
        errors = validation_messages(exc)
    else:
        if q:
            found = search(membership, q, flt, page)
    params = {"q": q, **flt.as_params()}
    return render(
        request,
        "records/search.html",
        {
            "operation": membership.operation,
            "membership": membership,
            "tab": "search",
            "q": q,
            "flt": flt,
            "found": found,
            "errors": errors,
            "max_chars": MAX_QUERY_CHARS,
            "filtered": any(v is not None for v in flt.__dict__.values()),
            "rooms": list(rooms_for(membership)),
            "kinds": list(KIND_LABELS.items()),
            "authors": list(
                Membership.objects.filter(operation_id=membership.operation_id)
                .select_related("user")
                .order_by("user__username")
            ),
            "entry_points": list(operation_entry_points(membership.operation)),
            "previous": urlencode({**params, "page": found.page - 1}) if found and found.page > 1 else None,
            "next": urlencode({**params, "page": found.page + 1})
            if found and found.page < found.pages
            else None,
        },
        status=422 if errors else 200,
    )
