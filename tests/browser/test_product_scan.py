"""The product scan on a phone: a typed GTIN and a photo of a barcode bring up the genuine
product's card and fill the post form; the result records the GTIN and the board's brand
breakdown moves. A right holder signed in sees their products and nothing of the operation."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageDraw

pytestmark = pytest.mark.browser

FORM = "/operations/BALKAN-GATE/results/new/"
SOLVANTIL = "2001234000017"  # products.demo: Veridia's Solvantil
TOTE = "2009876000013"  # Oakline's Harbour tote

L_CODES = [
    "0001101",
    "0011001",
    "0010011",
    "0111101",
    "0100011",
    "0110001",
    "0101111",
    "0111011",
    "0110111",
    "0001011",
]
G_CODES = ["".join("1" if b == "0" else "0" for b in code)[::-1] for code in L_CODES]
R_CODES = ["".join("1" if b == "0" else "0" for b in code) for code in L_CODES]
PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]


def ean13_png(code: str, module: int = 4, height: int = 160) -> bytes:
    """An EAN-13 barcode drawn from its modules (quiet zones included)."""
    left = "".join(
        (L_CODES if p == "L" else G_CODES)[int(d)]
        for p, d in zip(PARITY[int(code[0])], code[1:7], strict=True)
    )
    right = "".join(R_CODES[int(d)] for d in code[7:])
    bits = "101" + left + "01010" + right + "101"
    quiet = 12
    image = Image.new("L", ((len(bits) + 2 * quiet) * module, height + 2 * module * quiet // 2), 255)
    draw = ImageDraw.Draw(image)
    for i, bit in enumerate(bits):
        if bit == "1":
            x = (quiet + i) * module
            draw.rectangle([x, module * 6, x + module - 1, module * 6 + height], fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_officer_types_and_scans_a_gtin_sees_the_card_and_posts_it(
    live_hub: Any, browser: Any, page: Any
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    live_hub.sign_in(page, "officer-durres", FORM)

    page.fill("#scan-gtin", "2001234000018")  # a wrong check digit
    page.click("#scan-lookup")
    page.wait_for_function("document.getElementById('scan-status').textContent.includes('not a valid GTIN')")
    assert page.locator("#product-card").is_hidden()

    page.fill("#scan-gtin", SOLVANTIL)
    page.press("#scan-gtin", "Enter")  # looks up, does not submit the form
    page.wait_for_selector("#product-card:not([hidden])")
    card = page.inner_text("#product-card")
    assert "Veridia · Solvantil" in card and "Holographic seal" in card and "+41 61 555 01 23" in card
    assert page.input_value("#f-category") == "medicines"
    assert page.input_value("#f-gtin") == SOLVANTIL
    assert page.input_value("#f-brand") == "Veridia"
    assert page.evaluate("document.body.scrollWidth") <= 412  # nothing wider than the phone

    # A photo of a barcode, read by the vendored library (headless Chromium has no BarcodeDetector)
    page.set_input_files(
        "#scan-file", files=[{"name": "barcode.png", "mimeType": "image/png", "buffer": ean13_png(TOTE)}]
    )
    page.wait_for_function(f"document.getElementById('f-gtin').value === '{TOTE}'", timeout=15_000)
    page.wait_for_selector("#product-card:has-text('Harbour tote')")
    assert page.input_value("#f-category") == "accessories"

    desk = browser.new_context(locale="en-GB").new_page()  # the coordinator's board
    live_hub.sign_in(desk, "coordinator", "/operations/BALKAN-GATE/results/board/")
    before = desk.evaluate("Hub.api('/api/v1/operations/BALKAN-GATE/board')")
    brand = "Oakline · Oakline Leather Goods Ltd"
    units_before = next((r["units"] for r in before["brands"] if r["key"] == brand), 0)
    page.fill("#f-quantity", "17")
    page.click("text=Detained pending decision")
    page.select_option("#f-origin", "TR")
    page.click("#post-submit")
    page.wait_for_selector("#form-status.posted", timeout=10_000)
    desk.wait_for_function(
        f"HubBoard.state.brands.some((r) => r.key === {brand!r} && r.units === {units_before + 17})",
        timeout=10_000,
    )  # the live board's brand breakdown moved
    after = desk.evaluate("Hub.api('/api/v1/operations/BALKAN-GATE/board')")
    assert next(r["units"] for r in after["brands"] if r["key"] == brand) == units_before + 17
    assert desk.locator("#table-brands").inner_text().count("Oakline Leather Goods Ltd") == 1
    assert not errors, errors


def test_offline_lookup_uses_the_cached_products(live_hub: Any, page: Any) -> None:
    live_hub.sign_in(page, "officer-durres", FORM)
    page.wait_for_function("(localStorage.getItem('hub-products:BALKAN-GATE') || '').includes('Solvantil')")
    page.context.set_offline(True)
    page.fill("#scan-gtin", SOLVANTIL)
    page.click("#scan-lookup")
    page.wait_for_selector("#product-card:not([hidden])")
    assert "Offline" in page.inner_text("#scan-status")
    assert page.input_value("#f-gtin") == SOLVANTIL
    page.context.set_offline(False)


def test_right_holder_sees_their_products_and_nothing_of_the_operation(live_hub: Any, page: Any) -> None:
    live_hub.sign_in(page, "rightholder-oakline", "/products/")
    text = page.inner_text("main")
    assert "Harbour tote" in text and "Solvantil" not in text
    response = page.goto(f"{live_hub.base_url}/operations/BALKAN-GATE/")
    assert response.status == 404
    response = page.goto(f"{live_hub.base_url}/products/seizures/")
    assert response.status == 200 and "officer" not in page.inner_text("main")


def test_product_pages_fit_a_phone_and_pass_axe(live_hub: Any, browser: Any) -> None:
    from tests.browser.test_phone_pages import assert_fits, axe_violations

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-GB"
    )
    page = context.new_page()
    live_hub.sign_in(page, "rightholder-veridia", "/products/")
    for path in ("/products/", "/products/new/", "/products/seizures/"):
        page.goto(f"{live_hub.base_url}{path}")
        assert_fits(page, path)
        assert axe_violations(live_hub, page) == [], path
    page.goto(f"{live_hub.base_url}/products/")
    page.click("#product-list a >> nth=0")  # a product's own page: the form and its card
    assert_fits(page, "edit")
    assert axe_violations(live_hub, page) == [], "edit"
    context.close()

    officer = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-GB"
    )
    form = officer.new_page()
    live_hub.sign_in(form, "officer-bari", FORM)
    form.fill("#scan-gtin", SOLVANTIL)
    form.click("#scan-lookup")
    form.wait_for_selector("#product-card:not([hidden])")
    assert_fits(form, FORM)
    assert axe_violations(live_hub, form) == [], "post form with a product card"
    officer.close()
