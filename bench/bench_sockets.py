"""Idle sockets: how many idle signed-in sockets one daphne process holds, their memory and idle CPU.

Against a bare ``websockets`` server holding the same number of idle sockets, in the same run.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import websockets

from bench._harness import (
    Server,
    close_sockets,
    daphne,
    free_port,
    hub_database,
    load_note,
    log,
    open_sockets,
    python_server,
    raise_nofile,
    ratio,
    seed,
    serving,
    settle,
    table,
)

TITLE = "Idle sockets: one process"

SIZES = (1000, 10_000)
IDLE_SECONDS = 10.0
ROOM_SOCKETS = 1000  # the room socket (heartbeat, presence) is measured at this size only
CONNECT_WITHIN = {"rooms socket": 60.0}  # what is not open by then is given up (reported)
RETRIES = 3  # a failed handshake is tried again a second later (reported), as the hub's pages do
SESSIONS = 1000  # verified sessions; the 10,000-socket run opens ten sockets per session


@dataclass
class Held:
    target: str
    socket: str
    wanted: int
    held: int = 0
    connect_seconds: float = 0.0
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    idle_cpu_seconds: float = 0.0
    idle_seconds: float = IDLE_SECONDS
    failed: int = 0
    opened: int = 0
    new: int = 0  # opened in this step
    retried: int = 0  # handshakes tried again in this step
    settle_seconds: float = 0.0  # until the server had finished the connections' work
    first_error: str = ""

    @property
    def kib_per_socket(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.opened if self.opened else float("nan")

    @property
    def idle_cpu(self) -> float:
        return self.idle_cpu_seconds / self.idle_seconds


async def hold(
    server: Server,
    target: str,
    socket: str,
    urls: Sequence[tuple[str, dict[str, str]]],
    steps: Sequence[int],
    ready: Callable[[Any], Any] | None = None,
    idle: float = IDLE_SECONDS,
) -> list[Held]:
    """Open sockets up to each of ``steps`` in turn (1,000, then 10,000), measuring after each step."""
    results = []
    await asyncio.sleep(1.0)
    rss_before = server.rss_kib()
    sockets: list[Any] = []
    asked = 0
    drains: list[asyncio.Future[None]] = []  # hub frames (presence, heartbeats) must not pile up
    try:
        for step in steps:
            result = Held(target, socket, step, idle_seconds=idle, rss_before_kib=rss_before)
            started = time.monotonic()
            failures: list[str] = []
            retried: list[str] = []
            more = await open_sockets(
                urls[asked:step],
                concurrency=25 if ready else 100,
                ready=ready,
                failures=failures,
                within=CONNECT_WITHIN.get(socket),
                retries=RETRIES,
                retried=retried,
            )
            result.connect_seconds = time.monotonic() - started
            asked = step
            result.new = sum(1 for ws in more if ws is not None)
            sockets += [ws for ws in more if ws is not None]
            drains += [asyncio.ensure_future(_drain(ws)) for ws in more if ws is not None]
            result.failed = step - len(sockets)
            result.first_error = (failures or retried or [""])[0]
            result.retried = len(retried)
            result.settle_seconds = await settle([server])
            result.rss_after_kib = server.rss_kib()
            result.opened = len(sockets)
            cpu = server.cpu_seconds()
            await asyncio.sleep(idle)
            result.idle_cpu_seconds = server.cpu_seconds() - cpu
            result.held = sum(1 for ws in sockets if ws.state is websockets.State.OPEN)
            log(
                f"{target} {socket}: held {result.held:,}/{step:,}, {result.kib_per_socket:.1f} KiB each, "
                f"idle CPU {result.idle_cpu:.1%}, {result.new:,} opened in {result.connect_seconds:.1f} s, "
                f"not opened {result.failed}, retried {result.retried} {result.first_error}"
            )
            results.append(result)
    finally:
        for task in drains:
            task.cancel()
        await close_sockets(sockets)
    await asyncio.sleep(2.0)
    return results


async def _drain(ws: Any) -> None:
    async for _ in ws:
        pass


async def _hello(ws: Any) -> None:
    frame = json.loads(await ws.recv())
    assert frame["type"] == "hello", frame


def collect(sizes: Sequence[int] = SIZES, room_sockets: int = ROOM_SOCKETS) -> list[Held]:
    raise_nofile()
    results: list[Held] = []
    port = free_port()
    bare = python_server("websockets", "bench.bare_ws", port)
    with serving(bare):
        urls = [(f"ws://127.0.0.1:{port}/recv/", {})] * max(sizes)
        results += asyncio.run(hold(bare, "bare websockets", "`/recv/`", urls, sizes))
    with hub_database("cencomm_bench_sockets") as hub:
        world = seed(hub, officers=min(max(sizes), SESSIONS), rooms=True)
        steps = [("`/ws/ping/`", "/ws/ping/", sizes, None, IDLE_SECONDS)]
        if room_sockets:
            steps.append(
                ("rooms socket", f"/ws/operations/{world['code']}/rooms/", [room_sockets], _hello, 25.0)
            )
        for socket, path, sizes_here, ready, idle in steps:  # a fresh process each, from the same memory
            port = free_port()
            server = daphne("hub", "asgi:application", port, hub.env(port, redis=True))
            sessions = world["officers"]
            urls = [
                (
                    f"ws://127.0.0.1:{port}{path}",
                    {
                        "Origin": f"http://127.0.0.1:{port}",
                        "Cookie": f"sessionid={sessions[i % len(sessions)]}",
                    },
                )
                for i in range(max(sizes_here))
            ]
            with serving(server):
                results += asyncio.run(hold(server, "hub", socket, urls, sizes_here, ready, idle))
    return results


def report(results: list[Held]) -> str:
    rows = [
        [
            r.target,
            r.socket,
            f"{r.wanted:,}",
            f"{r.failed:,}",
            f"{r.retried:,}",
            f"{r.held:,}",
            f"{r.connect_seconds:.1f}",
            f"{r.new / r.connect_seconds:,.0f}",
            f"{r.settle_seconds:.0f}",
            f"{r.rss_before_kib / 1024:.0f}",
            f"{r.rss_after_kib / 1024:.0f}",
            f"{r.kib_per_socket:.1f}",
            f"{r.idle_seconds:.0f}",
            f"{r.idle_cpu:.1%}",
        ]
        for r in results
    ]
    header = [
        "server",
        "socket",
        "asked",
        "not opened",
        "retried",
        "still open",
        "step's connect s",
        "step's sockets/s",
        "settle s",
        "RSS before MiB",
        "RSS after MiB",
        "KiB per socket",
        "idle s",
        "idle CPU",
    ]
    by = {(r.target, r.socket, r.wanted): r for r in results}
    ratio_rows = []
    for r in results:
        base = by.get(("bare websockets", "`/recv/`", r.wanted))
        if r.target == "hub" and base is not None:
            ratio_rows.append(
                [
                    r.socket,
                    f"{r.wanted:,}",
                    ratio(r.kib_per_socket, base.kib_per_socket),
                    ratio(r.idle_cpu, base.idle_cpu)
                    if base.idle_cpu_seconds > 0.02
                    else "n/a (baseline ≈ 0)",
                    ratio(r.new / r.connect_seconds, base.new / base.connect_seconds),
                ]
            )
    errors = [
        f"{r.target} {r.socket} ×{r.wanted:,}: {r.failed:,} not opened, {r.retried:,} handshakes tried "
        f"again, first error: `{r.first_error}`"
        for r in results
        if r.failed or r.retried
    ]
    return "\n\n".join(
        [
            HOW_MEASURED.format(
                idle=IDLE_SECONDS, sessions=SESSIONS, retries=RETRIES, within=CONNECT_WITHIN["rooms socket"]
            ),
            table(header, rows),
            *errors,
            "Ratios, hub / bare websockets (memory and CPU: above 1 costs more; sockets/s: below 1 is slower):",
            table(["hub socket", "sockets", "KiB per socket", "idle CPU", "sockets/s"], ratio_rows),
            FINDINGS,
        ]
    )


HOW_MEASURED = """\
**How measured.** One server process at a time, its file-descriptor limit raised to the hard
limit. The client process (Python, `websockets`, client pings off) opens the sockets 100
handshakes at a time (25 for the rooms socket), first 1,000, then on to 10,000 in the same server
process, measuring after each step. A failed handshake is tried again a second later, up to
{retries} times (*retried*), as the hub's pages reconnect. After each step the harness waits until
the server has finished the connections' work (under 25% of a core over 2 s; at least 3 s, at most
60 s: *settle s*), then leaves the sockets idle. *Memory per socket* is the growth of the server's
`VmRSS` (from `/proc/<pid>/status`) from just before the first socket to after the settling,
divided by the number of open sockets; *idle CPU* is the server's user+system CPU time over the
idle period divided by its length (100% = one core); *still open* counts the sockets open at the
end of it. *Hub*: a fresh daphne process serving `asgi:application` on PostgreSQL (database
`cencomm_bench_sockets`, dropped afterwards) and the Redis channel layer, as in production (with a
prefix of its own); every socket carries a TOTP-verified session cookie of an operation member and
an allowed Origin ({sessions:,} sessions, so the 10,000-socket step opens ten sockets per
session). `/ws/ping/` is the smallest signed-in socket (the HubConsumer base: session, device and
user checks at connect, one channel-layer group). The *rooms socket*
(`/ws/operations/<code>/rooms/`, waiting for its `hello`) also records a connection row, announces
presence to the operation's other sockets and runs a heartbeat every 25 s, so its idle period is
25 s, to include one heartbeat of every socket; sockets not open within {within:.0f} s are left out.
*Bare websockets* (`bench/bare_ws.py`): sockets on `/recv/` held in a set."""

FINDINGS = """\
**What the figures say, and why.**

- *Memory.* An idle signed-in hub socket costs about what a bare `websockets` socket costs (see
  the ratio): most of it is the two ends' buffers and the protocol object, not the hub's state.
  The rooms socket adds its cursors, room list, heartbeat task and presence state, and its figure
  also holds what the connection burst allocated (presence frames) and Python kept: CPython's
  heap rarely gives memory back.
- *Idle CPU grows with the number of sockets in daphne even when nothing happens*; by daphne's
  code, because it walks all its connections every second (`application_checker`) and every two seconds
  (`timeout_checker`, which also sends each socket its ping every 20 s), in Python, so 10,000
  idle sockets keep a share of a core busy; the bare server only pings (the `websockets` default,
  also every 20 s). The rooms socket adds a heartbeat every 25 s that reads each room's head from
  the database and touches the connection row: a database round trip per socket per heartbeat.
  (daphne also closes every WebSocket after `--websocket_timeout`, 24 h by default; the pages
  reconnect.)
- *Connecting is what costs*: each hub handshake loads the session, the user and the TOTP device,
  re-checks device and user, and joins channel-layer groups, all through the process's single
  database thread, so sockets per second are far below the bare server's (see the ratio), and
  daphne drops a handshake that waits more than 5 s for the application (reported above when it
  happens). The rooms socket also writes a connection row and loads its rooms (and announces
  presence, at most every 2 s per operation and process since the fix described in the fan-out
  section), so a burst of them is slower still: the row says how many opened in the time allowed.
- *The in-memory channel layer does not hold 10,000 sockets.* In a trial with
  `InMemoryChannelLayer` (what the hub uses without `REDIS_URL`), connecting slowed to a crawl
  past about 7,500 sockets: every consumer's `receive()` walks all channels and group members
  (`_clean_expired`), O(N) per socket, O(N²) to connect N. Hence the Redis layer here, as in
  production.
- *Noise.* The machine's other work shares the 2 cores (load average above)."""


def run() -> str:
    note = load_note()
    return note + "\n\n" + report(collect())


if __name__ == "__main__":  # a quick try at other sizes: python -m bench.bench_sockets 100,300 [room sockets]
    import sys

    sizes = [int(a) for a in sys.argv[1].split(",")] if len(sys.argv) > 1 else SIZES
    note = load_note()
    print(note + "\n\n" + report(collect(sizes, int(sys.argv[2]) if len(sys.argv) > 2 else ROOM_SOCKETS)))
