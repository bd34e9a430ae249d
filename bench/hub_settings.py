"""The hub's own settings, with one change for the benchmarks: the per-socket frame rate limit.

The fan-out senders post faster than a person types (the default allows 10 frames a second per
socket), so that the benchmark measures delivery, not the abuse guard. Nothing else differs.
"""

from cencomm.settings import *  # noqa: F403

CENCOMM_WS_FRAMES_PER_SECOND = 10_000
CENCOMM_WS_FRAME_BURST = 10_000
