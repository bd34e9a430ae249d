"""The hub's own settings, with two changes the benchmarks make, both said in docs/performance.md.

- The per-socket frame rate limit: the fan-out senders post faster than a person types (the default
  allows 10 frames a second per socket), so that the benchmark measures delivery, not the guard.
- ``CENCOMM_BENCH_CONN_MAX_AGE``, when set, replaces the database's ``CONN_MAX_AGE`` and turns the
  connection pool off (the ingest benchmark measures the hub as shipped, with the pool, and as it
  was before, with 60 s persistent connections; see there).
"""

import os

from cencomm.settings import *  # noqa: F403
from cencomm.settings import DATABASES

CENCOMM_WS_FRAMES_PER_SECOND = 10_000
CENCOMM_WS_FRAME_BURST = 10_000

if os.environ.get("CENCOMM_BENCH_CONN_MAX_AGE"):
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["CENCOMM_BENCH_CONN_MAX_AGE"])
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
