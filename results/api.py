"""API: post, correct, validate and list results; nil returns; categories; the board's aggregates.

The web form posts through these same endpoints; every write goes through results.services.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import ConfigDict

from cencomm.downloads import download_response
from cencomm.errors import NotFound
from cencomm.formats import local_time
from cencomm.principal import principal_of
from cencomm.protocol import ClientId, ClientIdReused
from cencomm.uploads import read_upload
from operations.models import Membership
from operations.selectors import (
    access_membership,
    catalogue_offers,
    category_labels,
    operation_categories,
)
from products.models import Product
from products.selectors import products_of_gtins
from results import sealing, selectors, services
from results.board import BoardFilter, board_snapshot, parse_filter, version_summary
from results.models import HandlingCode, Result, ResultPhoto, ResultVersion, Unit

router = Router(tags=["results"])


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# --- in -----------------------------------------------------------------------------------------


class LineIn(StrictSchema):
    category: str = Field(max_length=40, description="A commodity category's code")
    quantity: Decimal = Field(allow_inf_nan=False, max_digits=20)
    unit: str = Unit.PIECES
    description: str = Field("", max_length=300)
    brand: str | None = Field(None, max_length=300, description="Brand or rights holder (sealed)")
    gtin: str = Field("", max_length=14)
    hs_code: str = Field("", max_length=10)


class ContentIn(StrictSchema):
    inspected_at: dt.datetime = Field(description="With its UTC offset")
    origin: str = Field(max_length=2, description="ISO 3166-1 alpha-2")
    outcome: str
    lines: list[LineIn] = Field(min_length=1, max_length=50)
    departure: str = Field("", max_length=2)
    transit: list[str] = Field(default_factory=list, max_length=20)
    destination: str = Field("", max_length=2)
    transport_mode: str = ""
    detection_method: str = ""
    infringement: str = ""
    concealment: str = Field("", max_length=200)
    estimated_value: Decimal | None = Field(None, allow_inf_nan=False, max_digits=20)
    currency: str = Field("", max_length=3)
    handling_code: str = HandlingCode.H1
    answers_warning: uuid.UUID | None = None
    notes: str | None = Field(None, max_length=5000, description="Sealed at rest")
    reference: str | None = Field(None, max_length=200, description="Container / AWB / B/L (sealed)")
    parties: str | None = Field(None, max_length=2000, description="Persons and companies (sealed)")

    def content(self) -> services.ResultInput:
        data = self.model_dump(exclude={"lines", "transit", "client_id", "entry_point", "reason"})
        lines = tuple(services.LineInput(**line.model_dump()) for line in self.lines)
        return services.ResultInput(**data, lines=lines, transit=tuple(self.transit))


class ResultIn(ContentIn):
    client_id: ClientId = Field(description="A UUID the client mints per draft (retries send it again)")
    entry_point: int


class CorrectionIn(ContentIn):
    reason: str = Field(max_length=500)


class ReasonIn(StrictSchema):
    reason: str = Field(max_length=500, description="Why (required, shown with the version)")


class ValidationIn(StrictSchema):
    decision: str
    comment: str = Field("", max_length=1000)


class NilReturnIn(StrictSchema):
    entry_point: int
    day: dt.date


NAMES_DESCRIPTION = "The name in the other interface languages: {fr, es, pt, ru, ar}, each optional"


class CategoryIn(StrictSchema):
    code: str = Field(max_length=40, description="A catalogue code picks that category; a new code adds one")
    name: str = Field("", max_length=100, description="In English; a catalogue pick may leave it out")
    names: dict[str, str] = Field(default_factory=dict, max_length=6, description=NAMES_DESCRIPTION)


class CategoryRenameIn(StrictSchema):
    name: str = Field("", max_length=100, description="In English; empty keeps it")
    names: dict[str, str] | None = Field(None, max_length=6, description=NAMES_DESCRIPTION)


class ReclassifyIn(StrictSchema):
    from_category: str = Field(max_length=40)
    to_category: str = Field(max_length=40)
    reason: str = Field(max_length=400)
    results: list[uuid.UUID] | None = Field(None, max_length=1000)


class FilterIn(Schema):
    """Read as text and checked by ``results.board.parse_filter``, like the board socket's filter."""

    administration: str | None = Field(None, max_length=100, description="An administration's id")
    entry_point: str | None = Field(None, max_length=100, description="An entry point's id")
    category: str | None = Field(None, max_length=100, description="A commodity category's code")
    day: str | None = Field(None, max_length=100, description="A UTC day, YYYY-MM-DD")


class ListFilterIn(FilterIn):
    outcome: str | None = Field(None, max_length=20)
    validation: str | None = Field(None, max_length=10)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


# --- out ----------------------------------------------------------------------------------------


class LineProductOut(Schema):
    id: int
    brand: str
    name: str
    right_holder: str


class LineOut(Schema):
    position: int
    category: str
    category_name: str
    description: str
    brand: str | None
    gtin: str
    product: LineProductOut | None = Field(None, description="The product record the GTIN resolves to")
    hs_code: str
    quantity: Decimal
    unit: str


class VersionOut(Schema):
    number: int
    current: bool
    created_at: dt.datetime
    created_by: str
    reason: str
    voided: bool = Field(description="A voided result counts nowhere; ``reason`` says why")
    inspected_at: dt.datetime
    inspected_at_local: str
    origin: str
    departure: str
    transit: list[str]
    destination: str
    transport_mode: str
    detection_method: str
    outcome: str
    infringement: str
    concealment: str
    estimated_value: Decimal | None
    currency: str
    handling_code: str
    answers_warning: uuid.UUID | None
    notes: str | None
    reference: str | None
    parties: str | None
    sealed_visible: bool
    lines: list[LineOut]
    chain_seq: int
    hash: str


class PhotoOut(Schema):
    uid: uuid.UUID
    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    uploaded_by: str
    created_at: dt.datetime
    url: str = Field(
        ..., description="The display copy (no EXIF/GPS); add ?original=true for the evidence file"
    )


class ResultOut(Schema):
    uuid: uuid.UUID
    client_id: str
    entry_point: int
    entry_point_name: str
    administration: str
    reported_by: str
    created_at: dt.datetime
    late: bool
    validation: str
    validation_comment: str
    current: VersionOut
    versions: int
    photos: list[PhotoOut] = []


class ResultPage(Schema):
    count: int
    results: list[dict[str, Any]]


class NilReturnOut(Schema):
    entry_point: int
    day: dt.date
    created_at: dt.datetime


class CategoryOut(Schema):
    code: str
    name: str = Field(description="In English (reports use it)")
    names: dict[str, str]
    label: str = Field(description="The name in the caller's language")
    active: bool

    @staticmethod
    def resolve_label(obj: Any) -> str:
        return obj.label()


class ReclassifyOut(Schema):
    results: int


# --- helpers ------------------------------------------------------------------------------------


def _membership(request: HttpRequest, code: str) -> Membership:
    return access_membership(principal_of(request), operation_code=code)


def _filter(membership: Membership, query: FilterIn) -> BoardFilter:
    return parse_filter(
        membership.operation,
        administration=query.administration,
        entry_point=query.entry_point,
        category=query.category,
        day=query.day,
    )


def _line_product(product: Product | None) -> dict[str, Any] | None:
    if product is None:
        return None
    return {
        "id": product.pk,
        "brand": product.brand,
        "name": product.name,
        "right_holder": product.right_holder.name,
    }


def _version_out(membership: Membership, version: ResultVersion) -> dict[str, Any]:
    result = version.result
    visible = selectors.may_see_sealed(membership, result)
    sealed = sealing.sealed_fields(version) if visible else dict.fromkeys(sealing.SEALED_FIELDS)
    labels = category_labels(result.operation_id)  # in the caller's language
    lines = list(version.lines.select_related("category").order_by("position"))
    products = products_of_gtins(line.gtin for line in lines)  # resolved now: a GTIN typed offline too
    return {
        "number": version.number,
        "current": version.is_current,
        "created_at": version.created_at,
        "created_by": version.created_by.username,
        "reason": version.reason,
        "voided": version.voided,
        "inspected_at": version.inspected_at,
        "inspected_at_local": local_time(version.inspected_at, result.entry_point.time_zone),
        "origin": version.origin_country,
        "departure": version.departure_country,
        "transit": version.transit_countries,
        "destination": version.destination_country,
        "transport_mode": version.transport_mode,
        "detection_method": version.detection_method,
        "outcome": version.outcome,
        "infringement": version.infringement,
        "concealment": version.concealment,
        "estimated_value": version.estimated_value,
        "currency": version.currency,
        "handling_code": version.handling_code,
        "answers_warning": version.answers_warning,
        **sealed,
        "sealed_visible": visible,
        "lines": [
            {
                "position": line.position,
                "category": line.category.code,
                "category_name": labels.get(line.category_id, line.category.name),
                "description": line.description,
                "brand": sealing.line_brand(version, line) if visible else None,
                "gtin": line.gtin,
                "product": _line_product(products.get(line.gtin)),
                "hs_code": line.hs_code,
                "quantity": line.quantity,
                "unit": line.unit,
            }
            for line in lines
        ],
        "chain_seq": version.chain_seq,
        "hash": version.hash,
    }


def _result_out(membership: Membership, result: Result) -> dict[str, Any]:
    versions = list(result.versions.select_related("created_by", "result__entry_point"))
    current = next(v for v in versions if v.is_current)
    return {
        "uuid": result.uuid,
        "client_id": result.client_id,
        "entry_point": result.entry_point_id,
        "entry_point_name": result.entry_point.name,
        "administration": result.administration.country,
        "reported_by": result.reported_by.username,
        "created_at": result.created_at,
        "late": result.late,
        "validation": result.validation,
        "validation_comment": result.validation_comment,
        "current": _version_out(membership, current),
        "versions": len(versions),
        "photos": [_photo_out(membership, result, p) for p in result.photos.select_related("uploaded_by")],
    }


def _photo_out(membership: Membership, result: Result, photo: ResultPhoto) -> dict[str, Any]:
    return {
        "uid": photo.uid,
        "content_type": photo.content_type,
        "size": photo.size,
        "sha256": photo.sha256,
        "width": photo.width,
        "height": photo.height,
        "uploaded_by": photo.uploaded_by.username,
        "created_at": photo.created_at,
        "url": f"/api/v1/operations/{membership.operation.code}/results/{result.uuid}/photos/{photo.uid}",
    }


# --- results ------------------------------------------------------------------------------------


class ClientIdReusedOut(Schema):
    detail: str
    id: str = Field(description="The UUID of the result this client ID already names")
    errors: dict[str, list[str]]


@router.post(
    "/operations/{code}/results", response={200: ResultOut, 201: ResultOut, 409: ClientIdReusedOut}
)
def post_result(request: HttpRequest, code: str, payload: ResultIn) -> Status[Any]:
    """Post one result. A retry (same ``client_id``, same content) answers the stored result with 200;
    the same ``client_id`` with other content is refused with 409 and the stored result's ``id``."""
    membership = _membership(request, code)
    try:
        result, created = services.result_post(
            membership=membership,
            entry_point_id=payload.entry_point,
            client_id=payload.client_id,
            content=payload.content(),
        )
    except ClientIdReused as exc:
        return Status(409, {"detail": exc.message, "id": str(exc.stored_id), "errors": {"client_id": [exc.message]}})
    result = selectors.access_result(membership, result.uuid)
    return Status(201 if created else 200, _result_out(membership, result))


@router.get("/operations/{code}/results", response=ResultPage)
def list_results(request: HttpRequest, code: str, query: Query[ListFilterIn]) -> dict[str, Any]:
    """The current versions the caller may see, newest first; voided ones too (``voided`` says so)."""
    membership = _membership(request, code)
    versions = selectors.results_list(
        membership, _filter(membership, query), outcome=query.outcome, validation=query.validation
    )
    page = versions[query.offset : query.offset + query.limit]
    return {"count": versions.count(), "results": [version_summary(v) for v in page]}


@router.get("/operations/{code}/results/{result_uuid}", response=ResultOut)
def get_result(request: HttpRequest, code: str, result_uuid: str) -> dict[str, Any]:
    membership = _membership(request, code)
    return _result_out(membership, selectors.access_result(membership, result_uuid))


@router.get("/operations/{code}/results/{result_uuid}/versions", response=list[VersionOut])
def list_versions(request: HttpRequest, code: str, result_uuid: str) -> list[dict[str, Any]]:
    membership = _membership(request, code)
    result = selectors.access_result(membership, result_uuid)
    versions = result.versions.select_related("created_by", "result__entry_point").order_by("number")
    return [_version_out(membership, v) for v in versions]


@router.post("/operations/{code}/results/{result_uuid}/corrections", response={201: ResultOut})
def correct_result(request: HttpRequest, code: str, result_uuid: str, payload: CorrectionIn) -> Status[Any]:
    membership = _membership(request, code)
    services.result_correct(
        membership=membership, result_uuid=result_uuid, content=payload.content(), reason=payload.reason
    )
    return Status(201, _result_out(membership, selectors.access_result(membership, result_uuid)))


@router.post("/operations/{code}/results/{result_uuid}/void", response=ResultOut)
def void_result(request: HttpRequest, code: str, result_uuid: str, payload: ReasonIn) -> dict[str, Any]:
    """Void a result (a duplicate, a post in error): it then counts nowhere but stays readable.

    A new chained version, ``voided`` true, with the reason. 409 if it is voided already.
    """
    membership = _membership(request, code)
    services.result_void(membership=membership, result_uuid=result_uuid, reason=payload.reason)
    return _result_out(membership, selectors.access_result(membership, result_uuid))


@router.post("/operations/{code}/results/{result_uuid}/restore", response=ResultOut)
def restore_result(request: HttpRequest, code: str, result_uuid: str, payload: ReasonIn) -> dict[str, Any]:
    """Restore a voided result; the reason is required too. 409 if it is not voided."""
    membership = _membership(request, code)
    services.result_restore(membership=membership, result_uuid=result_uuid, reason=payload.reason)
    return _result_out(membership, selectors.access_result(membership, result_uuid))


@router.post("/operations/{code}/results/{result_uuid}/validation", response=ResultOut)
def validate_result(
    request: HttpRequest, code: str, result_uuid: str, payload: ValidationIn
) -> dict[str, Any]:
    membership = _membership(request, code)
    services.result_validate(
        membership=membership, result_uuid=result_uuid, decision=payload.decision, comment=payload.comment
    )
    return _result_out(membership, selectors.access_result(membership, result_uuid))


@router.post("/operations/{code}/results/{result_uuid}/photos", response={201: PhotoOut, 413: dict})
def add_photo(
    request: HttpRequest,
    code: str,
    result_uuid: str,
    file: UploadedFile = File(...),  # noqa: B008
) -> Status[Any]:
    """A JPEG or PNG of the goods or the concealment. 413 over the size limit, 422 for anything else."""
    membership = _membership(request, code)
    photo = services.result_photo_add(
        membership=membership, result_uuid=result_uuid, data=read_upload(file), name=file.name or "photo"
    )
    return Status(201, _photo_out(membership, photo.result, photo))


@router.get("/operations/{code}/results/{result_uuid}/photos/{photo_uid}")
def get_photo(
    request: HttpRequest, code: str, result_uuid: str, photo_uid: str, original: bool = False
) -> HttpResponse:
    """The display copy (metadata removed), or with ``?original=true`` the evidence file and its SHA-256."""
    membership = _membership(request, code)
    photo = selectors.access_result_photo(membership, result_uuid, photo_uid)
    part = "original" if original else "display"
    extension = ".jpg" if photo.content_type == "image/jpeg" else ".png"
    return download_response(
        sealing.photo_content(photo, part=part),
        filename=f"{photo.uid}{extension}",
        content_type=photo.content_type,
        inline=not original,
        headers={"X-Content-SHA256": photo.sha256} if original else None,
    )


@router.post("/operations/{code}/nil-returns", response={200: NilReturnOut, 201: NilReturnOut})
def post_nil_return(request: HttpRequest, code: str, payload: NilReturnIn) -> Status[Any]:
    membership = _membership(request, code)
    nil, created = services.nil_return_post(
        membership=membership, entry_point_id=payload.entry_point, day=payload.day
    )
    return Status(
        201 if created else 200,
        {"entry_point": nil.entry_point_id, "day": nil.day, "created_at": nil.created_at},
    )


# --- the board ----------------------------------------------------------------------------------


@router.get("/operations/{code}/board")
def board(request: HttpRequest, code: str, query: Query[FilterIn]) -> dict[str, Any]:
    """The board's aggregates (the same snapshot the board socket sends on connect).

    Quantities are per unit of measure: ``units`` (pieces and packs), ``kg`` and ``litres``.
    """
    membership = _membership(request, code)
    if not selectors.may_see_board(membership):
        raise NotFound("board")
    return board_snapshot(membership.operation, _filter(membership, query))


# --- commodity categories -----------------------------------------------------------------------


@router.get("/operations/{code}/categories", response=list[CategoryOut])
def list_categories(request: HttpRequest, code: str) -> Any:
    """The categories this operation offers (each operation has its own list)."""
    return operation_categories(_membership(request, code).operation)


@router.get("/operations/{code}/categories/catalogue", response=list[CategoryOut])
def list_catalogue(request: HttpRequest, code: str) -> Any:
    """Shared catalogue categories this operation does not offer yet: POST a code to pick one."""
    return catalogue_offers(_membership(request, code).operation)


@router.post("/operations/{code}/categories", response={201: CategoryOut})
def add_category(request: HttpRequest, code: str, payload: CategoryIn) -> Status[Any]:
    membership = _membership(request, code)
    return Status(
        201,
        services.category_add(
            membership=membership, code=payload.code, name=payload.name, names=payload.names
        ),
    )


@router.patch("/operations/{code}/categories/{category_code}", response=CategoryOut)
def rename_category(request: HttpRequest, code: str, category_code: str, payload: CategoryRenameIn) -> Any:
    membership = _membership(request, code)
    return services.category_rename(
        membership=membership, code=category_code, name=payload.name, names=payload.names
    )


@router.post("/operations/{code}/reclassifications", response=ReclassifyOut)
def reclassify(request: HttpRequest, code: str, payload: ReclassifyIn) -> dict[str, int]:
    membership = _membership(request, code)
    count = services.goods_reclassify(
        membership=membership,
        from_category=payload.from_category,
        to_category=payload.to_category,
        reason=payload.reason,
        result_uuids=payload.results,
    )
    return {"results": count}
