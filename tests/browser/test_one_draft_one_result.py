"""One seizure, one record (issue 10), on the officer's phone (390 x 844, touch):

- "Post result" double-tapped online, tapped twice offline then online, tapped once on a network
  slowed to 2 s: tests/browser/test_phone_outbox.py, each ending with exactly one result on the
  server and the confirmation inside the viewport in an aria-live region (assert_confirmed_in_view);
- the same for a nil return and a photo upload;
- a duplicate voided from its page: struck through with its reason on the page and in the list,
  and gone from the coordinator's live board within a second.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import time
import urllib.request
import uuid
from typing import Any

import pytest

from tests.livehub import wait_until

pytestmark = pytest.mark.browser

CODE = "BALKAN-GATE"
OFFICER = "officer-durres"
FORM = f"/operations/{CODE}/results/new/"
RESULTS = f"/operations/{CODE}/results/"
BOARD = f"/operations/{CODE}/results/board/"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "en-GB"}
# Quantities no other test posts: each test finds its own results by them.
_quantities = itertools.count(int(time.time()) % 100_000 * 10 + 300_001)
# A 1 x 1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


# --- the server's side -----------------------------------------------------------------------------


def api(live_hub: Any, path: str, *, user: str = OFFICER, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - our own server
        f"{live_hub.base_url}/api/v1/operations/{CODE}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {live_hub.users[user]['api_token']}",
            "Content-Type": "application/json",
        },
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def results_with(live_hub: Any, quantity: int) -> list[dict[str, Any]]:
    """The results the server holds with a goods line of this (unique) quantity."""
    results = api(live_hub, "/results?limit=500")["results"]
    return [r for r in results if any(line["quantity"] == quantity for line in r["lines"])]


def settled_count(live_hub: Any, quantity: int, seconds: float = 20) -> int:
    """How many results carry ``quantity`` once one has arrived, and a second copy had time to."""
    deadline = time.monotonic() + seconds
    while not results_with(live_hub, quantity) and time.monotonic() < deadline:
        time.sleep(0.25)
    time.sleep(1.5)
    return len(results_with(live_hub, quantity))


def durres(live_hub: Any) -> int:
    board = api(live_hub, "/board", user="coordinator")
    return next(r["entry_point"] for r in board["compliance"]["rows"] if r["name"].startswith("Port of Durr"))


def post_by_api(live_hub: Any, quantity: int) -> dict[str, Any]:
    return api(
        live_hub,
        "/results",
        body={
            "client_id": str(uuid.uuid4()),
            "entry_point": durres(live_hub),
            "inspected_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)).isoformat(),
            "origin": "CN",
            "outcome": "seized",
            "lines": [{"category": "medicines", "quantity": quantity, "unit": "pieces"}],
        },
    )


# --- the phone's side ------------------------------------------------------------------------------


def fill_draft(page: Any, quantity: int) -> None:
    page.select_option("#f-category", "medicines")
    page.fill("#f-quantity", str(quantity))
    page.select_option("#f-origin", "CN")


def to_the_bottom(page: Any) -> None:
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")


def double_tap(page: Any, selector: str) -> None:
    """Two taps in quick succession, the second not waiting for the page (as a thumb does not)."""
    page.tap(selector, force=True)
    page.tap(selector, force=True, no_wait_after=True)


def assert_confirmed_in_view(page: Any, selector: str, *texts: str) -> None:
    """The confirmation's box lies inside the viewport, and it is (in) a polite live region."""
    panel = page.locator(selector)
    box = panel.bounding_box()
    view = page.viewport_size
    assert box is not None and box["height"] > 0, f"{selector} is not drawn"
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= view["width"] and box["y"] + box["height"] <= view["height"], (
        box,
        view,
    )
    live = page.evaluate(
        """(selector) => { const el = document.querySelector(selector).closest('[aria-live]');
             return el ? {live: el.getAttribute('aria-live'), role: el.getAttribute('role')} : null; }""",
        selector,
    )
    assert live == {"live": "polite", "role": "status"}, live
    text = panel.inner_text()
    for expected in texts:
        assert expected in text, (expected, text)


# --- posting a draft: tests/browser/test_phone_outbox.py (a double tap online, two taps offline, one
# tap on a slow network), with this module's assert_confirmed_in_view ------------------------------


# --- a nil return and a photo: the same confirmation ------------------------------------------------


def _grid(live_hub: Any) -> dict[str, dict[str, str]]:
    """The board's compliance grid: entry point name -> {day: state}."""
    grid = api(live_hub, "/board", user="coordinator")["compliance"]
    return {r["name"]: dict(zip(grid["days"], r["cells"], strict=True)) for r in grid["rows"]}


def _entry_point_id(live_hub: Any, place: str) -> int:
    rows = api(live_hub, "/board", user="coordinator")["compliance"]["rows"]
    return next(r["entry_point"] for r in rows if r["name"] == place)


def _unreported(live_hub: Any) -> tuple[str, str]:
    """An officer whose entry point has a past day of the window with nothing reported yet, and the day."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    grid = _grid(live_hub)
    return next(
        (name, d)
        for name, user in live_hub.users.items()
        if user.get("role") == "officer" and user.get("entry_point") in grid
        for d, state in sorted(grid[user["entry_point"]].items())
        if state == "none" and d < today
    )


def test_a_nil_return_double_tapped_is_one_and_confirmed_in_view(live_hub: Any, browser: Any) -> None:
    officer, day = _unreported(live_hub)
    place = live_hub.users[officer]["entry_point"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    live_hub.sign_in(page, officer, RESULTS)
    page.wait_for_selector("#nil-form")
    page.select_option("#nil-form select[name=day]", day)
    to_the_bottom(page)
    double_tap(page, "#nil-submit")
    page.wait_for_selector("#nil-status.posted", timeout=15_000)
    assert_confirmed_in_view(page, "#nil-status", f"Nil return recorded for {day}.", place)
    assert _grid(live_hub)[place][day] == "nil"

    # A result posted for that day replaces the nil return; a nil return for it is then refused,
    # saying why, where the officer looks.
    api(
        live_hub,
        "/results",
        user=officer,
        body={
            "client_id": str(uuid.uuid4()),
            "entry_point": _entry_point_id(live_hub, place),
            "inspected_at": f"{day}T12:00:00+00:00",
            "origin": "TR",
            "outcome": "seized",
            "lines": [{"category": "medicines", "quantity": next(_quantities), "unit": "pieces"}],
        },
    )
    assert _grid(live_hub)[place][day] == "results"
    page.reload()
    page.wait_for_selector("#nil-form")
    page.select_option("#nil-form select[name=day]", day)
    to_the_bottom(page)
    page.tap("#nil-submit")
    page.wait_for_selector("#nil-status.refused", timeout=15_000)
    assert_confirmed_in_view(page, "#nil-status", f"has results on {day}")
    assert _grid(live_hub)[place][day] == "results"
    context.close()


def test_a_nil_return_tapped_twice_offline_is_sent_once_online(live_hub: Any, browser: Any) -> None:
    officer, day = _unreported(live_hub)
    place = live_hub.users[officer]["entry_point"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    live_hub.sign_in(page, officer, RESULTS)
    page.wait_for_selector("#nil-form")
    context.set_offline(True)
    page.select_option("#nil-form select[name=day]", day)
    to_the_bottom(page)
    double_tap(page, "#nil-submit")
    page.wait_for_selector("#nil-status.saved", timeout=15_000)
    assert_confirmed_in_view(page, "#nil-status", "Saved on this phone", place)
    page.tap("#nil-submit", force=True)  # once more: the same entry point and day, the same item
    assert page.evaluate("HubOutbox.list(HubPageOutbox.user).then(items => items.length)") == 1
    assert _grid(live_hub)[place][day] == "none"

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until(page, "HubOutbox.list(HubPageOutbox.user).then(items => items.length === 0)")
    assert _grid(live_hub)[place][day] == "nil"
    context.close()
    assert not errors, errors


def test_a_photo_double_tapped_is_one_and_confirmed_in_view(live_hub: Any, phone: Any) -> None:
    result = post_by_api(live_hub, next(_quantities))
    phone.goto(f"{live_hub.base_url}{RESULTS}{result['uuid']}/")
    phone.set_input_files(
        "#photo-form input[type=file]", {"name": "seal.png", "mimeType": "image/png", "buffer": PNG}
    )
    to_the_bottom(phone)
    double_tap(phone, "#photo-submit")
    phone.wait_for_selector("#photo-status.posted", timeout=15_000)
    assert_confirmed_in_view(phone, "#photo-status", "Photo added", "seal.png")
    time.sleep(1.5)  # time for a second copy, if one were sent
    assert len(api(live_hub, f"/results/{result['uuid']}")["photos"]) == 1


# --- voiding a duplicate from its page ------------------------------------------------------------------


def test_a_duplicate_voided_from_its_page_leaves_the_live_board_within_a_second(
    live_hub: Any, browser: Any, phone: Any
) -> None:
    desk = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900}).new_page()
    live_hub.sign_in(desk, "coordinator", BOARD)
    desk.wait_for_selector("#board-state[data-state=online]")
    quantity = next(_quantities)
    kept = post_by_api(live_hub, quantity)
    duplicate = post_by_api(live_hub, quantity)
    desk.wait_for_function(
        f"HubBoard.state.latest.some(r => r.uuid === '{duplicate['uuid']}')", polling=100, timeout=10_000
    )
    before = int(desk.evaluate("HubBoard.state.totals.units"))
    results = int(desk.evaluate("HubBoard.state.totals.results"))

    reason = f"duplicate of R-{kept['uuid'][:8].upper()}"
    phone.goto(f"{live_hub.base_url}{RESULTS}{duplicate['uuid']}/")
    phone.fill("#void-form input[name=reason]", reason)
    # Every void request the page makes is counted (the server would refuse a second one, so only
    # the count shows a page that sent two); the answer is held back a little, so that the second
    # tap lands while the first is on its way, as a thumb's does.
    voids: list[str] = []
    phone.on(
        "request", lambda r: voids.append(r.url) if r.url.endswith("/void") and r.method == "POST" else None
    )
    phone.route("**/results/*/void", lambda route: (time.sleep(0.4), route.continue_()))
    with phone.expect_response(lambda r: r.url.endswith("/void") and r.request.method == "POST") as answer:
        double_tap(phone, "#void-form button[type=submit]")
    assert answer.value.status == 200
    voided_at = time.monotonic()
    desk.wait_for_function(
        f"HubBoard.state.totals.units === {before - quantity} && HubBoard.state.totals.results === {results - 1}",
        polling=50,
        timeout=1_000,
    )
    assert time.monotonic() - voided_at < 1.2

    # On its page: the notice with the reason, the version struck through, a restore form.
    phone.wait_for_selector("#voided-notice")
    assert len(voids) == 1, voids  # the double tap sent one request
    assert reason in phone.inner_text("#voided-notice")
    struck = phone.eval_on_selector(
        "section.voided table td", "td => getComputedStyle(td).textDecorationLine"
    )
    assert struck == "line-through"
    assert phone.locator("#restore-form").count() == 1 and phone.locator("#void-form").count() == 0
    versions = api(live_hub, f"/results/{duplicate['uuid']}/versions")
    assert [(v["number"], v["voided"]) for v in versions] == [(1, False), (2, True)]
    # In the list: struck through, with its reason; the kept one not.
    phone.goto(f"{live_hub.base_url}{RESULTS}")
    row = phone.locator(f"#results-table tr:has(a[href$='/{duplicate['uuid']}/'])")
    assert "voided" in row.get_attribute("class") and reason in row.inner_text()
    assert (
        row.locator("td").nth(1).evaluate("td => getComputedStyle(td).textDecorationLine") == "line-through"
    )
    other = phone.locator(f"#results-table tr:has(a[href$='/{kept['uuid']}/'])")
    assert "voided" not in (other.get_attribute("class") or "")
    desk.context.close()
