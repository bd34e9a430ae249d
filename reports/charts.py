"""Charts for the report, drawn server-side by matplotlib as SVG (embedded in the HTML and the PDF).

matplotlib, not a hand-drawn SVG: one pinned library, no browser needed, and WeasyPrint renders its
SVG faithfully. Figures are made with the object API (no pyplot state), so threads can draw at once.
Labels are data: ``$`` is escaped so that a category name is never parsed as mathtext.
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib import rcParams
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from reports.record import data_uri

rcParams["svg.hashsalt"] = "cencomm-report"  # the same chart gives the same SVG
rcParams["svg.fonttype"] = (
    "none"  # text as <text>, not glyph outlines: a lighter SVG for WeasyPrint, selectable in the PDF
)
rcParams["font.family"] = "DejaVu Sans"
rcParams["font.size"] = 9
BAR = "#1f5f8b"
ACCENT = "#c7702c"
MAX_BARS = 12


def _label(text: Any) -> str:
    text = str(text or "not given")
    return (text[:40] + "…" if len(text) > 41 else text).replace("$", r"\$")


def _thousands(value: float, _pos: int) -> str:
    return f"{value:,.0f}"


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return data_uri("image/svg+xml", buffer.getvalue().encode())


def bar_chart(labels: list[Any], values: list[float], *, xlabel: str = "Units") -> str:
    labels, values = labels[:MAX_BARS], values[:MAX_BARS]
    fig = Figure(figsize=(6.6, 0.32 * len(labels) + 0.8))
    ax = fig.subplots()
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, values, color=BAR)
    ax.set_yticks(positions, [_label(label) for label in labels])
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    for y, value in zip(positions, values, strict=True):
        ax.annotate(
            f"{value:,.0f}", (value, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7
        )
    return _svg(fig)


def line_chart(labels: list[Any], values: list[float], *, ylabel: str = "Units") -> str:
    fig = Figure(figsize=(6.6, 2.4))
    ax = fig.subplots()
    ax.plot(range(len(values)), values, marker="o", color=BAR)
    ax.fill_between(range(len(values)), values, color=BAR, alpha=0.12)
    ax.set_xticks(
        range(len(labels)),
        [_label(label)[5:] if len(str(label)) == 10 else _label(label) for label in labels],
    )
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def pie_chart(labels: list[Any], values: list[float]) -> str:
    fig = Figure(figsize=(4.2, 2.6))
    ax = fig.subplots()
    ax.pie(
        values,
        labels=[_label(label) for label in labels],
        colors=[BAR, ACCENT, "#8aa", "#ccc"][: len(values)],
        autopct="%1.1f%%",
        textprops={"fontsize": 8},
    )
    ax.set_aspect("equal")
    return _svg(fig)


def chart_for(table: dict[str, Any]) -> str:
    """The chart a table asks for, from its first (label) and units columns; "" when nothing to draw."""
    keys = [c["key"] for c in table["columns"]]
    if not table.get("chart") or not table["rows"] or "units" not in keys:
        return ""
    label_at = keys.index("label")
    units_at = keys.index("units")
    labels = [row[label_at] for row in table["rows"]]
    values = [float(row[units_at] or 0) for row in table["rows"]]
    if not any(values):
        return ""
    if table["chart"] == "line":
        return line_chart(labels, values)
    if table["chart"] == "pie":
        return pie_chart(labels, values)
    return bar_chart(labels, values)
