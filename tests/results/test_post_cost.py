"""What a result post costs the database: a bounded number of statements, still serialised on the
results chain's head (its row locked FOR NO KEY UPDATE before the version is linked)."""

from __future__ import annotations

import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.world import post_result

# Statements of one post through results.services.result_post (the API adds the token's and the
# membership's reads), savepoints included: 47. It was 52 before the board event read its
# version's operation, goods lines and the category names once (not once for the figures and again
# for the summary); the search index's five are in both. The bound fails a change that adds one.
POST_STATEMENTS = 47


def test_a_result_post_takes_a_bounded_number_of_statements_and_locks_the_chain_head(world):
    post_result(world, world.officer_al, world.durres, str(uuid.uuid4()), lines=[("medicines", 10, "pills")])
    with CaptureQueriesContext(connection) as queries:
        post_result(
            world, world.officer_al, world.durres, str(uuid.uuid4()), lines=[("medicines", 10, "pills")]
        )
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= POST_STATEMENTS, "\n".join(s[:120] for s in statements)
    head = [
        i
        for i, s in enumerate(statements)
        if "cencomm_chainhead" in s and s.rstrip().endswith("UPDATE") and "results:" in s
    ]
    linked = [
        i for i, s in enumerate(statements) if s.startswith('UPDATE "results_resultversion" SET "chain_seq"')
    ]
    assert head and linked and head[0] < linked[0], "the version is linked under the chain head's row lock"
