"""Pages: the results list, the phone-friendly post form, one result with its versions, the board.

The pages read through the selectors; the form and the buttons write through the API, which
calls the same services.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from cencomm.errors import NotFound
from cencomm.formats import local_time
from cencomm.principal import Principal
from operations.countries import COUNTRIES, country_name
from operations.models import CATEGORY_LANGUAGES, Membership
from operations.selectors import (
    access_membership,
    catalogue_offers,
    category_labels,
    operation_administrations,
    operation_categories,
    operation_entry_points,
)
from products.selectors import products_of_gtins
from results import sealing, selectors
from results.board import version_summary
from results.models import (
    DetectionMethod,
    HandlingCode,
    Infringement,
    Outcome,
    Result,
    TransportMode,
    Unit,
)
from results.selectors import (
    may_change_categories,
    may_correct,
    may_post,
    may_see_board,
    postable_entry_points,
)

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
            "may_post": may_post(membership),
            "may_see_board": may_see_board(membership),
            **context,
        },
    )


def _choices(choices: Any) -> list[dict[str, str]]:
    """Choices for the page's scripts, their labels in the interface language."""
    return [{"value": value, "label": gettext(label)} for value, label in choices]


@require_GET
def index(request: HttpRequest, code: str) -> HttpResponse:
    membership = _membership(request, code)
    versions = selectors.results_list(membership)[:200]
    labels = category_labels(membership.operation.pk)
    rows = [
        _labelled(version_summary(v, labels=labels))
        | {"when": local_time(v.inspected_at, v.result.entry_point.time_zone), "reason": v.reason}
        for v in versions
    ]
    entry_points = postable_entry_points(membership)
    return _page(
        request,
        "results/index.html",
        membership,
        tab="results",
        rows=rows,
        nil_entry_points=entry_points,
        nil_days=_nil_days(membership, entry_points),
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


def _nil_days(membership: Membership, entry_points: list[Any]) -> list[str]:
    """The days a nil return may be posted for, newest first: days on the entry points' clocks."""
    now = timezone.now()
    days: set[dt.date] = set()
    for entry_point in entry_points:
        today = selectors.entry_point_day(entry_point, now)
        days.update(d for d in selectors.entry_point_window_days(entry_point, membership.operation) if d <= today)
    return [d.isoformat() for d in sorted(days, reverse=True)]


@require_GET
def post_form(request: HttpRequest, code: str) -> HttpResponse:
    membership = _membership(request, code)
    if not may_post(membership):
        raise NotFound("page")
    return _form(request, membership, correct=None)


@require_GET
def correct_form(request: HttpRequest, code: str, result_uuid: str) -> HttpResponse:
    """The post form, filled with the current version, posting a correction with a reason."""
    membership = _membership(request, code)
    result = selectors.access_result(membership, result_uuid)
    if not may_correct(membership, result):
        raise NotFound("result")
    return _form(request, membership, correct=result)


def _collation_key(name: str) -> str:
    """A name's sort key close enough to a dictionary's for a country list: accents and case set aside
    ("Émirats" with the E's, "Åland" with the A's), so Latin, Cyrillic and Arabic names sort by letter."""
    letters = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in letters if not unicodedata.combining(ch)).casefold()


def _form(request: HttpRequest, membership: Membership, *, correct: Result | None) -> HttpResponse:
    operation = membership.operation
    entry_points = postable_entry_points(membership)
    if correct is not None:
        entry_points = [correct.entry_point]
    # The favourites first, then every other country by its name in the reader's language.
    others = {c: country_name(c) for c in COUNTRIES if c not in COMMON_ORIGINS}
    origins = COMMON_ORIGINS + sorted(others, key=lambda c: _collation_key(others[c]))
    config = {
        "code": operation.code,
        "entryPoints": [{"id": e.pk, "name": e.name, "timeZone": e.time_zone} for e in entry_points],
        "categories": [
            {"code": c.code, "name": c.label()} for c in operation_categories(operation, active_only=True)
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
    return _page(
        request,
        "results/post.html",
        membership,
        tab="results",
        config=config,
        correct=correct,
        handling_codes=handling_codes(),
    )


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
            "sealed": sealing.sealed_fields(v) if visible else None,
            "brands": {ln.pk: sealing.line_brand(v, ln) for ln in v.lines.all()} if visible else {},
        }
        for v in versions
    ]
    current = next(v for v in versions if v.is_current)
    products = products_of_gtins(ln.gtin for v in versions for ln in v.lines.all())
    return _page(
        request,
        "results/detail.html",
        membership,
        tab="results",
        result=result,
        rows=rows,
        current=current,
        may_validate=selectors.may_validate(membership, result),
        may_correct=may_correct(membership, result),
        may_void=selectors.may_void(membership, result) and not current.voided,
        may_restore=selectors.may_void(membership, result) and current.voided,
        sealed_visible=visible,
        products=products,  # GTIN -> the product record it resolves to
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
    membership = _membership(request, code)
    if not may_see_board(membership):
        raise NotFound("board")
    operation = membership.operation
    config = {
        "code": operation.code,
        "administrations": [{"id": a.pk, "name": a.name} for a in operation_administrations(operation)],
        "entryPoints": [
            {"id": e.pk, "name": e.name, "administration": e.administration_id}
            for e in operation_entry_points(operation)
        ],
        "categories": [
            {"code": c.code, "name": c.label(), "id": c.category_id} for c in operation_categories(operation)
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
    """Commodity categories are data: coordinators add (new, or picked from the catalogue the
    operations share), rename (in the six languages) and reclassify here, for this operation only."""
    membership = _membership(request, code)
    if not may_change_categories(membership):
        raise NotFound("page")
    operation = membership.operation
    rows = [
        {"code": c.code, "name": c.name, "label": c.label(), "active": c.active, "names": _names(c.names)}
        for c in operation_categories(operation)
    ]
    catalogue = [
        {"code": c.code, "name": c.name, "label": c.label(), "names": _names(c.names)}
        for c in catalogue_offers(operation)
    ]
    return _page(
        request,
        "results/categories.html",
        membership,
        tab="results",
        categories=rows,
        catalogue=catalogue,
        languages=[(code, LANGUAGE_NAMES[code]) for code in CATEGORY_LANGUAGES[1:]],
    )


#: Each interface language in its own name (the categories form's labels).
LANGUAGE_NAMES = {"fr": "Français", "es": "Español", "pt": "Português", "ru": "Русский", "ar": "العربية"}


def _names(names: dict[str, str]) -> list[tuple[str, str]]:
    """A category's names as (language, name) for each other interface language, empty if none."""
    return [(code, names.get(code, "")) for code in CATEGORY_LANGUAGES[1:]]


def handling_codes() -> list[dict[str, str]]:
    """What each handling code means, in one line each, in the interface language (the post form)."""
    explanations = {
        HandlingCode.H0: gettext(
            "May leave the operation: the public report and the CEN export may include it (never names)."
        ),
        HandlingCode.H1: gettext("Everyone taking part in the operation sees it. The usual choice."),
        HandlingCode.H2: gettext("Only the coordinators and your own administration see it."),
        HandlingCode.H3: gettext("Only your own administration sees it (a national investigation)."),
    }
    return [
        {"value": value, "label": gettext(label), "explanation": explanations[value]}
        for value, label in HandlingCode.choices
    ]
