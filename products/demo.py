"""Demo right holders and their product records: fictitious brands, valid GTINs.

The GTINs are in the GS1 prefix range 20-29 (restricted circulation: never a real trade item) and
get their check digit from python-stdnum. Seeding again changes nothing: right holders are found
by name, products by their first GTIN. ``demo_gtin`` tells the results' demo which GTIN a demo
result's goods line carries, without touching what the results count.
"""

from __future__ import annotations

from typing import Any

from stdnum import ean

from operations.models import CommodityCategory
from products.models import ProductGtin, RightHolder
from products.services import ProductInput, product_create


def _gtin(body: str) -> str:
    return body + ean.calc_check_digit(body)


RIGHT_HOLDERS: list[dict[str, Any]] = [
    {
        "name": "Veridia Pharma AG",
        "country": "CH",
        "username": "rightholder-veridia",
        "products": [
            {
                "brand": "Veridia",
                "name": "Solvantil 50 mg film-coated tablets",
                "category": "medicines",
                "gtins": (_gtin("200123400001"), _gtin("1200123400001")),
                "genuine_features": "Blue lozenge tablets engraved VDA 50. Holographic seal on the box that "
                "turns from green to gold when tilted. Batch number and expiry laser-printed, not inked.",
                "counterfeit_indicators": "Seal that does not change colour; printed (not embossed) Braille; "
                "tablets that crumble or have uneven edges; leaflet only in English.",
                "contact_name": "Brand protection desk",
                "contact_phone": "+41 61 555 01 23",
                "contact_email": "brandprotection@veridia.example",
                "contact_hours": "Mon-Fri 07:00-19:00 CET; 24/7 for seizures",
            },
            {
                "brand": "Veridia",
                "name": "Cardiolex 10 mg tablets",
                "category": "medicines",
                "gtins": (_gtin("200123400002"),),
                "genuine_features": "White round tablets, score line on one side. Tamper-evident tab on the box.",
                "counterfeit_indicators": "Missing 2D matrix code on the box; tablets without a score line.",
                "contact_name": "Brand protection desk",
                "contact_phone": "+41 61 555 01 23",
                "contact_email": "brandprotection@veridia.example",
                "contact_hours": "Mon-Fri 07:00-19:00 CET",
            },
        ],
    },
    {
        "name": "Oakline Leather Goods Ltd",
        "country": "GB",
        "username": "rightholder-oakline",
        "products": [
            {
                "brand": "Oakline",
                "name": "Harbour tote bag",
                "category": "accessories",
                "gtins": (_gtin("200987600001"), _gtin("2009876")),
                "genuine_features": "Full-grain leather, stitched edges (8 stitches per inch), brass zip "
                "marked OAKLINE on the puller, serial number heat-stamped inside the pocket.",
                "counterfeit_indicators": "Glued edges; plastic zip; serial number printed on a fabric label.",
                "contact_name": "Priya Hale, IP counsel",
                "contact_phone": "+44 20 7946 0321",
                "contact_email": "ip@oakline.example",
                "contact_hours": "Mon-Fri 09:00-17:30 UK time",
            },
        ],
    },
    {
        "name": "Kitebright Toys SA",
        "country": "ES",
        "username": "rightholder-kitebright",
        "products": [
            {
                "brand": "Kitebright",
                "name": "Cuddle Fox plush toy, 30 cm",
                "category": "games-toys",
                "gtins": (_gtin("20055500001"),),
                "genuine_features": "Sewn-in CE label with the factory code KB-07; embroidered eyes (no glued "
                "parts); tag with a foil fox logo.",
                "counterfeit_indicators": "Plastic eyes that come off (choking hazard); no CE label; "
                "strong chemical smell.",
                "contact_name": "Safety and anti-counterfeiting team",
                "contact_phone": "+34 93 555 44 10",
                "contact_email": "anticounterfeit@kitebright.example",
                "contact_hours": "Mon-Fri 08:00-18:00 CET",
            },
        ],
    },
]


def demo_gtins() -> dict[str, list[str]]:
    """Category code -> the demo products' GTINs in it."""
    found: dict[str, list[str]] = {}
    for holder in RIGHT_HOLDERS:
        for product in holder["products"]:
            found.setdefault(product["category"], []).extend(product["gtins"])
    return found


def demo_gtin(category: str, index: int) -> str:
    """The GTIN the demo's result ``index`` records on its goods line: one result in two of a
    category with demo products, else none."""
    gtins = demo_gtins().get(category, [])
    if not gtins or index % 2:
        return ""
    return gtins[(index // 2) % len(gtins)]


def seed() -> list[tuple[RightHolder, str]]:
    """The demo's right holders (with the user name of the person who speaks for each)."""
    holders = []
    for data in RIGHT_HOLDERS:
        holder, _ = RightHolder.objects.get_or_create(
            name=data["name"], defaults={"country": data["country"]}
        )
        for product in data["products"]:
            if ProductGtin.objects.filter(gtin=product["gtins"][0]).exists():
                continue
            if not CommodityCategory.objects.filter(code=product["category"]).exists():
                continue
            product_create(right_holder=holder, content=ProductInput(**product), actor=None)
        holders.append((holder, data["username"]))
    return holders
