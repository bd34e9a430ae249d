"""What a right holder learns of the seizures that concern their products: the fact, no more.

A goods line concerns a right holder when its GTIN resolves to one of their product records. They
see it only when the result may leave the operation (handling code H0), is counted (current, not
voided) and intercepted (seized or detained); and then only the operation, the day, the product,
the quantity and the outcome: never who reported it, where, the sealed fields or any room.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET
from ninja import Router, Schema

from cencomm.errors import NotFound
from cencomm.formats import number
from cencomm.principal import Principal, principal_of
from products.models import ProductGtin, RightHolder
from products.selectors import right_holder_of
from results.models import INTERCEPTED, GoodsLine, HandlingCode, Outcome

#: The handling codes under which a right holder is told of a seizure of their product.
NOTIFIABLE = (HandlingCode.H0,)

router = Router(tags=["products"])


def seizure_lines(right_holder: RightHolder) -> QuerySet[GoodsLine]:
    gtins = ProductGtin.objects.filter(product__right_holder=right_holder).values("gtin")
    return (
        GoodsLine.objects.filter(
            gtin__in=gtins,
            version__is_current=True,
            version__voided=False,
            version__outcome__in=INTERCEPTED,
            version__handling_code__in=NOTIFIABLE,
        )
        .select_related("version__result__operation")
        .order_by("-version__inspected_at", "pk")
    )


def right_holder_seizures(right_holder: RightHolder) -> list[dict[str, Any]]:
    """The facts of the seizures concerning the right holder's products, newest first."""
    lines = list(seizure_lines(right_holder)[:500])
    products = {
        g.gtin: g.product
        for g in ProductGtin.objects.filter(
            product__right_holder=right_holder, gtin__in={ln.gtin for ln in lines}
        ).select_related("product")
    }
    return [
        {
            "operation": line.version.result.operation.code,
            "operation_name": line.version.result.operation.name,
            "day": line.version.inspected_at.astimezone(dt.UTC).date(),
            "product_id": products[line.gtin].pk,
            "product": f"{products[line.gtin].brand} {products[line.gtin].name}",
            "gtin": line.gtin,
            "quantity": number(line.quantity),
            "unit": line.unit,
            "outcome": line.version.outcome,
            "outcome_label": gettext(Outcome(line.version.outcome).label),
        }
        for line in lines
    ]


def _right_holder(principal: Principal) -> RightHolder:
    right_holder = right_holder_of(principal)
    if right_holder is None:
        raise NotFound("page")
    return right_holder


class SeizureOut(Schema):
    operation: str
    operation_name: str
    day: dt.date
    product_id: int
    product: str
    gtin: str
    quantity: float
    unit: str
    outcome: str


@router.get("/products/seizures", response=list[SeizureOut])
def seizures(request: HttpRequest) -> list[dict[str, Any]]:
    """For a right holder: the seizures of their products that the operations let leave (H0)."""
    return right_holder_seizures(_right_holder(principal_of(request)))


@require_GET
def seizures_page(request: HttpRequest) -> HttpResponse:
    right_holder = _right_holder(Principal(request.user))
    return render(
        request,
        "products/seizures.html",
        {"right_holder": right_holder, "seizures": right_holder_seizures(right_holder)},
    )
