"""Number formatting for the report template: thousands separators, shares as percentages."""

from __future__ import annotations

from typing import Any

from django import template

from reports.formatting import fmt, pct

register = template.Library()


@register.filter
def num(value: Any) -> str:
    if value is None or value == "":
        return ""
    return fmt(value)


@register.filter
def share(value: Any) -> str:
    return pct(float(value or 0))


@register.filter
def cell(value: Any, kind: str) -> str:
    """One table cell by its column's kind."""
    if kind == "int":
        return num(value)
    if kind == "pct":
        return share(value)
    return "" if value is None else str(value)
