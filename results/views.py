"""Pages: the results list, the phone-friendly post form, one result with its versions, the board.

The pages read through the selectors; the form and the buttons write through the API, which
calls the same services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from cencomm.errors import NotFound
from cencomm.principal import Principal
from operations.countries import COUNTRIES, country_name
from operations.models import CommodityCategory, Membership
from operations.selectors import (
    access_membership,
    operation_administrations,
    operation_entry_points,
    require_role,
)
from results import selectors
from results.models import (
    DetectionMethod,
    HandlingCode,
    Infringement,
    Outcome,
    Result,
    TransportMode,
    Unit,
)
from results.selectors import BOARD_ROLES
from results.services import POST_ROLES, may_correct

Role = Membership.Role
COMMON_ORIGINS = ["CN", "TR", "HK", "AE", "IN", "VN"]


def _membership(request: HttpRequest, code: str) -> Membership:
    return access_membership(Principal(request.user), operation_code=code)


def _page(request: HttpRequest, template: str, membership: Membership, **context: Any) -> HttpResponse:
    return render(
        request,
        template,
        {
            "operation": membership.operation,
            "membership": membership,
            "may_post": membership.role in POST_ROLES,
            "may_see_board": membership.role in BOARD_ROLES,
            **context,
        },
    )


def _choices(choices: Any) -> list[dict[str, str]]:
    """Choices for the page's scripts, their labels in the interface language."""
    return [{"value": value, "label": gettext(label)} for value, label in choices]


@require_GET
def index(request: HttpRequest, code: str) -> HttpResponse:
    membership = _membership(request, code)
    versions = (
        selectors.current_versions(membership.operation)
        .filter(result__in=selectors.visible_results(membership))
        .select_related("result__entry_point", "result__administration")
        .prefetch_related("lines__category")
        .order_by("-inspected_at")[:200]
    )
    rows = [
        _labelled(selectors.version_summary(v))
        | {"when": _local(v.inspected_at, v.result.entry_point.time_zone)}
        for v in versions
    ]
    today = timezone.now().astimezone(dt.UTC).date()
    return _page(
        request,
        "results/index.html",
        membership,
        tab="results",
        rows=rows,
        nil_entry_points=_postable_entry_points(membership),
        nil_days=[d.isoformat() for d in reversed(membership.operation.window_days) if d <= today],
    )


def _labels(choices: Any) -> dict[str, str]:
    """A choices class as value → label in the interface language, for the pages' scripts."""
    return {value: gettext(label) for value, label in choices.choices}


def _label(choices: Any, value: str) -> str:
    """A stored choice's label in the interface language (the value itself if it is not a choice)."""
    return gettext(dict(choices).get(value, value))


def _labelled(row: dict[str, Any]) -> dict[str, Any]:
    row["outcome_label"] = _label(Outcome.choices, row["outcome"])
    row["validation_label"] = _label(Result.Validation.choices, row["validation"])
    for line in row["lines"]:
        line["unit_label"] = _label(Unit.choices, line["unit"]).lower()
    return row


def _local(moment: dt.datetime, time_zone: str) -> str:
    """A time as the entry point's clock showed it."""
    return f"{moment.astimezone(ZoneInfo(time_zone)):%Y-%m-%d %H:%M} {time_zone.split('/')[-1].replace('_', ' ')}"


def _postable_entry_points(membership: Membership) -> list[Any]:
    if membership.role not in POST_ROLES:
        return []
    entry_points = list(operation_entry_points(membership.operation))
    if membership.role == Role.OFFICER:
        return [e for e in entry_points if e.pk == membership.entry_point_id]
    return entry_points


@require_GET
def post_form(request: HttpRequest, code: str) -> HttpResponse:
    membership = require_role(_membership(request, code), *POST_ROLES, what="page")
    return _form(request, membership, correct=None)


@require_GET
def correct_form(request: HttpRequest, code: str, result_uuid: str) -> HttpResponse:
    """The post form, filled with the current version, posting a correction with a reason."""
    membership = _membership(request, code)
    result = selectors.access_result(membership, result_uuid)
    if not may_correct(membership, result):
        raise NotFound("result")
    return _form(request, membership, correct=result)


def _form(request: HttpRequest, membership: Membership, *, correct: Result | None) -> HttpResponse:
    operation = membership.operation
    entry_points = _postable_entry_points(membership)
    if correct is not None:
        entry_points = [correct.entry_point]
    origins = COMMON_ORIGINS + sorted(c for c in COUNTRIES if c not in COMMON_ORIGINS)
    config = {
        "code": operation.code,
        "entryPoints": [{"id": e.pk, "name": e.name, "timeZone": e.time_zone} for e in entry_points],
        "categories": [
            {"code": c.code, "name": c.name}
            for c in CommodityCategory.objects.filter(active=True).order_by("position", "name")
        ],
        "units": _choices(Unit.choices),
        "outcomes": _choices(Outcome.choices),
        "origins": [{"value": c, "label": f"{country_name(c)} ({c})"} for c in origins],
        "transportModes": _choices(TransportMode.choices),
        "detectionMethods": _choices(DetectionMethod.choices),
        "infringements": _choices(Infringement.choices),
        "handlingCodes": _choices(HandlingCode.choices),
        "windowStart": operation.window_start.isoformat(),
        "windowEnd": operation.window_end.isoformat(),
        "today": timezone.now().date().isoformat(),
        "correct": str(correct.uuid) if correct is not None else None,
    }
    return _page(request, "results/post.html", membership, tab="results", config=config, correct=correct)


@require_GET
def detail(request: HttpRequest, code: str, result_uuid: str) -> HttpResponse:
    membership = _membership(request, code)
    result = selectors.access_result(membership, result_uuid)
    versions = list(
        result.versions.select_related("created_by").prefetch_related("lines__category").order_by("-number")
    )
    visible = selectors.may_see_sealed(membership, result)
    rows = [
        {
            "version": v,
            "sealed": selectors.sealed_fields(v) if visible else None,
            "brands": {ln.pk: selectors.line_brand(v, ln) for ln in v.lines.all()} if visible else {},
        }
        for v in versions
    ]
    may_correct_it = may_correct(membership, result) and membership.operation.state in ("active", "follow_up")
    may_validate = (
        membership.role == Role.NATIONAL_CONTACT and membership.administration_id == result.administration_id
    )
    return _page(
        request,
        "results/detail.html",
        membership,
        tab="results",
        result=result,
        rows=rows,
        may_validate=may_validate,
        may_correct=may_correct_it,
        sealed_visible=visible,
        validation_labels=_labels(Result.Validation),
        photos=[
            {
                "url": f"/api/v1/operations/{code}/results/{result.uuid}/photos/{p.uid}",
                "uploaded_by": p.uploaded_by,
                "created_at": p.created_at,
                "sha256": p.sha256,
            }
            for p in result.photos.select_related("uploaded_by")
        ],
    )


@require_GET
def board(request: HttpRequest, code: str) -> HttpResponse:
    membership = require_role(_membership(request, code), *BOARD_ROLES, what="board")
    operation = membership.operation
    config = {
        "code": operation.code,
        "administrations": [{"id": a.pk, "name": a.name} for a in operation_administrations(operation)],
        "entryPoints": [
            {"id": e.pk, "name": e.name, "administration": e.administration_id}
            for e in operation_entry_points(operation)
        ],
        "categories": [
            {"code": c.code, "name": c.name, "id": c.pk}
            for c in CommodityCategory.objects.order_by("position", "name")
        ],
        "days": [d.isoformat() for d in operation.window_days],
        "countries": {code: country_name(code) for code in COUNTRIES},
        "transportModes": _labels(TransportMode),
        "detectionMethods": _labels(DetectionMethod),
        "outcomes": _labels(Outcome),
        "validations": _labels(Result.Validation),
        "units": _labels(Unit),
    }
    return _page(request, "results/board.html", membership, tab="board", config=config)


@require_GET
def categories(request: HttpRequest, code: str) -> HttpResponse:
    """Commodity categories are data: coordinators add, rename and reclassify here."""
    membership = require_role(_membership(request, code), Role.COORDINATOR, what="page")
    rows = CommodityCategory.objects.order_by("position", "name")
    return _page(request, "results/categories.html", membership, tab="results", categories=rows)
