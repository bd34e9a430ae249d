"""ISO 3166-1 alpha-2 country codes and their short names, from pycountry."""

import pycountry

COUNTRIES: dict[str, str] = {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}


def country_name(code: str) -> str:
    return COUNTRIES.get(code, code)
