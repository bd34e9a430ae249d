"""In Chromium, against the demo server as `make demo` runs it (one daphne process, no worker):
the coordinator asks for a PDF, watches it progress, and downloads the finished report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.reports.helpers import pdf_text

pytestmark = pytest.mark.browser
PAGE = "/operations/BALKAN-GATE/reports/"


def test_coordinator_generates_and_downloads_the_pdf_in_the_demo(live_hub: Any, browser: Any) -> None:
    page = browser.new_context(
        locale="en-GB", viewport={"width": 1280, "height": 900}, accept_downloads=True
    ).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    live_hub.sign_in(page, "coordinator", PAGE)
    page.select_option("select[name=edition]", "public")
    page.select_option("select[name=format]", "pdf")
    page.click("button:has-text('Generate')")
    row = page.locator("#reports tr").nth(1)
    assert row.get_attribute("data-state") in ("queued", "running", "done")
    link = page.locator("#reports tr[data-state=done] a:has-text('Download')")
    link.wait_for(timeout=60_000)  # the page polls the API and reloads when the job is done
    with page.expect_download() as download:
        link.click()
    text = " ".join(pdf_text(Path(download.value.path()).read_bytes()).split())
    # Other browser tests share this hub and may have posted results since the demo was seeded.
    found = re.search(r"intercepted ([\d,]+) units of goods", text)
    assert found and int(found.group(1).replace(",", "")) >= 3_888_013
    assert errors == []
