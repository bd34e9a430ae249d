"""The post form's countries: the favourites first, then by their name in the reader's language."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from results.views import COMMON_ORIGINS, _collation_key
from tests.conftest import verified_client


def origins(world: Any, language: str) -> list[dict[str, str]]:
    client = verified_client(world.officer_al)
    page = client.get("/operations/TEST-OP/results/new/", HTTP_ACCEPT_LANGUAGE=language)
    found = re.search(
        rb'<script id="results-config" type="application/json">(.*?)</script>', page.content, re.S
    )
    assert found is not None
    return json.loads(found.group(1))["origins"]


@pytest.mark.parametrize("language", ["en", "fr", "ru", "ar"])
def test_countries_after_the_favourites_are_in_the_readers_alphabetical_order(
    world: Any, language: str
) -> None:
    listed = origins(world, language)
    assert [o["value"] for o in listed[: len(COMMON_ORIGINS)]] == COMMON_ORIGINS
    names = [o["label"].rsplit(" (", 1)[0] for o in listed[len(COMMON_ORIGINS) :]]
    assert names == sorted(names, key=_collation_key)
    assert len(names) > 200


def test_french_names_sort_by_their_letters_not_their_codes(world: Any) -> None:
    names = [o["label"] for o in origins(world, "fr")]
    # Germany (DE) is "Allemagne" in French: among the A's, before Austria ("Autriche", AT).
    assert names.index("Allemagne (DE)") < names.index("Autriche (AT)") < names.index("Belgique (BE)")
    # "Émirats" (AE) is a favourite; "Égypte" (EG) sorts with the E's, after "Danemark".
    assert names.index("Danemark (DK)") < names.index("Égypte (EG)") < names.index("Espagne (ES)")
