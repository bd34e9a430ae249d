"""Rooms in Chromium: one page sends, another receives live; an unsent message survives going offline;
a message sent online goes at once, through the outbox, and the server's copy takes its place."""

import json
import time
import uuid

import pytest

from tests.livehub import PHONE, wait_until

pytestmark = pytest.mark.browser


OUTBOX_JSON = (
    "HubOutbox.session().then((s) => HubOutbox.list(s && s.user)).then((items) => JSON.stringify(items))"
)


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


# No timer of the page ever fires (set before its scripts run): a send that waited for one (the
# outbox's 15 s flush, a retry, a pause before flushing) would never go.
NO_TIMERS = "window.setTimeout = window.setInterval = () => 0;"
# Send as the officer's thumb does, and say what the room shows at once, before any answer.
SEND = """(text) => {
  document.getElementById("composer-text").value = text;
  document.getElementById("composer").requestSubmit();
  const node = document.querySelector(".outbox-item");
  return node && {id: node.id, state: node.dataset.state, text: node.querySelector(".msg-text").textContent};
}"""


def test_a_message_sent_online_goes_at_once_through_the_outbox_and_the_servers_copy_replaces_it(
    live_hub, browser
):
    context = browser.new_context(**PHONE)
    context.add_init_script(NO_TIMERS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    live_hub.sign_in(page, "officer-bari", "/operations/BALKAN-GATE/rooms/")
    page.wait_for_selector("#conn-state[data-state=online]")
    page.wait_for_selector("#history-state:has-text('Start of the room'), article.msg")
    posted: list[str] = []
    page.on(
        "request",
        lambda r: (
            posted.append(r.post_data_json["client_id"])
            if r.method == "POST" and r.url.endswith("/messages")
            else None
        ),
    )
    text = f"Bari: seal checked, {uuid.uuid4().hex[:6]}."
    shown = page.evaluate(SEND, text)
    assert shown is not None and shown["state"] == "sending" and shown["text"] == text, shown
    client_id = shown["id"].removeprefix("out-")
    # Through the outbox (kept there until the server has it), and out of it once it has.
    wait_until(page, "HubOutbox.list(HubPageOutbox.user).then(items => items.length === 0)")
    assert posted == [client_id]
    copy = page.locator(f'article.msg[data-client-id="{client_id}"]')
    copy.wait_for(timeout=10_000)
    assert copy.count() == 1 and "outbox-item" not in copy.get_attribute("class")
    assert text in copy.inner_text()
    assert page.locator(".outbox-item").count() == 0
    # Sent, it leaves no text on the phone (docs/security.md): the outbox notes only that it went.
    record = page.evaluate(f"HubOutbox.sentRecord('{client_id}')")
    assert record["kind"] == "message" and "seal checked" not in json.dumps(record), record
    context.close()
    assert not errors, errors
