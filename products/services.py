"""Every write to right holders and product records.

Keyword-only, validated before anything is written, audited in the same transaction. A product's
GTINs are checked with python-stdnum and are unique across the hub (one GTIN, one trade item).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from cencomm.errors import Refused
from cencomm.uploads import IMAGES, check_upload
from operations.models import CommodityCategory, Membership
from products import audit
from products.models import Product, ProductGtin, ProductPhoto, RightHolder, RightHolderMember, gtin_compact
from products.models import validate_gtin as check_gtin

MAX_GTINS = 20
MAX_PHOTOS = 10


@dataclass(frozen=True)
class ProductInput:
    brand: str
    name: str
    category: str  # the shared catalogue's code
    gtins: tuple[str, ...]
    contact_name: str
    genuine_features: str = ""
    counterfeit_indicators: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    contact_hours: str = ""


TEXT_FIELDS = tuple(f.name for f in fields(ProductInput) if f.name not in ("category", "gtins"))


@transaction.atomic
def right_holder_member_add(
    *, right_holder: RightHolder, user: AbstractBaseUser, actor: AbstractBaseUser | None
) -> RightHolderMember:
    """Give a user the right holder role. A member of an operation cannot also be a right holder:
    the role is kept outside every operation's rooms and results."""
    if Membership.objects.filter(user_id=user.pk).exists():
        raise Refused(gettext("A member of an operation cannot speak for a right holder."))
    existing = RightHolderMember.objects.filter(user_id=user.pk).first()
    if existing is not None:
        if existing.right_holder_id != right_holder.pk:
            raise Refused(gettext("This user already speaks for another right holder."))
        return existing
    member = RightHolderMember.objects.create(user=user, right_holder=right_holder)
    audit.right_holder_member_added(member=member, actor=actor)
    return member


def _gtins(codes: Iterable[str], product: Product | None) -> tuple[list[str], dict[str, list[str]]]:
    gtins: list[str] = []
    errors: dict[str, list[str]] = {}
    for index, code in enumerate(codes):
        compact = gtin_compact(code)
        try:
            check_gtin(compact)
        except ValidationError as exc:
            errors[f"gtins.{index}"] = list(exc.messages)
            continue
        taken = ProductGtin.objects.filter(gtin=compact)
        if product is not None:
            taken = taken.exclude(product=product)
        if taken.exists():
            errors[f"gtins.{index}"] = [gettext("This GTIN is already recorded for another product.")]
        elif compact not in gtins:
            gtins.append(compact)
    if not gtins and not errors:
        errors["gtins"] = [gettext("Give at least one GTIN.")]
    if len(gtins) > MAX_GTINS:
        errors["gtins"] = [gettext("At most 20 GTINs per product.")]
    return gtins, errors


def _fill(product: Product, content: ProductInput) -> tuple[list[str], list[str]]:
    """Copy ``content`` onto ``product`` and check everything; the changed fields and the GTINs."""
    changed = []
    for name in TEXT_FIELDS:
        value = str(getattr(content, name) or "").strip()
        if getattr(product, name) != value:
            setattr(product, name, value)
            changed.append(name)
    errors: dict[str, list[str]] = {}
    category = CommodityCategory.objects.filter(code=str(content.category)[:40], active=True).first()
    if category is None:
        errors["category"] = [
            gettext("Unknown commodity category %(code)s.") % {"code": repr(content.category)}
        ]
    elif product.category_id != category.pk:
        product.category = category
        changed.append("category")
    gtins, gtin_errors = _gtins(content.gtins, product if product.pk else None)
    errors.update(gtin_errors)
    try:
        product.full_clean(exclude=["right_holder", "category"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return changed, gtins


def _set_gtins(product: Product, gtins: list[str]) -> bool:
    old = set(product.gtins.values_list("gtin", flat=True))
    if old == set(gtins):
        return False
    product.gtins.exclude(gtin__in=gtins).delete()
    ProductGtin.objects.bulk_create([ProductGtin(product=product, gtin=g) for g in gtins if g not in old])
    return True


@transaction.atomic
def product_create(
    *, right_holder: RightHolder, content: ProductInput, actor: AbstractBaseUser | None
) -> Product:
    product = Product(right_holder=right_holder)
    _, gtins = _fill(product, content)
    product.save()
    _set_gtins(product, gtins)
    audit.product_created(product=product, actor=actor, gtins=gtins)
    return product


@transaction.atomic
def product_update(*, product: Product, content: ProductInput, actor: AbstractBaseUser | None) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    changed, gtins = _fill(product, content)
    if _set_gtins(product, gtins):
        changed.append("gtins")
    if changed:
        product.save()
        audit.product_updated(product=product, actor=actor, fields=changed, gtins=gtins)
    return product


@transaction.atomic
def product_delete(*, product: Product, actor: AbstractBaseUser | None) -> None:
    """Results keep the GTINs they recorded; they simply resolve to no product any more."""
    gtins = list(product.gtins.values_list("gtin", flat=True))
    audit.product_deleted(product=product, actor=actor, gtins=gtins)
    product.delete()


@transaction.atomic
def product_photo_add(
    *, product: Product, data: bytes, name: str, caption: str = "", actor: AbstractBaseUser | None
) -> ProductPhoto:
    """Keep only the re-encoded copy of the photo: its EXIF, GPS and comments never reach the hub."""
    if product.photos.count() >= MAX_PHOTOS:
        raise Refused(gettext("At most 10 photos per product."))
    checked = check_upload(data, name, allowed=IMAGES)
    assert checked.display is not None and checked.width is not None and checked.height is not None
    photo = ProductPhoto.objects.create(
        product=product,
        caption=str(caption or "").strip()[:200],
        content_type=checked.content_type,
        width=checked.width,
        height=checked.height,
        sha256=checked.sha256,
        image=checked.display,
    )
    audit.product_photo_added(photo=photo, actor=actor)
    return photo
