"""Right holders and their product records: what officers look up at the border (the IPM side).

A right holder is an organisation (a brand owner); its people are hub users linked to it by a
``RightHolderMember`` row: the ``right_holder`` role, held outside every operation (they are
never members of one, so no room, result or board is theirs to see). A product record says what
the genuine article looks like, how fakes give themselves away, its usual commodity category (the
shared catalogue's code) and whom an officer calls. Nothing here is sealed: the right holder
writes it for officers to read. Its photos are kept only as re-encoded copies, without EXIF or GPS.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from stdnum import ean
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError

#: The role a right holder's people hold: outside any operation's memberships.
RIGHT_HOLDER_ROLE = "right_holder"
GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_compact(code: str) -> str:
    """The digits of a typed or scanned GTIN (spaces and hyphens dropped)."""
    return ean.compact(str(code or ""))


def validate_gtin(code: str) -> None:
    """GTIN-8, -12 (UPC-A), -13 (EAN) or -14 with a correct GS1 check digit (python-stdnum)."""
    code = str(code)
    if not code.isdigit() or len(code) not in GTIN_LENGTHS:
        raise ValidationError(gettext("A GTIN has 8, 12, 13 or 14 digits."))
    try:
        ean.validate(code)
    except InvalidChecksum:
        raise ValidationError(gettext("The GTIN check digit does not match.")) from None
    except StdnumError:
        raise ValidationError(gettext("A GTIN has 8, 12, 13 or 14 digits.")) from None


class RightHolder(models.Model):
    """An organisation that holds intellectual property rights over the products it records."""

    name = models.CharField(max_length=200, unique=True)
    country = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RightHolderMember(models.Model):
    """A hub user who speaks for one right holder (the ``right_holder`` role)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="right_holder_link"
    )
    right_holder = models.ForeignKey(RightHolder, on_delete=models.CASCADE, related_name="members")
    created_at = models.DateTimeField(auto_now_add=True)

    role = RIGHT_HOLDER_ROLE

    def __str__(self) -> str:
        return f"{self.user} for {self.right_holder}"


class Product(models.Model):
    right_holder = models.ForeignKey(RightHolder, on_delete=models.CASCADE, related_name="products")
    brand = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    category = models.ForeignKey("operations.CommodityCategory", on_delete=models.PROTECT, related_name="+")
    genuine_features = models.TextField(max_length=5000, blank=True)
    counterfeit_indicators = models.TextField(max_length=5000, blank=True)
    contact_name = models.CharField(max_length=200)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_hours = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brand", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.brand} {self.name}"


class ProductGtin(models.Model):
    """One barcode of a product. A GTIN names one trade item: it belongs to one product only."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="gtins")
    gtin = models.CharField(max_length=14, unique=True, validators=[validate_gtin])

    class Meta:
        ordering = ["product_id", "gtin"]

    def __str__(self) -> str:
        return self.gtin


class ProductPhoto(models.Model):
    """A photo of the genuine article: the re-encoded copy only (no EXIF, no GPS, no comments)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="photos")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    caption = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)  # of the file as uploaded
    image = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"photo {self.uid} of {self.product_id}"
