"""Screenshots of the officer's pages on a phone (390 x 844), in English and Arabic, for the README's
tour: ``CENCOMM_SCREENSHOTS=docs/screenshots pytest tests/browser/test_phone_screenshots.py``.
Skipped unless asked; the pages' checks themselves are tests/browser/test_phone_pages.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_phone_pages import LOCALES, OP, open_page

pytestmark = pytest.mark.browser

TARGET = os.environ.get("CENCOMM_SCREENSHOTS", "")
SHOTS = [  # (file name, path, what to do first)
    ("home", "/", None),
    ("overview", f"{OP}/", None),
    ("results", f"{OP}/results/", None),
    ("post", f"{OP}/results/new/", None),
    ("rooms", f"{OP}/rooms/", None),
    ("outbox", "/outbox/", None),
    ("menu", f"{OP}/results/", "menu"),
]


@pytest.mark.skipif(not TARGET, reason="set CENCOMM_SCREENSHOTS to a folder to take the screenshots")
@pytest.mark.parametrize("language", LOCALES)
def test_phone_screenshots(live_hub: Any, browser: Any, language: str) -> None:
    folder = Path(TARGET)
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=1,
        locale=LOCALES[language],
    )
    page = context.new_page()
    live_hub.sign_in(page, "officer-durres", "/")
    for name, path, action in SHOTS:
        open_page(live_hub, page, path)
        if action == "menu":
            page.tap("#menu-button")
        page.wait_for_timeout(400)
        page.screenshot(path=str(folder / f"phone-{name}-{language}.png"))
    # Offline: a result saved on the phone, then the outbox that holds it, then sent.
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    open_page(live_hub, page, f"{OP}/results/new/")
    page.wait_for_selector("#post-submit:enabled")
    context.set_offline(True)
    page.select_option("#f-category", "medicines")
    page.fill("#f-quantity", "240")
    page.select_option("#f-origin", "TR")
    page.tap("#post-submit")
    page.wait_for_selector("#form-status.saved", timeout=10_000)
    page.wait_for_timeout(400)
    page.screenshot(path=str(folder / f"phone-saved-offline-{language}.png"))
    page.goto(f"{live_hub.base_url}/outbox/")
    page.wait_for_selector("#outbox-page-list .outbox-entry")
    page.wait_for_timeout(400)
    page.screenshot(path=str(folder / f"phone-outbox-waiting-{language}.png"))
    # The room with no network: its shell, and why it shows no messages (docs/security.md).
    page.goto(f"{live_hub.base_url}{OP}/rooms/")
    page.wait_for_selector("#room-offline:not([hidden])", timeout=10_000)
    page.wait_for_timeout(400)
    page.screenshot(path=str(folder / f"phone-rooms-offline-{language}.png"))
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#outbox-indicator[data-state=empty]", timeout=20_000)
    context.close()
