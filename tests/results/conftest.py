"""The results tests' ``post`` fixture; the body and the helpers come from tests/world.py."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.world import api_post, verified_client
from tests.world import result_body as body


@pytest.fixture
def post(world: SimpleNamespace) -> Any:
    """post(user, **body overrides) -> response of POST /operations/TEST-OP/results."""

    def _post(user: Any, *, entry_point: Any = None, **overrides: Any) -> Any:
        client = verified_client(user)
        return api_post(
            client, "/operations/TEST-OP/results", body(world, entry_point=entry_point, **overrides)
        )

    return _post
