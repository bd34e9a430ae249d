"""Sign in through the real pages in Chromium, with a password and a TOTP code."""

import pytest

pytestmark = pytest.mark.browser


def test_officer_signs_in_with_totp_and_sees_the_operation(live_hub, page):
    # An officer no other browser test signs in: the pages themselves, with no wait for a fresh code.
    live_hub.sign_in(page, "officer-constanta", through_pages=True)
    assert "Operation Balkan Gate" in page.content()
    page.click("text=Operation Balkan Gate")
    page.wait_for_url("**/operations/BALKAN-GATE/")
    assert "Port of Durrës" in page.content()
    assert "Customs Administration of Serbia" in page.content()


def test_wrong_totp_code_keeps_the_door_shut(live_hub, page):
    page.goto(f"{live_hub.base_url}/accounts/login/")
    page.fill("input[name=username]", "observer")
    page.fill("input[name=password]", live_hub.users["observer"]["password"])
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/verify/**")
    page.fill("input[name=code]", "000000")
    page.click("button[type=submit]")
    assert "wrong" in page.inner_text(".error")
    page.goto(f"{live_hub.base_url}/operations/BALKAN-GATE/")
    assert "/accounts/login/" in page.url or "/accounts/verify/" in page.url
