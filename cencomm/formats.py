"""How CENcomm writes values for people: one formatter per kind of value, used by pages, API and reports.

`local_time` is the one way to show a moment as an entry point's clock showed it; the API's
`inspected_at_local`, the result pages and the reports all call it, so they never disagree.
`exact` and `number` are the one way to turn a stored quantity or amount into a value: an exact
`Decimal` for arithmetic, and for JSON (which has no decimal) an int when whole, else a float
written from the exact decimal (so 3888013.3 stays 3888013.3, never 3888013.3000000003).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local_time(moment: dt.datetime, time_zone: str) -> str:
    """`moment` on the clock of `time_zone` (an IANA name), e.g. "2026-03-14 09:30 Europe/Tirane".

    The zone's IANA name (not its abbreviation, which is ambiguous: CST is three zones) ends the text.
    An unknown zone falls back to UTC and says so, rather than failing a page or a report.
    """
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {time_zone}"


def exact(value: Any) -> Decimal:
    """A quantity or amount as an exact Decimal (None is 0; a float is read from its shortest text)."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(str(value))


def exact_or_none(value: Any) -> Decimal | None:
    """Like `exact`, but None stays None (an optional field: a coordinate, a declared value)."""
    return None if value is None else exact(value)


def number(value: Any) -> int | float:
    """A quantity for JSON: an int when whole, else the float nearest the exact decimal."""
    value = exact(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value)
