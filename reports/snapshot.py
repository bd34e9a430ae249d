"""One consistent read of the record for a report: the snapshot, and the chain check beside it.

Every figure and the chain head come from the same state of the record: one read-only REPEATABLE
READ transaction on PostgreSQL, exported so that a second connection checks the results chain on
the very same state while the first one aggregates.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from operations.models import Operation
from reports import record


@contextmanager
def snapshot() -> Iterator[str | None]:
    """One read-only REPEATABLE READ transaction on PostgreSQL (inside a caller's transaction, that
    transaction). Yields the id of the exported snapshot on PostgreSQL, else None.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        yield None
        return
    with transaction.atomic():
        if connection.vendor != "postgresql":
            yield None
            return
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            yield cursor.fetchone()[0]


def verify_results_chain(operation: Operation, *, snapshot_id: str | None = None) -> dict[str, Any]:
    """The results chain check; ``first_broken`` None means every link matches its record."""
    return record.verify_chain(operation, snapshot_id=snapshot_id)


class ChainCheck(threading.Thread):
    """The chain check in a second connection on the report's snapshot, beside the aggregation.

    It reads every goods line in Python while the aggregates wait on PostgreSQL, so the two overlap.
    """

    def __init__(self, operation: Operation, snapshot_id: str) -> None:
        super().__init__(name="report-chain-check", daemon=True)
        self.operation, self.snapshot_id = operation, snapshot_id
        self.verdict: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.verdict = record.on_snapshot(
                self.snapshot_id,
                lambda: verify_results_chain(self.operation, snapshot_id=self.snapshot_id),
            )
        except BaseException as exc:  # handed to the report's thread, which raises it
            self.error = exc

    def result(self) -> dict[str, Any]:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.verdict is not None
        return self.verdict
