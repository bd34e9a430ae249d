"""API: the product lookup for operation members, the offline cache of an operation's products,
and the right holders' own records (create, read, change, delete, photos).

``GET /products?gtin=`` answers a list (empty when no visible product has that GTIN), so that an
unknown barcode and a product of another right holder look the same to a right holder.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import ConfigDict

from cencomm.downloads import download_response
from cencomm.errors import NotFound
from cencomm.principal import principal_of
from cencomm.uploads import read_upload
from products import selectors, services
from products.models import Product, ProductPhoto

router = Router(tags=["products"])


class ProductIn(Schema):
    model_config = ConfigDict(extra="forbid")

    brand: str = Field(max_length=100)
    name: str = Field(max_length=200)
    category: str = Field(max_length=40, description="The shared catalogue's code")
    gtins: list[str] = Field(max_length=20, description="GTIN-8, -12, -13 or -14, check digit included")
    genuine_features: str = Field("", max_length=5000)
    counterfeit_indicators: str = Field("", max_length=5000)
    contact_name: str = Field(max_length=200)
    contact_phone: str = Field("", max_length=40)
    contact_email: str = Field("", max_length=254)
    contact_hours: str = Field("", max_length=200)

    def content(self) -> services.ProductInput:
        data = self.model_dump()
        return services.ProductInput(**{**data, "gtins": tuple(str(g)[:20] for g in data["gtins"])})


class PhotoOut(Schema):
    uid: str
    caption: str
    width: int
    height: int
    url: str


class ContactOut(Schema):
    name: str
    phone: str
    email: str
    hours: str


class ProductOut(Schema):
    id: int
    right_holder: str
    brand: str
    name: str
    gtins: list[str]
    category: str
    category_name: str
    genuine_features: str
    counterfeit_indicators: str
    contact: ContactOut
    photos: list[PhotoOut]
    updated_at: dt.datetime


def photo_url(photo: ProductPhoto) -> str:
    return f"/api/v1/products/{photo.product_id}/photos/{photo.uid}"


def product_out(product: Product) -> dict[str, Any]:
    """A product card as officers see it (the pages' scripts use the same shape)."""
    return {
        "id": product.pk,
        "right_holder": product.right_holder.name,
        "brand": product.brand,
        "name": product.name,
        "gtins": [g.gtin for g in product.gtins.all()],
        "category": product.category.code,
        "category_name": product.category.label(),
        "genuine_features": product.genuine_features,
        "counterfeit_indicators": product.counterfeit_indicators,
        "contact": {
            "name": product.contact_name,
            "phone": product.contact_phone,
            "email": product.contact_email,
            "hours": product.contact_hours,
        },
        "photos": [
            {
                "uid": str(p.uid),
                "caption": p.caption,
                "width": p.width,
                "height": p.height,
                "url": photo_url(p),
            }
            for p in product.photos.all()
        ],
        "updated_at": product.updated_at,
    }


def _own_right_holder(request: HttpRequest) -> Any:
    right_holder = selectors.right_holder_of(principal_of(request))
    if right_holder is None:
        raise NotFound("product")
    return right_holder


@router.get("/products", response=list[ProductOut])
def list_products(request: HttpRequest, gtin: str = "") -> list[dict[str, Any]]:
    """With ``gtin``: the product with that barcode (a list of at most one), for members of an
    operation and for its own right holder. Without: a right holder's own records."""
    principal = principal_of(request)
    if gtin:
        products = selectors.products_by_gtin(principal, gtin[:20])
    else:
        products = selectors.visible_products(principal).filter(right_holder=_own_right_holder(request))
    return [product_out(p) for p in products]


@router.post("/products", response={201: ProductOut})
def create_product(request: HttpRequest, payload: ProductIn) -> Status[Any]:
    """A right holder records a product (right holders only)."""
    right_holder = _own_right_holder(request)
    product = services.product_create(
        right_holder=right_holder, content=payload.content(), actor=principal_of(request).user
    )
    return Status(201, product_out(selectors.access_own_product(principal_of(request), product.pk)))


@router.get("/products/{int:product_id}", response=ProductOut)
def get_product(request: HttpRequest, product_id: int) -> dict[str, Any]:
    return product_out(selectors.access_product(principal_of(request), product_id))


@router.put("/products/{int:product_id}", response=ProductOut)
def update_product(request: HttpRequest, product_id: int, payload: ProductIn) -> dict[str, Any]:
    principal = principal_of(request)
    product = selectors.access_own_product(principal, product_id)
    services.product_update(product=product, content=payload.content(), actor=principal.user)
    return product_out(selectors.access_own_product(principal, product_id))


@router.delete("/products/{int:product_id}", response={204: None})
def delete_product(request: HttpRequest, product_id: int) -> Status[None]:
    principal = principal_of(request)
    services.product_delete(product=selectors.access_own_product(principal, product_id), actor=principal.user)
    return Status(204, None)


@router.post("/products/{int:product_id}/photos", response={201: PhotoOut, 413: dict})
def add_photo(
    request: HttpRequest,
    product_id: int,
    file: UploadedFile = File(...),  # noqa: B008
    caption: str = Form(""),  # noqa: B008
) -> Status[Any]:
    """A JPEG or PNG of the genuine article; the hub keeps a copy without EXIF or GPS."""
    principal = principal_of(request)
    product = selectors.access_own_product(principal, product_id)
    photo = services.product_photo_add(
        product=product,
        data=read_upload(file),
        name=file.name or "photo",
        caption=caption,
        actor=principal.user,
    )
    return Status(
        201,
        {
            "uid": str(photo.uid),
            "caption": photo.caption,
            "width": photo.width,
            "height": photo.height,
            "url": photo_url(photo),
        },
    )


@router.get("/products/{int:product_id}/photos/{uuid:photo_uid}")
def get_photo(request: HttpRequest, product_id: int, photo_uid: str) -> HttpResponse:
    photo = selectors.access_photo(principal_of(request), product_id, str(photo_uid))
    extension = ".jpg" if photo.content_type == "image/jpeg" else ".png"
    return download_response(
        bytes(photo.image), filename=f"{photo.uid}{extension}", content_type=photo.content_type, inline=True
    )


@router.get("/operations/{code}/products", response=list[ProductOut])
def operation_products(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    """The offline cache: every product in the operation's target categories (its members only)."""
    return [product_out(p) for p in selectors.operation_products(principal_of(request), code)]
