"""How the report writes values: quantities with thousands separators, shares, times, durations.

Numbers go through ``cencomm.formats`` (one normaliser for the whole hub); local times through
``cencomm.formats.local_time``, as the pages and the API show them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cencomm.formats import local_time, number

__all__ = ["duration", "enumerate_items", "fmt", "local_time", "number", "pct", "utc"]


def fmt(value: Any) -> str:
    """A number with thousands separators: 3,888,013 or 12,345.5."""
    value = number(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(value: dt.timedelta | float | None) -> str:
    """A delay for people: "4 min 05 s", "2 h 07 min"; "" when there is none."""
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds() if isinstance(value, dt.timedelta) else value))
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def enumerate_items(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
