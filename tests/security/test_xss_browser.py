"""Hostile text rendered by the pages' own scripts (live messages), in Chromium: shown as text, never run."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAYLOAD = (
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>"><svg onload="window.__pwned=3">'
)


def test_a_hostile_message_is_shown_as_text_on_every_open_page(live_hub, browser, page):
    rooms = "/operations/BALKAN-GATE/rooms/"
    live_hub.sign_in(page, "officer-bari", rooms)
    page.wait_for_selector("#conn-state[data-state=online]")
    desk = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900}).new_page()
    live_hub.sign_in(desk, "coordinator", rooms)
    desk.wait_for_selector("#conn-state[data-state=online]")

    desk.fill("#composer-text", PAYLOAD)
    desk.click("#composer-send")
    for p in (desk, page):
        message = p.locator("article.msg", has_text="window.__pwned=2")
        message.wait_for(timeout=10_000)
        assert PAYLOAD in message.inner_text()  # the characters, literally
        assert message.locator("img, script, svg").count() == 0
        assert p.evaluate("window.__pwned") is None
    page.reload()  # history rendered from the database, too
    page.locator("article.msg", has_text="window.__pwned=2").wait_for(timeout=10_000)
    assert page.evaluate("window.__pwned") is None
    desk.context.close()
