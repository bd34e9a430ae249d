"""Search in Chromium: the coordinator finds the container warning on the demo, opens it in its room;
on a phone the page fits 390 px; the officer of Albania finds nothing of the Italian room."""

import pytest

from tests.livehub import wait_until

pytestmark = pytest.mark.browser

SEARCH = "/operations/BALKAN-GATE/search/"


def test_coordinator_finds_the_warning_by_its_number_and_opens_it_in_its_room(live_hub, page):
    live_hub.sign_in(page, "coordinator", "/operations/BALKAN-GATE/")
    page.click("#operation-search-link")
    page.fill("#search-q", "tghu 4829131")
    page.click("#search-form button[type=submit]")
    answer = page.locator(".answer.kind-warning", has_text="TGHU")
    answer.wait_for(timeout=10_000)
    assert answer.locator("mark").first.inner_text() == "TGHU 482913-1"
    answer.locator("h3 a").click()
    page.wait_for_url("**/rooms/*/#msg-*")
    wait_until(page, "document.querySelector('article.msg.target') !== null")
    target = page.locator("article.msg.target")
    assert "TGHU 482913-1" in target.inner_text()
    assert target.is_visible()


def test_an_officer_of_albania_on_a_phone_finds_nothing_of_the_italian_room(live_hub, phone):
    phone.goto(f"{live_hub.base_url}{SEARCH}")  # the fixture signed the Durrës officer in
    phone.fill("#search-q", "Adriatica")
    phone.click("#search-form button[type=submit]")
    phone.wait_for_selector("#search-answers")
    assert phone.locator(".answer").count() == 0
    assert "Answers: 0" in phone.locator("#search-answers h2").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
