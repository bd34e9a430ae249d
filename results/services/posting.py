"""Posting a new result, and answering a retried client ID with the result it already made."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from cencomm import metrics
from cencomm.protocol import ClientIdReused
from operations.models import EntryPoint, Membership
from operations.services import operation_hold_state
from results import audit
from results.models import GoodsLine, Result, ResultVersion
from results.sealing import SEALED_FIELDS, line_brand, sealed_fields
from results.services.checks import _posting_entry_point, _require_open, _validate
from results.services.inputs import LINE_FIELDS, PLAIN_FIELDS, ResultInput
from results.services.nil_returns import _supersede_nil_return
from results.services.versions import _publish_version, _version_write


@transaction.atomic
def result_post(
    *, membership: Membership, entry_point_id: int, client_id: str, content: ResultInput
) -> tuple[Result, bool]:
    """Store a new result, or return the one already stored under ``client_id`` (created=False).

    A client ID sent again with the same content is a retry and answers the stored result; with
    other content it is refused (ClientIdReused, naming the stored result).
    """
    operation = operation_hold_state(membership.operation)
    existing = _by_client_id(membership, client_id, entry_point_id, content)
    if existing is not None:
        return existing, False
    late = _require_open(operation)
    entry_point, version, lines = _posting_checked(membership, entry_point_id, content)
    try:
        with transaction.atomic():
            result = Result.objects.create(
                operation=operation,
                client_id=client_id,
                entry_point=entry_point,
                administration_id=entry_point.administration_id,
                reported_by=membership.user,
                late=late,
            )
    except IntegrityError:  # the same client_id committed concurrently: a retry
        existing = _by_client_id(membership, client_id, entry_point_id, content)
        if existing is None:
            raise
        return existing, False
    sealed = {f: getattr(content, f) for f in SEALED_FIELDS}
    _version_write(
        result=result, version=version, lines=lines, sealed=sealed, actor=membership.user, reason=""
    )
    audit.result_posted(actor=membership.user, result=result, version=version)
    metrics.count_on_commit(metrics.RESULTS_POSTED)
    _supersede_nil_return(result, version, membership.user)
    _publish_version(result, None, version, "posted")
    return result, True


def _posting_checked(
    membership: Membership, entry_point_id: int, content: ResultInput
) -> tuple[EntryPoint, ResultVersion, list[tuple[GoodsLine, str | None]]]:
    """The entry point and the content checked together: one answer names every bad field."""
    errors: dict[str, list[str]] = {}
    entry_point: EntryPoint | None = None
    try:
        entry_point = _posting_entry_point(membership, entry_point_id)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        version, lines = _validate(membership, content)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors or entry_point is None:
        raise ValidationError(errors)
    return entry_point, version, lines


def _by_client_id(
    membership: Membership, client_id: str, entry_point_id: int, content: ResultInput
) -> Result | None:
    """The result stored under ``client_id`` if this post is a retry of it; refused if it is not."""
    result = Result.objects.filter(operation=membership.operation, client_id=client_id).first()
    if result is None:
        return None
    if result.reported_by_id != membership.user_id:
        raise ValidationError({"client_id": [gettext("This client ID is already used by another result.")]})
    # The body as posted is the result's first version (a later correction does not change what a
    # retry of the post carries). Compared field by field as stored, not byte by byte.
    posted = result.versions.select_related("result").get(number=1)
    if _posted_form(posted) != _input_form(entry_point_id, content):
        raise ClientIdReused(
            gettext(
                "This client ID already names result %(uuid)s, posted with other content. "
                "Post a new result with a new client ID, or correct that one."
            )
            % {"uuid": result.uuid},
            stored_id=str(result.uuid),
        )
    return result


def _posted_form(version: ResultVersion) -> dict[str, Any]:
    """A stored version as the input that made it, for comparing a retry with."""
    form = {api: getattr(version, model) for api, model in PLAIN_FIELDS.items()}
    form["transit"] = list(version.transit_countries)
    form["entry_point"] = version.result.entry_point_id
    form |= {f: text or "" for f, text in sealed_fields(version).items()}
    form["lines"] = [
        {
            "category": line.category.code,
            **{f: getattr(line, f) for f in LINE_FIELDS},
            "brand": line_brand(version, line) or "",
        }
        for line in version.lines.select_related("category").order_by("position")
    ]
    return form


def _input_form(entry_point_id: int, content: ResultInput) -> dict[str, Any]:
    form = {api: getattr(content, api) for api in PLAIN_FIELDS}
    form["transit"] = list(content.transit)
    form["entry_point"] = entry_point_id
    form |= {f: getattr(content, f) or "" for f in SEALED_FIELDS}
    form["lines"] = [
        {"category": line.category, **{f: getattr(line, f) for f in LINE_FIELDS}, "brand": line.brand or ""}
        for line in content.lines
    ]
    return form
