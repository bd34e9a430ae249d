"""Seizure results: one Result per inspection, corrected only by adding ResultVersions.

The fields the board aggregates (entry point, time, route, outcome, goods lines) are stored plain;
the notes, the conveyance references and anything that names a person or company (parties, brand
or rights holder) are sealed with :mod:`cencomm.crypto` under the operation's scope. Nothing here is
ever hard-deleted: a correction or a reclassification is a new version, and only the version marked
current counts.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext, gettext_noop

from operations.models import validate_country
from products.models import validate_gtin as validate_product_gtin

MAX_QUANTITY = Decimal("50000000")  # more than any single consignment; a typo guard
MAX_VALUE = Decimal("10000000000")
CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)


def validate_gtin(code: str) -> None:
    """GTIN-8/12/13/14 with a correct GS1 check digit: the products' rule (python-stdnum), one for
    the hub, so that a GTIN a result records is one a product record can carry."""
    validate_product_gtin(code)


def validate_hs_code(code: str) -> None:
    """4, 6, 8 or 10 digits, in a Harmonized System chapter that exists (01-97, not 77)."""
    if not code.isdigit() or len(code) not in (4, 6, 8, 10):
        raise ValidationError(gettext("An HS code has 4, 6, 8 or 10 digits."))
    chapter = int(code[:2])
    if not 1 <= chapter <= 97 or chapter == 77:
        raise ValidationError(gettext("HS chapter %(chapter)s does not exist.") % {"chapter": code[:2]})


def validate_currency(code: str) -> None:
    if code not in CURRENCIES:
        raise ValidationError(gettext("%(code)r is not an ISO 4217 currency code.") % {"code": code})


def validate_countries(codes: object) -> None:
    if not isinstance(codes, list) or len(codes) > 20:
        raise ValidationError("Give a list of at most 20 country codes.")
    for code in codes:
        validate_country(str(code))


class TransportMode(models.TextChoices):
    SEA_CONTAINER = "sea_container", gettext_noop("Sea container")
    AIR_CARGO = "air_cargo", gettext_noop("Air cargo")
    ROAD_VEHICLE = "road_vehicle", gettext_noop("Road vehicle")
    RAIL = "rail", gettext_noop("Rail")
    POST = "post", gettext_noop("Post")
    EXPRESS_COURIER = "express_courier", gettext_noop("Express courier")
    PASSENGER = "passenger", gettext_noop("Passenger")


class DetectionMethod(models.TextChoices):
    RISK_PROFILE = "risk_profile", gettext_noop("Risk profile / targeting")
    WARNING = "warning", gettext_noop("Warning received")
    RANDOM = "random", gettext_noop("Random check")
    SCANNER = "scanner", gettext_noop("Scanner / X-ray")
    DOG = "dog", gettext_noop("Detector dog")
    INTELLIGENCE = "intelligence", gettext_noop("Intelligence")
    IPM = "ipm", gettext_noop("IPM")


class Outcome(models.TextChoices):
    SEIZED = "seized", gettext_noop("Seized")
    DETAINED = "detained", gettext_noop("Detained pending decision")
    RELEASED = "released", gettext_noop("Released")
    NO_IRREGULARITY = "no_irregularity", gettext_noop("No irregularity")


#: Outcomes whose goods count as intercepted units on the board.
INTERCEPTED = (Outcome.SEIZED, Outcome.DETAINED)


class Infringement(models.TextChoices):
    TRADEMARK = "trademark", gettext_noop("Counterfeit trademark")
    COPYRIGHT = "copyright", gettext_noop("Pirated copyright")
    OTHER_IP = "other_ip", gettext_noop("Other IP right")
    FALSIFIED = "falsified", gettext_noop("Substandard or falsified")
    PROHIBITED = "prohibited", gettext_noop("Prohibited or restricted")


class HandlingCode(models.TextChoices):
    H0 = "H0", gettext_noop("H0: may leave the operation")
    H1 = "H1", gettext_noop("H1: operation participants")
    H2 = "H2", gettext_noop("H2: coordinators and own administration")
    H3 = "H3", gettext_noop("H3: own administration only")


class Unit(models.TextChoices):
    PIECES = "pieces", gettext_noop("Pieces")
    KG = "kg", gettext_noop("Kilograms")
    LITRES = "litres", gettext_noop("Litres")
    PACKS = "packs", gettext_noop("Packs")


class Result(models.Model):
    """The identity of one inspection outcome; its content lives in its versions."""

    class Validation(models.TextChoices):
        PENDING = "pending", gettext_noop("Pending")
        VALIDATED = "validated", gettext_noop("Validated")
        RETURNED = "returned", gettext_noop("Returned")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    operation = models.ForeignKey("operations.Operation", on_delete=models.PROTECT, related_name="results")
    client_id = models.CharField(max_length=64)
    entry_point = models.ForeignKey("operations.EntryPoint", on_delete=models.PROTECT)
    administration = models.ForeignKey("operations.Administration", on_delete=models.PROTECT)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    late = models.BooleanField(default=False)
    validation = models.CharField(max_length=10, choices=Validation.choices, default=Validation.PENDING)
    validation_comment = models.CharField(max_length=1000, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    validated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "client_id"], name="result_client_id"),
        ]

    def __str__(self) -> str:
        return f"result {self.uuid}"


class ResultVersion(models.Model):
    """One stored state of a result. A correction adds a version; earlier ones stay readable."""

    result = models.ForeignKey(Result, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    # A voided result (a duplicate, a post in error) counts nowhere; its current version says so
    # and ``reason`` says why. Restoring it is one more version with ``voided`` false.
    voided = models.BooleanField(default=False)

    inspected_at = models.DateTimeField()
    transport_mode = models.CharField(max_length=20, choices=TransportMode.choices, blank=True)
    origin_country = models.CharField(max_length=2, validators=[validate_country])
    departure_country = models.CharField(max_length=2, blank=True, validators=[validate_country])
    transit_countries = models.JSONField(default=list, blank=True, validators=[validate_countries])
    destination_country = models.CharField(max_length=2, blank=True, validators=[validate_country])
    detection_method = models.CharField(max_length=20, choices=DetectionMethod.choices, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    infringement = models.CharField(max_length=20, choices=Infringement.choices, blank=True)
    concealment = models.CharField(max_length=200, blank=True)
    estimated_value = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_VALUE)],
    )
    currency = models.CharField(max_length=3, blank=True, validators=[validate_currency])
    handling_code = models.CharField(max_length=2, choices=HandlingCode.choices, default=HandlingCode.H1)
    # The Warning (messaging) this result answers; a UUID checked through messaging's selector.
    answers_warning = models.UUIDField(null=True, blank=True)

    # Sealed by results.sealing (which knows the key scope and each value's context).
    notes_sealed = models.BinaryField(null=True, blank=True)
    reference_sealed = models.BinaryField(null=True, blank=True)
    parties_sealed = models.BinaryField(null=True, blank=True)
    # Once retention shreds the operation (records.retention.operation_shred) the ciphertexts above
    # are deleted and only their SHA-256 stays here, which is all the results chain hashes of them.
    notes_digest = models.CharField(max_length=64, blank=True)
    reference_digest = models.CharField(max_length=64, blank=True)
    parties_digest = models.CharField(max_length=64, blank=True)

    # Link in the operation's results hash chain ("results:<operation id>").
    chain_seq = models.PositiveBigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["result_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["result", "number"], name="result_version_number"),
            models.UniqueConstraint(
                fields=["result"], condition=models.Q(is_current=True), name="result_one_current"
            ),
            models.CheckConstraint(
                condition=~models.Q(currency="") | models.Q(estimated_value__isnull=True),
                name="result_value_has_currency",
            ),
        ]
        indexes = [models.Index(fields=["is_current", "inspected_at"])]

    def __str__(self) -> str:
        return f"{self.result_id} v{self.number}"


class GoodsLine(models.Model):
    version = models.ForeignKey(ResultVersion, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    category = models.ForeignKey("operations.CommodityCategory", on_delete=models.PROTECT)
    description = models.CharField(max_length=300, blank=True)
    brand_sealed = models.BinaryField(null=True, blank=True)
    brand_digest = models.CharField(max_length=64, blank=True)  # the shredded brand's ciphertext digest
    gtin = models.CharField(max_length=14, blank=True, validators=[validate_gtin])
    hs_code = models.CharField(
        max_length=10,
        blank=True,
        validators=[validate_hs_code, RegexValidator(r"^\d+$", "Digits only.")],
    )
    quantity = models.DecimalField(
        max_digits=14,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(MAX_QUANTITY)],
    )
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.PIECES)

    class Meta:
        ordering = ["version_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="goods_line_position"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="goods_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.unit} of {self.category_id}"


class NilReturn(models.Model):
    """An entry point reporting that it found nothing on one (UTC) day of the window."""

    operation = models.ForeignKey(
        "operations.Operation", on_delete=models.PROTECT, related_name="nil_returns"
    )
    entry_point = models.ForeignKey("operations.EntryPoint", on_delete=models.PROTECT)
    day = models.DateField()
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day", "entry_point_id"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "entry_point", "day"], name="nil_return_unique"),
        ]

    def __str__(self) -> str:
        return f"nil {self.entry_point_id} {self.day}"


class BoardSequence(models.Model):
    """A per-operation counter bumped by every write that changes the board.

    Live events carry it; a client that sees a gap re-fetches the snapshot.
    """

    operation = models.OneToOneField(
        "operations.Operation", on_delete=models.CASCADE, related_name="board_sequence"
    )
    seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"board {self.operation_id} #{self.seq}"


class ResultPhoto(models.Model):
    """A photo of the goods or the concealment, sealed under the operation's key: the original
    (evidence, with its SHA-256) and a re-encoded copy without EXIF or GPS that pages show."""

    result = models.ForeignKey(Result, on_delete=models.PROTECT, related_name="photos")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    original = models.BinaryField()
    display = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"photo {self.uid} of {self.result_id}"
