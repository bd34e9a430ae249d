"""The restricted edition's brand material: seizures by brand and right holder, and the right
holders to notify, with the contact each one gave officers.

A goods line concerns a right holder when its GTIN resolves to one of their product records
(``products``). Only the restricted edition carries either: naming brands and the companies behind
them is for the operation's participants. What counts is the board's definition (current, not
voided, seized or detained); the list of right holders comes only from results the reader's role may
see case by case (``case_visibility``). ``shared`` counts the cases the right holder already sees in
the hub (handling code H0, ``results.rightholders``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cencomm.formats import number
from operations.models import Operation
from products.selectors import products_of_gtins
from reports.selectors import Audience, case_visibility
from results.board import MEASURE_OF, MEASURES, by_brand, counted_versions, intercepted_lines, with_share
from results.rightholders import NOTIFIABLE


def brand_breakdown(operation: Operation, total_units: Any) -> list[dict[str, Any]]:
    """The board's breakdown by brand and right holder, with each row's share of all units."""
    return with_share(by_brand(operation), total_units)


def right_holders_to_notify(operation: Operation, audience: Audience) -> list[dict[str, Any]]:
    """One row per product concerned: its right holder, the cases and quantities, the contact."""
    versions = counted_versions(operation).filter(case_visibility(audience)).values("pk")
    lines = list(
        intercepted_lines(operation)
        .exclude(gtin="")
        .filter(version__in=versions)
        .values_list("version_id", "gtin", "quantity", "unit", "version__handling_code")
    )
    products = products_of_gtins(gtin for _, gtin, _, _, _ in lines)
    found: dict[int, dict[str, Any]] = {}
    for version_id, gtin, quantity, unit, handling_code in lines:
        product = products.get(gtin)
        if product is None:
            continue
        entry = found.setdefault(
            product.pk,
            {
                "right_holder": product.right_holder.name,
                "product": f"{product.brand} {product.name}",
                "gtins": set(),
                "cases": set(),
                "shared": set(),
                "sums": dict.fromkeys(MEASURES, Decimal(0)),
                "contact_name": product.contact_name,
                "contact_phone": product.contact_phone,
                "contact_email": product.contact_email,
                "contact_hours": product.contact_hours,
            },
        )
        entry["gtins"].add(gtin)
        entry["cases"].add(version_id)
        if handling_code in NOTIFIABLE:
            entry["shared"].add(version_id)
        entry["sums"][MEASURE_OF[unit]] += quantity
    rows = [
        entry
        | {
            "gtins": " ".join(sorted(entry["gtins"])),
            "cases": len(entry["cases"]),
            "shared": len(entry["shared"]),
        }
        | {measure: number(amount) for measure, amount in entry["sums"].items()}
        for entry in found.values()
    ]
    for row in rows:
        del row["sums"]
    return sorted(rows, key=lambda r: (r["right_holder"], -r["units"], r["product"]))
