"""Results in Chromium: an officer posts from a phone and the coordinator's board changes live;
a post made offline waits in the outbox and is sent once, when the network is back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_rooms_browser import wait_until_outbox_empty

pytestmark = pytest.mark.browser

BOARD = "/operations/BALKAN-GATE/results/board/"
FORM = "/operations/BALKAN-GATE/results/new/"


def units(page: Any) -> int:
    return int(page.evaluate("HubBoard.state.totals.units"))


def test_officer_posts_and_coordinator_board_updates_live(live_hub: Any, browser: Any, page: Any) -> None:
    desk = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    desk.on("pageerror", lambda e: errors.append(str(e)))
    live_hub.sign_in(desk, "coordinator", BOARD)
    desk.wait_for_selector("body[data-board-seq]")
    desk.wait_for_selector("#board-state[data-state=online]")
    before = units(desk)
    assert desk.locator("#chart-days canvas").count() == 1  # uPlot drew the chart
    seq = int(desk.evaluate("HubBoard.state.seq"))

    live_hub.sign_in(page, "officer-durres", FORM)  # the phone
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.select_option("#f-category", "games-toys")
    page.fill("#f-quantity", "4321")
    page.click("text=Detained pending decision")
    page.select_option("#f-origin", "TR")
    page.click("#post-submit")
    page.wait_for_selector("#form-status.posted", timeout=10_000)

    desk.wait_for_function(f"HubBoard.state.totals.units === {before + 4321}", timeout=10_000)
    assert int(desk.evaluate("HubBoard.state.seq")) == seq + 1  # applied as a delta, not a reload
    assert desk.locator("#kpi-units").inner_text() == f"{before + 4321:,}"
    assert "4,321 pieces Games and toys" in desk.locator("#latest li").first.inner_text()
    # what the board shows is what the database holds
    fresh = desk.evaluate("Hub.api('/api/v1/operations/BALKAN-GATE/board')")
    assert fresh["totals"] == desk.evaluate("HubBoard.state.totals")

    # Offline: the post waits in the outbox and goes once, when the network is back.
    page.context.set_offline(True)
    page.select_option("#f-category", "electronics")
    page.fill("#f-quantity", "77")
    page.select_option("#f-origin", "CN")
    page.click("#post-submit")
    page.wait_for_selector("#outbox:not([hidden])", timeout=10_000)
    assert "77 pieces of Electronic appliances" in page.inner_text("#outbox-list")
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#outbox", state="hidden", timeout=20_000)
    desk.wait_for_function(f"HubBoard.state.totals.units === {before + 4321 + 77}", timeout=10_000)

    # A response lost on the way back: the server stored the result but the phone never heard,
    # so the post is still in its outbox; sending it again (same client ID) returns the stored
    # result and the board counts it once.
    page.evaluate("""async () => {
        const body = {client_id: Hub.uuid(), entry_point: Number(document.getElementById('f-entry_point').value),
                      inspected_at: new Date(Date.now() - 600000).toISOString(), origin: 'CN', outcome: 'seized',
                      lines: [{category: 'foodstuffs', quantity: '9', unit: 'pieces'}]};
        const path = '/api/v1/operations/BALKAN-GATE/results';
        await Hub.api(path, {method: 'POST', body});
        const session = await HubOutbox.session();
        await HubOutbox.put({clientId: body.client_id, kind: 'result', op: 'BALKAN-GATE', path, body,
                             label: '9 pieces', user: session.user});
    }""")
    desk.wait_for_function(f"HubBoard.state.totals.units === {before + 4321 + 77 + 9}", timeout=10_000)
    page.reload()  # the page flushes the app's outbox on load: the server answers the stored result
    wait_until_outbox_empty(page)
    page.wait_for_timeout(500)
    assert units(desk) == before + 4321 + 77 + 9
    assert (
        desk.evaluate("Hub.api('/api/v1/operations/BALKAN-GATE/board')")["totals"]["units"]
        == before + 4321 + 77 + 9
    )
    assert not errors, errors
    desk.context.close()


def test_board_filter_shows_one_entry_point(live_hub: Any, browser: Any, page: Any) -> None:
    live_hub.sign_in(page, "observer", BOARD)
    page.wait_for_selector("body[data-board-seq]")
    total = units(page)
    page.select_option("select[name=entry_point]", label="Port of Bari")
    page.wait_for_function("HubBoard.state.filter.entry_point !== null", timeout=10_000)
    bari = units(page)
    assert 0 < bari < total
    assert [r["label"] for r in page.evaluate("HubBoard.state.entry_points")] == ["Port of Bari"]
