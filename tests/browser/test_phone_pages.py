"""Every page an officer or a coordinator uses, on a 390 x 844 touch phone, in English and Arabic:
no page is wider than the screen (and nothing is cut off by ``overflow-x: hidden`` to make it so),
the page's main action is in the first screen, and axe-core finds no accessibility violation; all
checked on one load of the page. In the hub's four other languages (French, Spanish, Portuguese,
Russian: longer words), no officer page is wider than the screen either (one phone per language
visits them all; axe-core's rules do not depend on the language, so it runs in English and Arabic).

On a phone Chromium widens ``window.innerWidth`` to a too-wide page, so the tests check that both
``document.documentElement.scrollWidth`` and ``innerWidth`` stay 390, not only that they agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.browser

OP = "/operations/BALKAN-GATE"
WIDTH, HEIGHT = 390, 844
LOCALES = {"en": "en-GB", "ar": "ar"}  # every check, axe-core's included
OTHER_LOCALES = {"fr": "fr-FR", "es": "es-ES", "pt": "pt-PT", "ru": "ru-RU"}  # the width checks
OFFICER_PAGES = [
    "/",
    f"{OP}/",
    f"{OP}/rooms/",
    f"{OP}/results/",
    f"{OP}/results/new/",
    "{result}",
    f"{OP}/reports/",
    "/outbox/",
    "/accounts/tokens/",
    "/accounts/backup-codes/",
]
COORDINATOR_PAGES = [
    f"{OP}/",
    f"{OP}/rooms/",
    f"{OP}/rooms/new/",
    f"{OP}/rooms/acknowledgements/",
    f"{OP}/results/",
    f"{OP}/results/board/",
    f"{OP}/results/categories/",
    "{result}",
    f"{OP}/reports/",
    "/outbox/",
]
# The main action of a page, which must be in the first screen (above the fold).
MAIN_ACTION = {
    f"{OP}/results/": "#results-post-link",
    f"{OP}/results/new/": "#f-category",
    f"{OP}/rooms/": "#messages",
}
ACKS = f"{OP}/rooms/acknowledgements/"

# The page's scripts have drawn it: the outbox indicator (every signed-in page), the live state of
# a room or the board, and the fonts (a fallback font is narrower or wider).
DRAWN = """() => {
  const outbox = document.getElementById("outbox-indicator");
  if (outbox && !outbox.title) return false;
  for (const id of ["conn-state", "board-state"]) {
    const state = document.getElementById(id);
    if (state && state.dataset.state !== "online") return false;
  }
  return document.fonts.status === "loaded";
}"""
# Then the page has been still for 300 ms (no element, attribute or text changed: the live socket's
# first frames drawn, a scrollable box made keyboard-reachable after its table filled), 3 s at most.
STILL = """() => new Promise((resolve) => {
  const done = () => { observer.disconnect(); clearTimeout(cap); resolve(true); };
  let quiet = setTimeout(done, 300);
  const observer = new MutationObserver(() => { clearTimeout(quiet); quiet = setTimeout(done, 300); });
  observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  const cap = setTimeout(done, 3000);
})"""
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# What is cut off by a box with overflow-x hidden or clip (a page that only looks as wide as the
# screen). Made to be clipped, and not counted: screen-reader-only text, and text that ends in an
# ellipsis by design.
CLIPPED = """() => {
  const found = [];
  for (const el of document.querySelectorAll("body *")) {
    const style = getComputedStyle(el);
    if (!["hidden", "clip"].includes(style.overflowX)) continue;
    if (style.textOverflow === "ellipsis" || style.display === "none") continue;
    if (el.matches("input, select, textarea")) continue; // a field scrolls its own value
    if (el.clientWidth <= 1 || style.clip !== "auto") continue; // visually hidden, kept for screen readers
    if (el.scrollWidth > el.clientWidth + 1) {
      found.push(`${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join(".")}: ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  return found;
}"""

# The elements that stick out of the screen, to say what widens a page that is too wide.
WIDE = """(width) => [...document.querySelectorAll("body *")]
  .filter((el) => { const r = el.getBoundingClientRect(); return r.width && (r.right > width + 1 || r.left < -1); })
  .slice(0, 8).map((el) => `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join(".")} ${Math.round(el.getBoundingClientRect().left)}..${Math.round(el.getBoundingClientRect().right)}`)"""


def new_phone(live_hub: Any, browser: Any, username: str, language: str) -> Any:
    """A signed-in 390 x 844 touch phone whose browser asks for ``language``."""
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale={**LOCALES, **OTHER_LOCALES}[language],
    )
    page = context.new_page()
    live_hub.sign_in(page, username, "/")
    assert page.evaluate("document.documentElement.lang") == language
    return page


@pytest.fixture(scope="module")
def phones(live_hub: Any, browser: Any) -> Iterator[Any]:
    """One signed-in phone per (user, language), reused by this module's tests."""
    contexts: dict[tuple[str, str], Any] = {}

    def phone(username: str, language: str) -> Any:
        if (username, language) not in contexts:
            contexts[(username, language)] = new_phone(live_hub, browser, username, language)
        return contexts[(username, language)]

    yield phone
    for page in contexts.values():
        page.context.close()


def open_page(live_hub: Any, page: Any, path: str) -> None:
    if path == "{result}":
        page.goto(f"{live_hub.base_url}{OP}/results/")
        path = page.locator("#results-table a.result-link").first.get_attribute("href")
    errors: list[str] = []

    def on_error(error: Any) -> None:
        errors.append(str(error))

    page.on("pageerror", on_error)
    response = page.goto(f"{live_hub.base_url}{path}")
    assert response is not None and response.status == 200, (path, response and response.status)
    page.wait_for_load_state("load")
    page.wait_for_function(DRAWN, polling=100, timeout=10_000)
    page.evaluate(STILL)
    page.remove_listener("pageerror", on_error)
    assert not errors, errors


def assert_fits(page: Any, path: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width == [WIDTH, WIDTH], (path, width, page.evaluate(WIDE, WIDTH))
    assert page.evaluate(CLIPPED) == [], path


def axe_violations(live_hub: Any, page: Any) -> list[str]:
    if not page.evaluate("Boolean(window.axe)"):
        page.add_script_tag(url=f"{live_hub.base_url}/static/vendor/axe.min.js")
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in result["violations"]
    ]


def check(live_hub: Any, page: Any, path: str) -> None:
    open_page(live_hub, page, path)
    assert_fits(page, path)
    assert axe_violations(live_hub, page) == [], path
    if path in MAIN_ACTION:
        box = page.locator(MAIN_ACTION[path]).bounding_box()
        assert box is not None and box["y"] + min(box["height"], 120) <= HEIGHT, (path, box)


@pytest.mark.parametrize("language", LOCALES)
@pytest.mark.parametrize("path", OFFICER_PAGES)
def test_an_officer_page_fits_the_phone_and_is_accessible(
    live_hub: Any, phones: Any, path: str, language: str
) -> None:
    page = phones("officer-durres", language)
    check(live_hub, page, path)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")


@pytest.mark.parametrize("language", OTHER_LOCALES)
def test_no_officer_page_is_wider_than_the_phone_in_the_other_languages(
    live_hub: Any, browser: Any, language: str
) -> None:
    page = new_phone(live_hub, browser, "officer-durres", language)
    too_wide = []
    for path in OFFICER_PAGES:
        open_page(live_hub, page, path)
        try:
            assert_fits(page, path)
        except AssertionError as error:  # every page that is too wide, not only the first
            too_wide.append(str(error))
    page.context.close()
    assert too_wide == []


@pytest.mark.parametrize("language", LOCALES)
@pytest.mark.parametrize("path", COORDINATOR_PAGES)
def test_a_coordinator_page_fits_the_phone_and_is_accessible(
    live_hub: Any, phones: Any, path: str, language: str
) -> None:
    page = phones("coordinator", language)
    check(live_hub, page, path)
    if path == ACKS:  # the grid scrolls inside its own region, which the keyboard reaches
        region = page.locator(".ack-grid-wrap").first
        assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"


def test_the_header_collapses_to_a_bar_with_a_menu(live_hub: Any, phones: Any) -> None:
    page = phones("officer-durres", "en")
    open_page(live_hub, page, f"{OP}/results/")
    header = page.locator("header.topbar").bounding_box()
    assert header is not None and header["height"] <= 64, header
    assert not page.locator("#site-menu a", has_text="API tokens").is_visible()
    page.tap("#menu-button")
    assert page.get_attribute("#menu-button", "aria-expanded") == "true"
    assert page.locator("#site-menu a", has_text="API tokens").is_visible()
    assert_fits(page, "menu open")
    page.keyboard.press("Escape")
    assert page.get_attribute("#menu-button", "aria-expanded") == "false"


@pytest.mark.parametrize("language", LOCALES)
def test_the_results_list_is_cards_on_a_phone(live_hub: Any, phones: Any, language: str) -> None:
    page = phones("officer-durres", language)
    open_page(live_hub, page, f"{OP}/results/")
    card = page.locator("#results-table tr.result-card").first
    assert card.is_visible()
    assert card.evaluate("e => getComputedStyle(e).display") == "grid"
    text = card.inner_text()
    # time, commodity, quantity with its unit, outcome, validation state, outbox state
    for field in ("when", "goods", "outcome", "validation", "sync"):
        assert card.locator(f"[data-field={field}]").inner_text().strip(), (field, text)
    assert re.search(r"\d", card.locator("[data-field=goods]").inner_text())
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
