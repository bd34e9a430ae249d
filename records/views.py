"""Pages of a shredded operation: its rooms and results pages say when it was shredded and offer the
public report that was kept (``unless_shredded``, applied by hub/urls.py to those apps' pages)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern

from cencomm.principal import Principal
from operations.models import Membership
from operations.selectors import access_membership
from reports.models import Report
from reports.selectors import reports_for


def kept_reports(membership: Membership) -> list[Report]:
    """The public editions left of a shredded operation, newest first (every member may read them)."""
    return list(
        reports_for(membership)
        .filter(edition=Report.Edition.PUBLIC, state=Report.State.DONE)
        .select_related("operation")
        .order_by("-finished_at")
    )


def shredded_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    """410 Gone: the records were here and were destroyed on purpose."""
    return render(
        request,
        "records/shredded.html",
        {
            "operation": membership.operation,
            "membership": membership,
            "kept_reports": kept_reports(membership),
            "member_count": membership.operation.memberships.count(),
        },
        status=410,
    )


def unless_shredded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The page of an operation whose records exist; for a shredded one, what was kept. Outsiders
    get the 404 the view itself would give."""

    @wraps(view)
    def guarded(request: HttpRequest, code: str, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = access_membership(Principal(request.user), operation_code=code)
        if membership.operation.shredded_at is not None:
            return shredded_page(request, membership)
        return view(request, code, *args, **kwargs)

    return guarded


def unless_shredded_patterns(patterns: list[Any]) -> list[Any]:
    """An app's URL patterns with every view behind ``unless_shredded`` (names and namespace kept)."""
    guarded = []
    for pattern in patterns:
        assert isinstance(pattern, URLPattern), "only plain views of one operation"
        wrapped = copy.copy(pattern)
        wrapped.callback = unless_shredded(pattern.callback)
        guarded.append(wrapped)
    return guarded
