"""How CENcomm writes values for people: one formatter per kind of value, used by pages, API and reports.

`local_time` is the one way to show a moment as an entry point's clock showed it; the API's
`inspected_at_local`, the result pages and the reports all call it, so they never disagree.
"""

from __future__ import annotations

import datetime as dt
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
