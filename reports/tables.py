"""The report's tables: what each format shows of the figures, column by column.

Every breakdown has a column per unit of measure (units = pieces and packs, kilograms, litres)
and a share of units; no column adds two units of measure. The HTML and the PDF draw a chart from
the units column; CSV and XLSX write each table as a sheet.
"""

from __future__ import annotations

from typing import Any

Table = dict[str, Any]


def column(key: str, label: str, kind: str = "text") -> dict[str, str]:
    return {"key": key, "label": label, "kind": kind}


UNITS = column("units", "Units", "int")
KG = column("kg", "Kilograms", "int")
LITRES = column("litres", "Litres", "int")
CASES = column("cases", "Cases", "int")
SHARE = column("share", "Share", "pct")
MEASURE_COLUMNS = [UNITS, KG, LITRES]


def table(
    key: str, title: str, columns: list[dict[str, str]], rows: list[list[Any]], chart: str = ""
) -> Table:
    return {"key": key, "title": title, "columns": columns, "rows": rows, "chart": chart}


def _label(text: str) -> dict[str, str]:
    return column("label", text)


def _breakdown(key: str, title: str, label: str, rows: list[dict[str, Any]], chart: str = "bar") -> Table:
    return table(
        key,
        title,
        [_label(label), *MEASURE_COLUMNS, CASES, SHARE],
        [[r["label"], r["units"], r["kg"], r["litres"], r["cases"], r["share"]] for r in rows],
        chart,
    )


def tables(data: dict[str, Any]) -> list[Table]:
    b = data["breakdowns"]
    found = [
        _breakdown("categories", "Quantities by commodity category", "Category", b["categories"]),
        table(
            "origins",
            "Cases and quantities by origin country",
            [column("code", "ISO"), _label("Country"), CASES, *MEASURE_COLUMNS, SHARE],
            [
                [r["key"], r["label"], r["cases"], r["units"], r["kg"], r["litres"], r["share"]]
                for r in b["origins"]
            ],
            "bar",
        ),
        _breakdown("administrations", "By administration", "Administration", b["administrations"]),
        *(
            [_breakdown("brands", "By brand and right holder", "Brand · right holder", b["brands"])]
            if "brands" in b  # the restricted edition only
            else []
        ),
        _breakdown("entry_points", "By entry point", "Entry point", b["entry_points"]),
        table(
            "days",
            "By day (UTC)",
            [_label("Day"), *MEASURE_COLUMNS, CASES],
            [[r["label"], r["units"], r["kg"], r["litres"], r["cases"]] for r in b["days"]],
            "line",
        ),
        _breakdown("transport_modes", "By transport mode", "Transport mode", b["transport_modes"]),
        _breakdown("detection_methods", "By detection method", "Detection method", b["detection_methods"]),
        _breakdown("seized_pending", "Seized and pending a decision", "Outcome", b["seized_pending"], "pie"),
        table(
            "units_by_unit",
            "Intercepted quantities by unit of measure",
            [_label("Unit"), column("quantity", "Quantity", "int"), CASES],
            [[r["key"], r["quantity"], r["cases"]] for r in b["units_by_unit"]],
        ),
        table(
            "outcomes",
            "Outcomes of all inspections reported",
            [_label("Outcome"), CASES],
            [[r["label"], r["cases"]] for r in b["outcomes"]],
        ),
    ]
    if "right_holders" in data:  # the restricted edition only
        found.append(
            table(
                "right_holders",
                "Right holders to notify",
                [
                    column("right_holder", "Right holder"),
                    column("product", "Product"),
                    column("gtins", "GTINs"),
                    CASES,
                    *MEASURE_COLUMNS,
                    column("shared", "Cases shared with them (H0)", "int"),
                    column("contact_name", "Contact"),
                    column("contact_phone", "Phone"),
                    column("contact_email", "Email"),
                    column("contact_hours", "Hours"),
                ],
                [
                    [
                        r["right_holder"],
                        r["product"],
                        r["gtins"],
                        r["cases"],
                        r["units"],
                        r["kg"],
                        r["litres"],
                        r["shared"],
                        r["contact_name"],
                        r["contact_phone"],
                        r["contact_email"],
                        r["contact_hours"],
                    ]
                    for r in data["right_holders"]
                ],
            )
        )
    grid = data["compliance"]
    found.append(
        table(
            "compliance",
            "Reporting compliance (results, nil return, or not reported)",
            [column("entry_point", "Entry point"), *[column(day, day) for day in grid["days"]]],
            [[row["name"], *row["cells"]] for row in grid["rows"]],
        )
    )
    comms = data["communications"]
    if comms.get("available"):
        found.append(
            table(
                "communications",
                "Messages by kind",
                [column("label", "Kind"), column("count", "Messages", "int")],
                [[r["label"], r["count"]] for r in comms["by_kind"]],
            )
        )
        found.append(
            table(
                "acknowledgements",
                "Acknowledgements of warnings and alerts",
                [
                    column("label", "Kind"),
                    column("messages", "Acknowledged messages", "int"),
                    column("count", "Acknowledgements", "int"),
                    column("fastest", "Fastest"),
                    column("average", "Average"),
                    column("slowest", "Slowest"),
                    column("unacknowledged", "Addressees not acknowledged", "int"),
                ],
                [
                    [
                        r["label"],
                        r["messages"],
                        r["count"],
                        r["fastest"],
                        r["average"],
                        r["slowest"],
                        r["unacknowledged"],
                    ]
                    for r in comms["acknowledgements"]
                ],
            )
        )
    return found
