"""The API's documentation renders from the hub's own static files, with every other host cut off."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


def test_api_docs_render_with_the_network_cut(live_hub: Any, browser: Any) -> None:
    hub_host = urlsplit(live_hub.base_url).netloc
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    elsewhere: list[str] = []

    def only_the_hub(route: Any) -> None:
        if urlsplit(route.request.url).netloc == hub_host:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_the_hub)
    try:
        page.goto(f"{live_hub.base_url}/api/v1/docs")
        # Swagger UI draws the API's title and one block per endpoint from /api/v1/openapi.json.
        page.wait_for_selector(".opblock", timeout=15_000)
        assert "CENcomm hub API" in page.inner_text(".information-container")
        assert page.locator(".opblock").count() > 10
        assert elsewhere == []
    finally:
        context.close()
