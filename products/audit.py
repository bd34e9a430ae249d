"""The audit events of right holders and their product records: one small function per action.

Product records belong to no operation: their events go to the hub-wide chain ("audit:global").
The stored action strings are part of the hashed payload: never rename one.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from cencomm.audit import audit_record
from cencomm.models import AuditEvent
from products.models import Product, ProductPhoto, RightHolderMember

Actor = AbstractBaseUser | None


class ProductsAction(models.TextChoices):
    RIGHT_HOLDER_MEMBER_ADD = "right_holder.member_add", "Right holder's member added"
    PRODUCT_CREATE = "product.create", "Product record created"
    PRODUCT_UPDATE = "product.update", "Product record changed"
    PRODUCT_DELETE = "product.delete", "Product record deleted"
    PRODUCT_PHOTO_ADD = "product.photo_add", "Product photo added"


def right_holder_member_added(*, member: RightHolderMember, actor: Actor) -> AuditEvent:
    return audit_record(
        action=ProductsAction.RIGHT_HOLDER_MEMBER_ADD,
        actor=actor,
        target=member,
        data={"user": member.user_id, "right_holder": member.right_holder_id},
    )


def _product_event(action: str, product: Product, actor: Actor, **data: object) -> AuditEvent:
    return audit_record(
        action=action,
        actor=actor,
        target=product,
        data={"right_holder": product.right_holder_id, **data},
    )


def product_created(*, product: Product, actor: Actor, gtins: list[str]) -> AuditEvent:
    return _product_event(ProductsAction.PRODUCT_CREATE, product, actor, gtins=gtins)


def product_updated(*, product: Product, actor: Actor, fields: list[str], gtins: list[str]) -> AuditEvent:
    return _product_event(ProductsAction.PRODUCT_UPDATE, product, actor, fields=fields, gtins=gtins)


def product_deleted(*, product: Product, actor: Actor, gtins: list[str]) -> AuditEvent:
    return _product_event(ProductsAction.PRODUCT_DELETE, product, actor, gtins=gtins)


def product_photo_added(*, photo: ProductPhoto, actor: Actor) -> AuditEvent:
    return _product_event(
        ProductsAction.PRODUCT_PHOTO_ADD, photo.product, actor, photo=str(photo.uid), sha256=photo.sha256
    )
