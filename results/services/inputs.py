"""What an officer reports, as the services take it, and which model field each input fills."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from results.models import HandlingCode, Unit

# API field name -> ResultVersion field, for the plain fields of a version.
PLAIN_FIELDS = {
    "inspected_at": "inspected_at",
    "origin": "origin_country",
    "departure": "departure_country",
    "transit": "transit_countries",
    "destination": "destination_country",
    "transport_mode": "transport_mode",
    "detection_method": "detection_method",
    "outcome": "outcome",
    "infringement": "infringement",
    "concealment": "concealment",
    "estimated_value": "estimated_value",
    "currency": "currency",
    "handling_code": "handling_code",
    "answers_warning": "answers_warning",
}
LINE_FIELDS = ("description", "gtin", "hs_code", "quantity", "unit")


@dataclass(frozen=True)
class LineInput:
    category: str  # the category's code
    quantity: Decimal
    unit: str = Unit.PIECES
    description: str = ""
    brand: str | None = None
    gtin: str = ""
    hs_code: str = ""


@dataclass(frozen=True)
class ResultInput:
    """What an officer reports. Sealed fields left as None keep their earlier value on correction."""

    inspected_at: dt.datetime
    origin: str
    outcome: str
    lines: tuple[LineInput, ...]
    departure: str = ""
    transit: tuple[str, ...] = ()
    destination: str = ""
    transport_mode: str = ""
    detection_method: str = ""
    infringement: str = ""
    concealment: str = ""
    estimated_value: Decimal | None = None
    currency: str = ""
    handling_code: str = HandlingCode.H1
    answers_warning: uuid.UUID | None = None
    notes: str | None = None
    reference: str | None = None
    parties: str | None = None
