"""Helpers for the results tests: a valid post body and a way to post it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import verified_client


def body(w: SimpleNamespace, *, entry_point: Any = None, **overrides: Any) -> dict[str, Any]:
    """The short form: entry point, time, one goods line, outcome, origin."""
    data: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "entry_point": (entry_point or w.durres).pk,
        "inspected_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "origin": "CN",
        "outcome": "seized",
        "lines": [{"category": "medicines", "quantity": 1200, "unit": "pieces"}],
    }
    data.update(overrides)
    return data


def api_post(client: Client, path: str, data: dict[str, Any]) -> Any:
    return client.post(f"/api/v1{path}", json.dumps(data, default=str), content_type="application/json")


@pytest.fixture
def post(world: SimpleNamespace) -> Any:
    """post(user, **body overrides) -> response of POST /operations/TEST-OP/results."""

    def _post(user: Any, *, entry_point: Any = None, **overrides: Any) -> Any:
        client = verified_client(user)
        return api_post(
            client, "/operations/TEST-OP/results", body(world, entry_point=entry_point, **overrides)
        )

    return _post
