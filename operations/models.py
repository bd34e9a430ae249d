"""Operations, the administrations and entry points taking part, and who is a member in which role."""

from __future__ import annotations

import datetime as dt
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_noop

from operations.countries import COUNTRIES

country_code_validator = RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 code.")


def validate_country(code: str) -> None:
    if code not in COUNTRIES:
        raise ValidationError(gettext("%(code)r is not an ISO 3166-1 alpha-2 country code.") % {"code": code})


def validate_time_zone(name: str) -> None:
    if name not in _TIME_ZONES:
        raise ValidationError(f"{name!r} is not an IANA time zone.")


_TIME_ZONES = frozenset(available_timezones())

# Records are kept five years after an operation closes unless it says otherwise (records/retention.py).
DEFAULT_RETENTION_DAYS = 5 * 365


class Administration(models.Model):
    """A national customs administration."""

    country = models.CharField(max_length=2, unique=True, validators=[validate_country])
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EntryPoint(models.Model):
    class Kind(models.TextChoices):
        SEAPORT = "seaport", gettext_noop("Seaport")
        AIRPORT = "airport", gettext_noop("Airport")
        LAND_BORDER = "land_border", gettext_noop("Land border")
        RAIL = "rail", gettext_noop("Rail")
        POSTAL = "postal", gettext_noop("Postal hub")
        EXPRESS_COURIER = "express_courier", gettext_noop("Express courier hub")
        INLAND = "inland", gettext_noop("Inland")

    administration = models.ForeignKey(Administration, on_delete=models.PROTECT, related_name="entry_points")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    unlocode = models.CharField(
        max_length=5,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}[A-Z2-9]{3}$", "A UN/LOCODE is five characters.")],
    )
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    latitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )

    class Meta:
        ordering = ["administration__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["administration", "name"], name="entry_point_name"),
        ]

    def __str__(self) -> str:
        return self.name


#: The interface languages a category's name is given in (English is ``name``).
CATEGORY_LANGUAGES = ("en", "fr", "es", "pt", "ru", "ar")


def validate_category_names(names: object) -> None:
    """``{language: name}`` for the interface languages other than English, each at most 100 characters."""
    if not isinstance(names, dict):
        raise ValidationError(gettext("Give the names as an object of language codes."))
    for language, name in names.items():
        if language not in CATEGORY_LANGUAGES[1:]:
            raise ValidationError(
                gettext("%(language)r is not an interface language.") % {"language": language}
            )
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValidationError(gettext("A name has 1 to 100 characters."))


def category_label(name: str, names: dict[str, str], language: str | None) -> str:
    """A category's name in ``language`` (a language code such as "ar" or "pt-br"), else in English."""
    short = (language or "en").split("-")[0].lower()
    if short == "en":
        return name
    return names.get(short) or name


class CommodityCategory(models.Model):
    """The catalogue operations share: a category is added once here and picked by the next operation.

    An operation's own list (:class:`OperationCategory`) starts from the catalogue; adding, renaming
    or reclassifying in one operation changes nothing in another. Goods lines reference the
    catalogue entry, whose code and key never change (the results chain hashes the key).
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)  # English
    names = models.JSONField(default=dict, blank=True, validators=[validate_category_names])
    position = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "commodity categories"

    def __str__(self) -> str:
        return self.name

    def label(self, language: str | None = None) -> str:
        return category_label(self.name, self.names, language or get_language())


class OperationCategory(models.Model):
    """A category as one operation offers it, under the name (and translations) it has there."""

    operation = models.ForeignKey("Operation", on_delete=models.CASCADE, related_name="categories")
    category = models.ForeignKey(CommodityCategory, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)  # English; reports are written with it
    names = models.JSONField(default=dict, blank=True, validators=[validate_category_names])
    position = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "category"], name="operation_category_unique"),
            models.UniqueConstraint(fields=["operation", "name"], name="operation_category_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} in {self.operation_id}"

    @property
    def code(self) -> str:
        return self.category.code

    def label(self, language: str | None = None) -> str:
        return category_label(self.name, self.names, language or get_language())


class Operation(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", gettext_noop("Planned")
        ACTIVE = "active", gettext_noop("Active")
        FOLLOW_UP = "follow_up", gettext_noop("Follow-up")
        CLOSED = "closed", gettext_noop("Closed")
        ARCHIVED = "archived", gettext_noop("Archived")

    code = models.CharField(
        max_length=40,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9][A-Z0-9-]{1,39}$", "Capitals, digits and hyphens.")],
    )
    name = models.CharField(max_length=200)
    objectives = models.TextField(blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.PLANNED)
    target_categories = models.ManyToManyField(CommodityCategory, blank=True)
    administrations = models.ManyToManyField(
        Administration, through="Participation", related_name="operations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped in the transaction of every change of who may see what (memberships, rooms' members,
    # roles): a live hint carries it, and a socket re-checks its access only when it moved.
    access_epoch = models.PositiveBigIntegerField(default=0)
    # Records: kept this many days after the close, then shredded unless a legal hold stands.
    retention_days = models.PositiveIntegerField(
        default=DEFAULT_RETENTION_DAYS, validators=[MinValueValidator(1), MaxValueValidator(36500)]
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    shredded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-window_start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")),
                name="operation_window_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"

    def clean(self) -> None:
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            raise ValidationError({"window_end": "The window must end after it starts."})

    @property
    def window_days(self) -> list[dt.date]:
        """The UTC dates the window covers."""
        first = self.window_start.astimezone(dt.UTC).date()
        last = (self.window_end - dt.timedelta(microseconds=1)).astimezone(dt.UTC).date()
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


class LegalHold(models.Model):
    """A hold on an operation's records: while one is not lifted, retention shreds nothing of it."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="legal_holds")
    reason = models.CharField(max_length=500)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-set_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["operation"], condition=models.Q(lifted_at__isnull=True), name="legal_hold_one_standing"
            )
        ]

    def __str__(self) -> str:
        return f"hold on {self.operation.code}: {self.reason}"


class OperationTransition(models.Model):
    """Who moved an operation from one state to another, and when."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=12, choices=Operation.State.choices)
    to_state = models.CharField(max_length=12, choices=Operation.State.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.operation_id}: {self.from_state} -> {self.to_state}"


class Participation(models.Model):
    """An administration taking part in an operation, with the entry points it brings."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="participations")
    administration = models.ForeignKey(Administration, on_delete=models.PROTECT)
    entry_points = models.ManyToManyField(EntryPoint, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["operation", "administration"], name="participation_unique")
        ]

    def __str__(self) -> str:
        return f"{self.administration} in {self.operation.code}"


class Membership(models.Model):
    class Role(models.TextChoices):
        COORDINATOR = "coordinator", gettext_noop("Coordinator")
        NATIONAL_CONTACT = "ncp", gettext_noop("National contact point")
        OFFICER = "officer", gettext_noop("Officer")
        ANALYST = "analyst", gettext_noop("Analyst")
        OBSERVER = "observer", gettext_noop("Observer")

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=12, choices=Role.choices)
    administration = models.ForeignKey(Administration, null=True, blank=True, on_delete=models.PROTECT)
    entry_point = models.ForeignKey(EntryPoint, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["operation", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.operation.code}"

    def clean(self) -> None:
        if self.role == self.Role.NATIONAL_CONTACT and not self.administration_id:
            raise ValidationError(
                {"administration": "A national contact point speaks for one administration."}
            )
        if self.role == self.Role.OFFICER:
            if not self.entry_point_id:
                raise ValidationError({"entry_point": "An officer serves at one entry point."})
            self.administration_id = self.entry_point.administration_id

    @property
    def is_coordinator(self) -> bool:
        return self.role == self.Role.COORDINATOR
