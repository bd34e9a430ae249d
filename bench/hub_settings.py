"""The hub's own settings, with the changes the benchmarks make, all said in docs/performance.md.

- The per-socket frame rate limit: the fan-out senders post faster than a person types (the default
  allows 10 frames a second per socket), so that the benchmark measures delivery, not the guard.
- ``CENCOMM_BENCH_CONN_MAX_AGE``, when set, replaces the database's ``CONN_MAX_AGE`` and turns the
  connection pool off (the ingest benchmark measures the hub as shipped, with the pool, and as it
  was before, with 60 s persistent connections; see there).
- ``CENCOMM_BENCH_QUERY_FILE``, when set, counts the process's database statements (below).
"""

import os

from cencomm.settings import *  # noqa: F403
from cencomm.settings import DATABASES

CENCOMM_WS_FRAMES_PER_SECOND = 10_000
CENCOMM_WS_FRAME_BURST = 10_000

if os.environ.get("CENCOMM_BENCH_CONN_MAX_AGE"):
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["CENCOMM_BENCH_CONN_MAX_AGE"])
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)

# ``CENCOMM_BENCH_QUERY_FILE``: count every statement this process runs through Django's database
# cursors (an execute wrapper on each connection, as CaptureQueriesContext sees them) and keep the
# running total in that file (rewritten at most every 50 ms), for the benchmarks' queries per
# connect and per post. Off unless set: the other benchmarks run the hub without it.
if os.environ.get("CENCOMM_BENCH_QUERY_FILE"):
    import threading
    import time

    from django.db.backends.signals import connection_created

    _QUERY_FILE = os.environ["CENCOMM_BENCH_QUERY_FILE"]
    _queries = [0]
    _queries_lock = threading.Lock()

    def _count_query(execute, sql, params, many, context):
        with _queries_lock:
            _queries[0] += 1
        return execute(sql, params, many, context)

    def _install_counter(sender, connection, **kwargs):
        if _count_query not in connection.execute_wrappers:
            connection.execute_wrappers.append(_count_query)

    connection_created.connect(_install_counter, weak=False)

    def _write_queries() -> None:
        written = None
        while True:
            if _queries[0] != written:
                written = _queries[0]
                with open(_QUERY_FILE + ".tmp", "w") as f:
                    f.write(str(written))
                os.replace(_QUERY_FILE + ".tmp", _QUERY_FILE)
            time.sleep(0.05)

    threading.Thread(target=_write_queries, name="bench-query-count", daemon=True).start()
