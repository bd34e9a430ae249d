"""Pages of a right holder: their own product records (list, add, change, delete, photos).

The forms post to these views, which call the same services as the API. A right holder signed in
lands here rather than on "My operations" (they have none); seizures of their products are shown
by the results floor (``results/rightholders.py``), which knows what a seizure is.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cencomm.errors import NotFound, Refused, validation_messages
from cencomm.principal import Principal
from operations import views as operations_views
from operations.models import CommodityCategory
from products import selectors, services
from products.api import product_out
from products.models import Product, RightHolder


def home(request: HttpRequest) -> HttpResponse:
    """The start page: a right holder's products, everyone else's operations."""
    if request.user.is_authenticated and selectors.right_holder_of(Principal(request.user)) is not None:
        return redirect("products")
    return operations_views.home(request)


def _right_holder(request: HttpRequest) -> RightHolder:
    right_holder = selectors.right_holder_of(Principal(request.user))
    if right_holder is None:
        raise NotFound("page")
    return right_holder


def index(request: HttpRequest) -> HttpResponse:
    right_holder = _right_holder(request)
    products = selectors.visible_products(Principal(request.user)).filter(right_holder=right_holder)
    return render(
        request,
        "products/index.html",
        {"right_holder": right_holder, "products": [product_out(p) for p in products]},
    )


def _content(post: Any) -> services.ProductInput:
    gtins = tuple(g for g in str(post.get("gtins", "")).replace(",", " ").split() if g)
    return services.ProductInput(
        gtins=gtins[:25],
        **{name: str(post.get(name, ""))[:5000] for name in ("category", *services.TEXT_FIELDS)},
    )


def _initial(product: Product | None) -> dict[str, str]:
    if product is None:
        return {}
    values = {name: getattr(product, name) for name in services.TEXT_FIELDS}
    return values | {
        "category": product.category.code,
        "gtins": " ".join(g.gtin for g in product.gtins.all()),
    }


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, product_id: int | None = None) -> HttpResponse:
    right_holder = _right_holder(request)
    principal = Principal(request.user)
    product = selectors.access_own_product(principal, product_id) if product_id is not None else None
    values, errors = _initial(product), {}
    if request.method == "POST":
        values = {k: str(v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        try:
            with transaction.atomic():  # a refused photo stores nothing of the form
                saved = _save(request, right_holder, product)
            return (
                redirect("product-edit", product_id=saved.pk)
                if "photo" in request.FILES
                else redirect("products")
            )
        except ValidationError as exc:
            errors = validation_messages(exc)
        except Refused as exc:
            errors = {"__all__": [exc.message]}
    return render(
        request,
        "products/edit.html",
        {
            "right_holder": right_holder,
            "product": product_out(product) if product is not None and product.pk else None,
            "values": values,
            "errors": errors,
            "categories": CommodityCategory.objects.filter(active=True),
        },
        status=400 if errors else 200,
    )


def _save(request: HttpRequest, right_holder: RightHolder, product: Product | None) -> Product:
    content = _content(request.POST)
    if product is None:
        product = services.product_create(right_holder=right_holder, content=content, actor=request.user)
    else:
        product = services.product_update(product=product, content=content, actor=request.user)
    photo = request.FILES.get("photo")
    if photo is not None:
        services.product_photo_add(
            product=product,
            data=photo.read(),
            name=photo.name or "photo",
            caption=request.POST.get("caption", ""),
            actor=request.user,
        )
    return product


@require_POST
def delete(request: HttpRequest, product_id: int) -> HttpResponse:
    product = selectors.access_own_product(Principal(request.user), product_id)
    services.product_delete(product=product, actor=request.user)
    return redirect("products")
