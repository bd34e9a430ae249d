"""The REST API fuzzed by schemathesis from its own /api/v1/openapi.json, in process through WSGI.

Every operation of the schema (new ones included) gets generated and mutated requests from a member
with a bearer token: the server never answers 5xx, a refused request stores nothing, and the API
keeps serving others afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import bearer, verified_client
from tests.security.conftest import path_values, row_counts, seed_operation

# Transactional, like production (autocommit): a database error in one request cannot spoil the next.
pytestmark = pytest.mark.django_db(transaction=True)


def api_schema() -> Any:
    from hub.api import api


    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = get_wsgi_application()
    return schema


@pytest.fixture
def target(tworld: SimpleNamespace) -> Iterator[SimpleNamespace]:
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from operations.services import api_token_create

    world = tworld

    seed = seed_operation(world)
    _, token = api_token_create(user=world.coordinator, operation=world.op, name="fuzz", days=1)
    # As Django's test client does: the test's own connection must survive each request's end.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield SimpleNamespace(
        w=world, real=path_values(seed), headers={"Authorization": f"Bearer {token}"}, token=token
    )
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def test_fuzzed_requests_never_get_a_server_error_nor_store_refused_input(target):
    schema = api_schema()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), aim_at_real=st.booleans())
        def run(case: Any, aim_at_real: bool) -> None:
            if aim_at_real and case.path_parameters:  # past the membership check, at real objects
                case.path_parameters = {
                    k: str(target.real.get(k, v)) for k, v in case.path_parameters.items()
                }
            before = row_counts()
            response = case.call(headers=target.headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {case.body!r:.300}"
                )
            elif response.status_code >= 400:
                after = row_counts()
                if after != before:
                    changed = {t for t in after if after[t] != before.get(t)}
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code} wrote {changed}"
                    )

        run()
    assert not failures, "\n".join(failures[:20])
    # ...and the API still serves a member.
    assert verified_client(target.w.officer_al).get("/api/v1/operations/TEST-OP").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/operations/TEST-OP/board?administration=99999999999999999999",
        "/api/v1/operations/TEST-OP/results?entry_point=-99999999999999999999",
        "/api/v1/operations/TEST-OP/rooms/99999999999999999999999/messages",
        "/api/v1/operations/TEST-OP/reports/99999999999999999999999",
    ],
)
def test_an_id_past_the_database_range_is_bad_input_not_a_server_error(target, path):
    response = verified_client(target.w.coordinator).get(path, **bearer(target.token))
    assert response.status_code in (200, 404, 422), response.status_code
