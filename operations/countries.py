"""ISO 3166-1 alpha-2 country codes and their short names, from pycountry."""

import functools
import gettext

import pycountry
from django.utils.translation import get_language

COUNTRIES: dict[str, str] = {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}


@functools.lru_cache(maxsize=16)
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def country_name(code: str, language: str | None = None) -> str:
    """The country's short name in ``language`` (default: the active interface language), from
    pycountry's ISO 3166 translations; the English short name where there is none."""
    name = COUNTRIES.get(code, code)
    language = language or get_language() or "en"
    country = pycountry.countries.get(alpha_2=code)
    if country is None or language.startswith("en"):
        return name
    # The short name ("Taiwan", "South Korea"), as in English; never the official one in its stead.
    translated = _catalogue(language).gettext(name)
    return name if translated == name else translated
