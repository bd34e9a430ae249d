"""The officer's phone in French and in Arabic: the pages' scripts speak the language too."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_an_officer_posts_in_french_and_reads_the_room_in_arabic(live_hub: Any, browser: Any) -> None:
    phone = browser.new_context(viewport={"width": 412, "height": 915}, locale="fr-FR").new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    live_hub.sign_in(phone, "officer-rijeka", "/operations/BALKAN-GATE/results/new/")
    assert phone.locator("label[for=f-quantity]").inner_text() == "Quantité"
    assert phone.locator("#f-origin option[value=CN]").inner_text() == "Chine (CN)"
    phone.select_option("#f-category", "medicines")
    phone.fill("#f-quantity", "12")
    phone.click("text=Saisi")
    phone.select_option("#f-origin", "CN")
    phone.click("#post-submit")
    phone.wait_for_selector("#form-status.posted", timeout=10_000)
    assert "Résultat envoyé" in phone.locator("#form-status").inner_text()  # written by the script

    phone.click("#menu-button")  # on a phone the language picker is in the top bar's menu
    with phone.expect_navigation():
        phone.select_option("#language-select", "ar")
    phone.goto(f"{live_hub.base_url}/operations/BALKAN-GATE/rooms/")
    phone.wait_for_selector("#conn-state[data-state=online]")
    assert phone.evaluate("document.documentElement.dir") == "rtl"
    assert phone.locator("#conn-state").inner_text() == "مباشر"  # "live", from the script's table
    assert not errors, errors
    phone.context.close()
