"""Rooms in Chromium: one page sends, another receives live; an unsent message survives going offline."""

import time

import pytest

pytestmark = pytest.mark.browser


OUTBOX_JSON = "HubOutbox.session().then((s) => HubOutbox.list(s && s.user)).then((items) => JSON.stringify(items))"


def wait_until_outbox_empty(page, timeout: float = 10) -> None:
    """Poll with evaluate (which awaits the promise): wait_for_function takes a pending promise for true."""
    deadline = time.monotonic() + timeout
    while page.evaluate(OUTBOX_JSON) != "[]":
        assert time.monotonic() < deadline, page.evaluate(OUTBOX_JSON)
        page.wait_for_timeout(200)


def test_coordinator_sends_and_officer_receives_live_then_acknowledges(live_hub, browser, page):
    rooms = "/operations/BALKAN-GATE/rooms/"
    live_hub.sign_in(page, "officer-bari", rooms)  # the phone
    page.wait_for_selector("#conn-state[data-state=online]")
    desk = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900}).new_page()
    live_hub.sign_in(desk, "coordinator", rooms)
    desk.wait_for_selector("#conn-state[data-state=online]")

    desk.select_option("#composer-kind", "alert")
    desk.fill("#composer-text", "ALERT: Bari, hold container MSKU-4410 for inspection.")
    desk.click("#composer-send")
    alert = page.locator("article.msg.kind-alert", has_text="MSKU-4410")
    alert.wait_for(timeout=10_000)
    assert page.locator("#pending-acks", has_text="MSKU-4410").is_visible()  # re-shown until acknowledged
    alert.locator(".ack-button").click()
    page.locator("article.msg.kind-alert", has_text="MSKU-4410").locator(".badge.acked").wait_for(
        timeout=10_000
    )
    assert page.locator("#pending-acks", has_text="MSKU-4410").count() == 0

    # The coordinator's view shows who has acknowledged.
    desk.goto(f"{live_hub.base_url}/operations/BALKAN-GATE/rooms/acknowledgements/")
    card = desk.locator(".ack-card", has_text="MSKU-4410")
    assert "officer-bari" in card.locator("tr.acked").inner_text()

    # Offline: the message waits in the outbox (kept across a reload) and goes once the network is back.
    page.context.set_offline(True)
    page.evaluate("HubRoom.socket.socket.close()")  # emulation blocks new sockets; drop the open one
    page.wait_for_selector("#conn-state[data-state=offline]", timeout=10_000)
    page.fill("#composer-text", "Bari: container held, opening now.")
    page.click("#composer-send")
    # the app's one outbox (IndexedDB) holds it, with its client ID, across reloads
    assert "Bari: container held" in page.evaluate(OUTBOX_JSON)
    page.wait_for_selector(".outbox-item[data-state=retrying]", timeout=10_000)
    page.context.set_offline(False)
    page.reload()
    desk.goto(f"{live_hub.base_url}{rooms}")
    desk.locator("article.msg", has_text="Bari: container held, opening now.").wait_for(timeout=20_000)
    assert desk.locator("article.msg", has_text="Bari: container held, opening now.").count() == 1
    page.locator("article.msg:not(.outbox-item)", has_text="Bari: container held").wait_for(timeout=10_000)
    wait_until_outbox_empty(page)
    desk.context.close()
