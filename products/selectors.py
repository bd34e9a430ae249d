"""Reads of product records. ``access_*`` getters raise NotFound for anything the caller may not see.

Two kinds of reader: a right holder's people see their own organisation's records and nothing
else; a member of an operation (any role, a non-archived operation, within a token's scope) sees
every product card, since officers look a barcode up whoever owns it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import CharField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Concat

from cencomm.errors import NotFound
from cencomm.principal import Principal
from operations.models import Membership, Operation
from operations.selectors import access_operation
from products.models import Product, ProductGtin, ProductPhoto, RightHolder, RightHolderMember, gtin_compact


def right_holder_of(principal: Principal) -> RightHolder | None:
    """The right holder the caller speaks for (a session only: tokens are scoped to operations)."""
    if principal.token_operation_id is not None or not principal.user.is_authenticated:
        return None
    link = RightHolderMember.objects.select_related("right_holder").filter(user_id=principal.user_id).first()
    return link.right_holder if link is not None else None


def is_operation_member(principal: Principal) -> bool:
    """Whether the caller is a member of an operation that is not archived (within the token's scope)."""
    if not principal.user.is_authenticated or not principal.user.is_active:
        return False
    memberships = Membership.objects.filter(user_id=principal.user_id).exclude(
        operation__state=Operation.State.ARCHIVED
    )
    if principal.token_operation_id is not None:
        memberships = memberships.filter(operation_id=principal.token_operation_id)
    return memberships.exists()


def _cards() -> QuerySet[Product]:
    return Product.objects.select_related("right_holder", "category").prefetch_related(
        Prefetch("gtins", queryset=ProductGtin.objects.order_by("gtin")),
        Prefetch("photos", queryset=ProductPhoto.objects.defer("image")),
    )


def visible_products(principal: Principal) -> QuerySet[Product]:
    """Every product for an operation member; the own organisation's for a right holder; else none."""
    if is_operation_member(principal):
        return _cards()
    right_holder = right_holder_of(principal)
    if right_holder is not None:
        return _cards().filter(right_holder=right_holder)
    return Product.objects.none()


def may_look_up(principal: Principal) -> bool:
    return is_operation_member(principal) or right_holder_of(principal) is not None


def products_by_gtin(principal: Principal, gtin: str) -> QuerySet[Product]:
    """The product (at most one) with this GTIN, among those the caller may see."""
    if not may_look_up(principal):
        raise NotFound("product")
    return visible_products(principal).filter(gtins__gtin=gtin_compact(gtin)[:14])


def access_product(principal: Principal, product_id: int) -> Product:
    product = visible_products(principal).filter(pk=int(product_id)).first()
    if product is None:
        raise NotFound("product")
    return product


def access_own_product(principal: Principal, product_id: int) -> Product:
    """A product of the caller's own right holder, to change: anyone else gets NotFound."""
    right_holder = right_holder_of(principal)
    if right_holder is None:
        raise NotFound("product")
    product = _cards().filter(pk=int(product_id), right_holder=right_holder).first()
    if product is None:
        raise NotFound("product")
    return product


def access_photo(principal: Principal, product_id: int, uid: str) -> ProductPhoto:
    product = access_product(principal, product_id)
    photo = ProductPhoto.objects.filter(product=product, uid=str(uid)).first()
    if photo is None:
        raise NotFound("photo")
    return photo


def operation_products(principal: Principal, code: str) -> QuerySet[Product]:
    """The offline cache of an operation: the products in its target categories (members only)."""
    operation = access_operation(principal, code)
    return _cards().filter(category__in=operation.target_categories.all())


# --- brands, as the board and the report group seizures by them ---------------------------------

BRAND_SEPARATOR = " · "


def brand_label(product: Product) -> str:
    """How a product's brand and right holder are named together in a breakdown."""
    return f"{product.brand}{BRAND_SEPARATOR}{product.right_holder.name}"


def brand_label_sql(gtin_field: str = "gtin") -> Subquery:
    """``brand_label`` of the product a row's GTIN resolves to (NULL when none), computed in SQL."""
    return Subquery(
        ProductGtin.objects.filter(gtin=OuterRef(gtin_field))
        .annotate(
            label=Concat(
                "product__brand",
                Value(BRAND_SEPARATOR),
                "product__right_holder__name",
                output_field=CharField(),
            )
        )
        .values("label")[:1]
    )


def brands_of_gtins(gtins: Iterable[str]) -> dict[str, str]:
    """GTIN -> ``brand_label`` for the GTINs that resolve to a product."""
    wanted = {g for g in gtins if g}
    rows = ProductGtin.objects.filter(gtin__in=wanted).select_related("product__right_holder")
    return {row.gtin: brand_label(row.product) for row in rows}


def products_of_gtins(gtins: Iterable[str]) -> dict[str, Product]:
    """GTIN -> product, for the GTINs that resolve to one."""
    wanted = {g for g in gtins if g}
    rows = ProductGtin.objects.filter(gtin__in=wanted).select_related("product__right_holder")
    return {row.gtin: row.product for row in rows}
