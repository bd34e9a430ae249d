"""The officer's phone (390 x 844, touch): a draft is one result, whatever the taps and the network;
the outbox (IndexedDB) survives closing the browser and is sent from any page; the post form opens
with no network once seen; what happened is shown where the officer looks, and announced."""

from __future__ import annotations

import itertools
import json
import time
import urllib.request
from typing import Any

import pytest

from tests.browser.test_one_draft_one_result import assert_confirmed_in_view
from tests.livehub import CHROMIUM, CHROMIUM_ARGS, wait_until

pytestmark = pytest.mark.browser

OFFICER = "officer-durres"
FORM = "/operations/BALKAN-GATE/results/new/"
ROOMS = "/operations/BALKAN-GATE/rooms/"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-GB",
}
ARGS = CHROMIUM_ARGS
_quantities = itertools.count(int(time.time()) % 100_000 * 10 + 700_001)


def result_uuids(live_hub: Any, quantity: int) -> list[str]:
    request = urllib.request.Request(  # noqa: S310 - our own server
        f"{live_hub.base_url}/api/v1/operations/BALKAN-GATE/results?limit=500",
        headers={"Authorization": f"Bearer {live_hub.users[OFFICER]['api_token']}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        results = json.load(response)["results"]
    return [r["uuid"] for r in results if any(line["quantity"] == quantity for line in r["lines"])]


def results_with(live_hub: Any, quantity: int) -> int:
    """How many results the server holds with a goods line of this (unique) quantity."""
    return len(result_uuids(live_hub, quantity))


def wait_for_count(live_hub: Any, quantity: int, expected: int, seconds: float = 20) -> int:
    deadline = time.monotonic() + seconds
    while results_with(live_hub, quantity) < expected and time.monotonic() < deadline:
        time.sleep(0.25)
    time.sleep(1)  # time for a second copy to arrive, if one were sent
    return results_with(live_hub, quantity)


def fill_draft(page: Any, quantity: int) -> None:
    page.select_option("#f-category", "medicines")
    page.fill("#f-quantity", str(quantity))
    page.select_option("#f-origin", "CN")


def double_tap(page: Any, selector: str) -> None:
    """Two taps in quick succession, the second not waiting for the button (as a thumb does not)."""
    page.tap(selector, force=True)
    page.tap(selector, force=True, no_wait_after=True)


def outbox(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(
        "HubOutbox.list(HubPageOutbox.user).then(items => items.map(i => ({clientId: i.clientId, kind: i.kind, state: i.state})))"
    )


def in_viewport(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return (
        box is not None
        and box["y"] >= 0
        and box["y"] + box["height"] <= 844
        and box["x"] >= 0
        and box["x"] + box["width"] <= 390
    )


def test_a_double_tap_online_posts_one_result_and_the_confirmation_is_in_view(
    live_hub: Any, phone: Any
) -> None:
    quantity = next(_quantities)
    # A little latency, so that the second tap lands while the first is on its way.
    phone.route("**/api/v1/operations/*/results", lambda route: (time.sleep(0.4), route.continue_()))
    fill_draft(phone, quantity)
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    client_id = phone.evaluate("HubPost.clientId")
    double_tap(phone, "#post-submit")
    phone.wait_for_selector("#form-status.posted", timeout=10_000)

    assert wait_for_count(live_hub, quantity, 1) == 1
    reference = f"R-{result_uuids(live_hub, quantity)[0][:8].upper()}"  # the one stored
    assert phone.evaluate("window.scrollY") > 0
    assert_confirmed_in_view(phone, "#form-status", f"{quantity:,} pieces of Medicines", reference)
    assert phone.evaluate("document.activeElement.id") == "form-status"
    # The form is clear for the next draft, with a new client ID.
    assert phone.input_value("#f-quantity") == ""
    assert phone.evaluate("HubPost.clientId") not in (client_id, None)
    assert outbox(phone) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_two_taps_offline_then_the_network_returns_one_result(live_hub: Any, phone: Any) -> None:
    quantity = next(_quantities)
    phone.context.set_offline(True)
    fill_draft(phone, quantity)
    double_tap(phone, "#post-submit")
    phone.wait_for_selector("#form-status.saved", timeout=10_000)
    assert_confirmed_in_view(phone, "#form-status", "Saved on this phone")
    assert [i["kind"] for i in outbox(phone)] == ["result"]
    phone.wait_for_selector("#outbox-indicator[data-waiting='1']")
    assert phone.inner_text("#outbox-indicator").startswith("offline · 1 waiting")
    phone.tap("#form-status .confirmation-close")
    assert phone.locator("#form-status.saved").count() == 0
    double_tap(phone, "#post-submit")  # the cleared form: nothing more is queued
    phone.wait_for_selector("#error-summary:not([hidden])")
    assert len(outbox(phone)) == 1
    assert results_with(live_hub, quantity) == 0

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until(phone, "HubOutbox.list(HubPageOutbox.user).then(items => items.length === 0)")
    assert wait_for_count(live_hub, quantity, 1) == 1
    phone.wait_for_selector("#outbox-indicator[data-state=empty]", timeout=10_000)


def test_on_a_slow_network_one_tap_posts_one_result(live_hub: Any, browser: Any) -> None:
    quantity = next(_quantities)
    # No service worker, so that the page's own requests are the ones the network slows.
    context = browser.new_context(**PHONE, service_workers="block")
    page = context.new_page()
    live_hub.sign_in(page, OFFICER, FORM)
    page.wait_for_selector("#post-submit:enabled")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    slow = {"offline": False, "latency": 2000, "downloadThroughput": -1, "uploadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", slow)
    fill_draft(page, quantity)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    started = time.monotonic()
    page.tap("#post-submit")
    assert page.locator("#post-submit").is_disabled()  # in flight: the draft cannot go twice
    assert page.get_attribute("#post-submit", "aria-busy") == "true"
    page.tap("#post-submit", force=True, no_wait_after=True)  # an impatient second tap
    assert page.input_value("#f-quantity") == str(quantity)  # not cleared before the server answers
    page.wait_for_selector("#form-status.posted", timeout=30_000)
    assert time.monotonic() - started >= 2  # the network was slow indeed
    cdp.send("Network.emulateNetworkConditions", {**slow, "latency": 0})
    assert wait_for_count(live_hub, quantity, 1) == 1
    assert_confirmed_in_view(page, "#form-status", f"{quantity:,} pieces of Medicines", "reference R-")
    assert page.locator("#post-submit").is_enabled()
    context.close()


@pytest.mark.parametrize("locale", ["en-GB", "ar"])
def test_a_post_made_offline_survives_closing_the_browser_and_arrives_once(
    live_hub: Any, browser: Any, tmp_path: Any, locale: str
) -> None:
    quantity = next(_quantities)
    profile = tmp_path / "phone-profile"

    def launch() -> Any:
        return browser.browser_type.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=ARGS, **{**PHONE, "locale": locale}
        )

    context = launch()
    page = context.pages[0] if context.pages else context.new_page()
    live_hub.sign_in(page, OFFICER, FORM)
    page.wait_for_selector("#post-submit:enabled")
    context.set_offline(True)
    fill_draft(page, quantity)
    page.tap("#post-submit")
    page.wait_for_selector("#form-status.saved", timeout=10_000)
    assert [i["kind"] for i in outbox(page)] == ["result"]
    context.close()  # the browser is closed, the phone put away
    assert results_with(live_hub, quantity) == 0

    context = launch()  # the network is back; the officer opens the rooms
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_hub.base_url}{ROOMS}")
    assert page.url == f"{live_hub.base_url}{ROOMS}"  # still signed in
    wait_until(page, "HubOutbox.list(HubPageOutbox.user).then(items => items.length === 0)")
    assert wait_for_count(live_hub, quantity, 1) == 1
    page.reload()
    page.wait_for_selector("#outbox-indicator[data-state=empty]", timeout=10_000)
    assert page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]") == [390, 390]
    assert wait_for_count(live_hub, quantity, 1) == 1
    context.close()


def test_the_pages_an_officer_needs_open_with_no_network_after_one_visit(live_hub: Any, phone: Any) -> None:
    phone.on("dialog", lambda dialog: dialog.accept())
    """One visit to the form keeps the others too: the results list with the nil return, the rooms,
    the overview and the outbox open with no network, and say that the phone is offline."""
    phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    stored = "caches.open('cencomm-hub-pages').then(c => c.keys()).then(ks => ks.map(k => new URL(k.url).pathname))"
    kept = ["/outbox/", FORM, "/operations/BALKAN-GATE/results/", ROOMS, "/operations/BALKAN-GATE/"]
    wait_until(phone, f"{stored}.then(paths => {json.dumps(kept)}.every(p => paths.includes(p)))")
    phone.context.set_offline(True)
    for path, selector in (
        ("/operations/BALKAN-GATE/results/", "#nil-form #nil-submit"),
        (ROOMS, "#messages"),
        ("/operations/BALKAN-GATE/", "#operation-tabs"),
        ("/outbox/", "#outbox-page-list"),
    ):
        phone.goto(f"{live_hub.base_url}{path}")
        assert phone.locator(selector).count() == 1, (path, phone.locator("h1, h2").all_inner_texts())
        phone.wait_for_function(
            "document.querySelector('#outbox-indicator .outbox-text').textContent.startsWith('offline')"
        )
        assert phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]") == [390, 390], path
    # The room, with no network, says why it shows no messages: they are not kept on the phone
    # (docs/security.md). The officer's own, waiting to be sent, are kept (the outbox), and shown.
    phone.goto(f"{live_hub.base_url}{ROOMS}")
    notice = phone.locator("#room-offline")
    notice.wait_for(timeout=10_000)
    assert "not kept on this device" in notice.inner_text()
    phone.fill("#composer-text", "Durrës: on the quay, waiting for the network.")
    phone.tap("#composer-send")
    phone.wait_for_selector(".outbox-item[data-state=retrying]", timeout=10_000)
    phone.reload()
    notice.wait_for(timeout=10_000)
    phone.wait_for_function(
        "document.querySelector('#room-offline .offline-waiting').textContent.endsWith(': 1')", timeout=10_000
    )
    assert phone.locator(".outbox-item", has_text="waiting for the network").count() == 1
    assert phone.locator("article.msg:not(.outbox-item)").count() == 0  # no message text from the phone
    # A nil return made there waits in the outbox, and is sent when the network is back.
    phone.goto(f"{live_hub.base_url}/operations/BALKAN-GATE/results/")
    phone.tap("#nil-submit")
    phone.wait_for_selector("#nil-status.saved", timeout=10_000)
    assert [i["kind"] for i in outbox(phone)] == ["message", "nil"]
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    settled = "HubOutbox.list(HubPageOutbox.user).then(items => items.every(i => i.state === 'refused'))"
    wait_until(phone, settled)  # the message went too
    left = outbox(phone)
    if left:  # the day has results already (other tests posted today): refused, kept, with its reason
        phone.goto(f"{live_hub.base_url}/outbox/")
        entry = phone.locator(f'.outbox-entry[data-client-id="{left[0]["clientId"]}"]')
        assert "Refused" in entry.locator(".outbox-reason").inner_text()
        entry.locator("button", has_text="Discard").tap()  # after the confirmation dialog


def test_the_post_form_opens_with_no_network_after_one_visit(live_hub: Any, phone: Any) -> None:
    phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    kept = f"caches.open('cencomm-hub-pages').then(c => c.match('{FORM}', {{ignoreVary: true}}))"
    stored = "caches.open('cencomm-hub-pages').then(c => c.keys()).then(ks => ks.map(k => new URL(k.url).pathname))"
    wait_until(phone, f"{stored}.then(paths => paths.includes('{FORM}'))")
    phone.context.set_offline(True)
    phone.goto(f"{live_hub.base_url}/outbox/")  # another page first: the form is opened anew
    phone.goto(f"{live_hub.base_url}{FORM}")
    assert phone.locator("h1").inner_text().startswith("Post a result")
    assert phone.locator("#f-category option").count() > 5  # its script ran (from the precache)
    # It is the kept copy (the server, unreachable, would have written another CSRF token).
    kept_token = phone.evaluate(
        f'{kept}.then(r => r.text()).then(t => t.match(/name="csrf-token" content="([^"]+)"/)[1])'
    )
    assert phone.get_attribute('meta[name="csrf-token"]', "content") == kept_token
    phone.wait_for_function(
        "document.querySelector('#outbox-indicator .outbox-text').textContent.startsWith('offline')"
    )
    # And a post made there waits in the outbox.
    quantity = next(_quantities)
    fill_draft(phone, quantity)
    phone.tap("#post-submit")
    phone.wait_for_selector("#form-status.saved", timeout=10_000)
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    assert wait_for_count(live_hub, quantity, 1) == 1


def test_a_refused_draft_is_kept_for_correction_never_taken_for_success(live_hub: Any, phone: Any) -> None:
    quantity = next(_quantities)
    refusal = {"detail": "This client ID was already used for another result."}
    phone.route(
        "**/api/v1/operations/*/results",
        lambda route: route.fulfill(status=409, content_type="application/json", body=json.dumps(refusal)),
    )
    fill_draft(phone, quantity)
    client_id = phone.evaluate("HubPost.clientId")
    phone.tap("#post-submit")
    phone.wait_for_selector("#error-summary:not([hidden])", timeout=10_000)
    assert refusal["detail"] in phone.inner_text("#error-summary")
    assert in_viewport(phone, "#error-summary")
    assert phone.locator("#form-status.posted").count() == 0
    assert phone.input_value("#f-quantity") == str(quantity)  # kept, to correct
    assert outbox(phone) == [{"clientId": client_id, "kind": "result", "state": "refused"}]
    phone.wait_for_selector("#outbox-indicator[data-state=refused]")
    assert "1 refused" in phone.inner_text("#outbox-indicator")

    # The outbox lists it with the server's reason; it can be corrected (same client ID) or discarded.
    phone.tap("#outbox-indicator")
    phone.wait_for_url("**/outbox/")
    entry = phone.locator(f'.outbox-entry[data-client-id="{client_id}"]')
    assert refusal["detail"] in entry.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    entry.locator("a", has_text="Correct it").tap()
    phone.wait_for_selector("#post-submit:enabled")
    assert phone.evaluate("HubPost.clientId") == client_id
    assert phone.input_value("#f-quantity") == str(quantity)
    phone.unroute("**/api/v1/operations/*/results")
    phone.tap("#post-submit")
    phone.wait_for_selector("#form-status.posted", timeout=10_000)
    assert wait_for_count(live_hub, quantity, 1) == 1
    assert outbox(phone) == []


def test_a_reloaded_draft_keeps_its_client_id(live_hub: Any, phone: Any) -> None:
    quantity = next(_quantities)
    fill_draft(phone, quantity)
    client_id = phone.evaluate("HubPost.clientId")
    phone.wait_for_timeout(600)  # the draft is saved as it is typed
    phone.reload()
    phone.wait_for_selector("#post-submit:enabled")
    assert phone.evaluate("HubPost.clientId") == client_id
    assert phone.input_value("#f-quantity") == str(quantity)
    phone.tap("#post-submit")
    phone.wait_for_selector("#form-status.posted", timeout=10_000)
    assert wait_for_count(live_hub, quantity, 1) == 1
    assert (
        phone.evaluate(f"HubOutbox.sentRecord('{client_id}').then(r => r && r.data.client_id)") == client_id
    )
