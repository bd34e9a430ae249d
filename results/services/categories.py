"""The operation's commodity categories (added, renamed) and moving goods lines between them."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext

from cencomm.errors import NotFound, Refused
from cencomm.live import board_group, publish_on_commit
from operations.models import CommodityCategory, Membership, Operation, OperationCategory
from operations.selectors import category_labels
from operations.services import operation_hold_state
from results import audit, events
from results.models import Result
from results.selectors import access_result, may_change_categories
from results.services.checks import _categories, _require_open
from results.services.versions import _board_bump, _version_copy


def _require_coordinator(membership: Membership) -> None:
    if not may_change_categories(membership):
        raise Refused("Only coordinators change commodity categories.")


def _resync(operation: Operation, kind: str) -> None:
    seq = _board_bump(operation)
    publish_on_commit(board_group(operation.pk), events.resync(seq=seq, kind=kind))


def _category_names(names: dict[str, str] | None) -> dict[str, str]:
    return {
        lang: text.strip() for lang, text in (names or {}).items() if isinstance(text, str) and text.strip()
    }


def _category_checked(category: models.Model, field_prefix: str = "") -> None:
    """full_clean with the errors named as the API names them (``names``, ``name``, ``code``)."""
    try:
        category.full_clean(exclude=["operation", "category"])
    except ValidationError as exc:
        raise ValidationError({field_prefix + f: msgs for f, msgs in exc.message_dict.items()}) from None


@transaction.atomic
def category_add(
    *, membership: Membership, code: str, name: str = "", names: dict[str, str] | None = None
) -> OperationCategory:
    """Offer a category in this operation only: picked from the shared catalogue by its code (its
    names there are the default), or new, and then added to the catalogue for the next operation."""
    _require_coordinator(membership)
    operation = membership.operation
    code, name, names = code.strip(), name.strip(), _category_names(names)
    entry = CommodityCategory.objects.filter(code=code).first()
    if entry is None:
        entry = CommodityCategory(code=code, name=name, names=names)
        if not name:
            raise ValidationError({"name": [gettext("Give the category's name in English.")]})
        _category_checked(entry)
        entry.save()
        added_to_catalogue = True
    else:
        added_to_catalogue = False
    if OperationCategory.objects.filter(operation=operation, category=entry).exists():
        raise ValidationError({"code": [gettext("This operation offers this category already.")]})
    category = OperationCategory(
        operation=operation,
        category=entry,
        name=name or entry.name,
        names=names or dict(entry.names),
        position=entry.position,
    )
    _category_checked(category)
    if OperationCategory.objects.filter(operation=operation, name=category.name).exists():
        raise ValidationError({"name": [gettext("Another category of this operation has this name.")]})
    category.save()
    audit.category_added(
        actor=membership.user,
        operation=operation,
        target=category,
        data={
            "code": entry.code,
            "name": category.name,
            "names": category.names,
            "catalogue": added_to_catalogue,
        },
    )
    _resync(operation, "category_added")
    return category


@transaction.atomic
def category_rename(
    *, membership: Membership, code: str, name: str = "", names: dict[str, str] | None = None
) -> OperationCategory:
    """Rename a category in this operation only (its English name, its other languages' names or
    both); the catalogue and every other operation keep theirs."""
    _require_coordinator(membership)
    operation = membership.operation
    category = (
        OperationCategory.objects.select_for_update(no_key=True, of=("self",))
        .select_related("category")
        .filter(operation=operation, category__code=code)
        .first()
    )
    if category is None:
        raise NotFound("category")
    old = {"name": category.name, "names": dict(category.names)}
    if name.strip():
        category.name = name.strip()
    if names is not None:
        category.names = {**category.names, **_category_names(names)}
    _category_checked(category)
    if (
        OperationCategory.objects.filter(operation=operation, name=category.name)
        .exclude(pk=category.pk)
        .exists()
    ):
        raise ValidationError({"name": [gettext("Another category of this operation has this name.")]})
    audit.category_renamed(
        actor=membership.user,
        operation=operation,
        target=category,
        data={
            "code": code,
            "from": old["name"],
            "to": category.name,
            "names_from": old["names"],
            "names_to": category.names,
        },
    )
    category.save(update_fields=["name", "names"])
    _resync(operation, "category_renamed")
    return category


@transaction.atomic
def goods_reclassify(
    *,
    membership: Membership,
    from_category: str,
    to_category: str,
    reason: str,
    result_uuids: Sequence[object] | None = None,
) -> int:
    """Move current goods lines of one category into another, as a new version per result.

    Returns how many results got a new version. Closed operations keep their history as it is.
    """
    _require_coordinator(membership)
    operation = operation_hold_state(membership.operation)
    _require_open(operation)
    categories = _categories(operation, [from_category, to_category])
    errors = {}
    for field, code in (("from_category", from_category), ("to_category", to_category)):
        if code not in categories:
            errors[field] = [f"Unknown commodity category {code!r}."]
    if from_category == to_category:
        errors["to_category"] = ["Choose another category."]
    if not reason.strip():
        errors["reason"] = ["Say why the goods are reclassified."]
    if errors:
        raise ValidationError(errors)
    source, target = categories[from_category], categories[to_category]
    results = Result.objects.filter(
        operation=operation,
        versions__is_current=True,
        versions__lines__category=source,
    )
    if result_uuids is not None:
        results = results.filter(uuid__in=[str(access_result(membership, u).uuid) for u in result_uuids])
    locked = list(
        Result.objects.select_for_update(no_key=True).filter(pk__in=results.values("pk")).order_by("pk")
    )
    names = category_labels(operation.pk, "en")  # the record is kept in English
    text = f"Reclassified from {names[source.pk]} to {names[target.pk]}: {reason.strip()}"[:500]
    for result in locked:
        _version_copy(
            result=result,
            actor=membership.user,
            reason=text,
            change=lambda line: target if line.category_id == source.pk else line.category,
        )
    audit.goods_reclassified(
        actor=membership.user,
        operation=operation,
        data={"from": source.code, "to": target.code, "results": [str(r.uuid) for r in locked]},
    )
    _resync(operation, "reclassified")
    return len(locked)
