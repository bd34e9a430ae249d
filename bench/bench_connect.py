"""Connecting: the database statements one rooms socket costs, and how many sockets a burst opens per second.

Statements are counted in the hub process itself (bench/hub_settings.py ``CENCOMM_BENCH_QUERY_FILE``:
an execute wrapper on every database connection, what Django's CaptureQueriesContext would list).
The burst is measured beside a bare Channels relay (daphne, accept only) and a bare ``websockets``
server, in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import websockets

from bench._harness import (
    HubEnv,
    daphne,
    free_port,
    hub_database,
    load_note,
    log,
    ms,
    own_redis,
    percentile,
    python_server,
    query_count,
    raise_nofile,
    ratio,
    seed,
    serving,
    settle,
    table,
)
from bench._rooms import page_delay

TITLE = "Connecting: statements per socket, sockets per second"

SINGLES = 8  # rooms sockets opened one after another on a quiet hub, for the statement count
BURST = int(os.environ.get("CENCOMM_BENCH_CONNECT_BURST") or 1000)
CONCURRENCY = 100  # handshakes in flight at once in the burst
WITHIN = 60.0  # seconds; a socket not open by then counts as not opened


@dataclass
class Single:
    open_hello: list[int] = field(default_factory=list)
    subscribe: list[int] = field(default_factory=list)
    rest: list[int] = field(default_factory=list)  # after subscribed until closed and cleaned up


@dataclass
class Burst:
    target: str
    wanted: int
    opened: int = 0
    seconds: float = 0.0
    times: list[float] = field(default_factory=list)  # handshake to hello (or open), per socket
    failed: int = 0
    retried: int = 0
    shed: int = 0  # attempts the hub answered "overloaded" and closed with 4503
    close_codes: Counter[int | None] = field(default_factory=Counter)
    first_error: str = ""
    statements: float = float("nan")  # per socket opened, the burst and its settling
    settle_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.opened / self.seconds if self.seconds else float("nan")


async def _quiet_count(path: str, wait: float = 0.3) -> int:
    await asyncio.sleep(wait)
    return query_count(path)


async def singles(world: dict[str, Any], port: int, path: str) -> Single:
    """SINGLES sockets, one at a time, nothing else open: statements per phase."""
    single = Single()
    url = f"ws://127.0.0.1:{port}/ws/operations/{world['code']}/rooms/"
    for i in range(SINGLES):
        headers = {"Origin": f"http://127.0.0.1:{port}", "Cookie": f"sessionid={world['officers'][-1 - i]}"}
        c0 = await _quiet_count(path, 1.0)
        ws = await websockets.connect(url, additional_headers=headers, origin=None, ping_interval=None)
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        c1 = await _quiet_count(path)
        head = next(r["seq"] for r in hello["rooms"] if r["id"] == world["room"])
        await ws.send(
            json.dumps({"type": "subscribe", "rooms": [{"room": world["room"], "after_seq": head}]})
        )
        while json.loads(await ws.recv())["type"] != "subscribed":
            pass
        c2 = await _quiet_count(path)
        await asyncio.sleep(1.5)  # what the arrival causes a moment later (the presence hint's read)
        await ws.close()
        c3 = await _quiet_count(path, 1.0)
        single.open_hello.append(c1 - c0)
        single.subscribe.append(c2 - c1)
        single.rest.append(c3 - c2)
    log(
        f"statements per socket: open→hello {single.open_hello}, subscribe {single.subscribe}, rest {single.rest}"
    )
    return single


async def burst(
    target: str,
    urls: Sequence[tuple[str, dict[str, str]]],
    servers: Sequence[Any],
    hello: bool,
    count_file: str | None = None,
) -> Burst:
    result = Burst(target, len(urls))
    gate = asyncio.Semaphore(CONCURRENCY)
    sockets: list[Any] = []
    deadline = time.monotonic() + WITHIN
    c0 = query_count(count_file) if count_file else 0

    async def one(url: str, headers: dict[str, str]) -> None:
        attempt, retry_after = 0, 0.0
        while time.monotonic() < deadline:
            async with gate:
                t0 = time.perf_counter()
                ws = None
                try:
                    async with asyncio.timeout(max(0.1, deadline - time.monotonic())):
                        ws = await websockets.connect(
                            url, additional_headers=headers, origin=None, ping_interval=None, max_queue=None
                        )
                        if hello:
                            frame = json.loads(await ws.recv())
                            if frame.get("type") == "error" and frame.get("code") == "overloaded":
                                result.shed += 1
                                retry_after = float(frame.get("retry_after") or 0)
                                await ws.wait_closed()
                            if frame.get("type") != "hello":
                                raise RuntimeError(f"first frame {frame.get('type')}")
                    result.times.append(time.perf_counter() - t0)
                    sockets.append(ws)
                    return
                except Exception as exc:
                    if ws is not None and ws.close_code is not None:
                        result.close_codes[ws.close_code] += 1
                    result.first_error = result.first_error or f"{type(exc).__name__}: {str(exc)[:160]}"
                    if ws is not None:
                        ws.transport.abort()
            result.retried += 1
            await asyncio.sleep(page_delay(attempt, retry_after))  # as the page waits
            attempt, retry_after = attempt + 1, 0.0
        result.failed += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(u, h) for u, h in urls))
    result.seconds = time.perf_counter() - started
    result.opened = len(sockets)
    result.retried -= result.failed  # the last try of a socket given up is not a retry
    drains = [asyncio.ensure_future(_drain(ws)) for ws in sockets]
    result.settle_seconds = await settle(servers)
    if count_file:
        result.statements = (query_count(count_file) - c0) / max(1, result.opened)
    for task in drains:
        task.cancel()
    gate = asyncio.Semaphore(500)

    async def close(ws: Any) -> None:
        async with gate:
            try:
                await asyncio.wait_for(ws.close(), 5)
            except Exception:
                ws.transport.abort()

    await asyncio.gather(*(close(ws) for ws in sockets))
    await asyncio.sleep(2.0)
    log(
        f"{target}: {result.opened}/{result.wanted} in {result.seconds:.1f} s ({result.per_second:,.0f}/s), "
        f"p99 {ms(percentile(result.times, 99))} ms, failed {result.failed}, retried {result.retried}, "
        f"closes {dict(result.close_codes)} {result.first_error}"
    )
    return result


async def _drain(ws: Any) -> None:
    try:
        async for _ in ws:
            pass
    except Exception:
        pass


def hub_urls(world: dict[str, Any], port: int, n: int) -> list[tuple[str, dict[str, str]]]:
    return [
        (
            f"ws://127.0.0.1:{port}/ws/operations/{world['code']}/rooms/",
            {"Origin": f"http://127.0.0.1:{port}", "Cookie": f"sessionid={world['officers'][i]}"},
        )
        for i in range(n)
    ]


def collect() -> tuple[Single, list[Burst]]:
    raise_nofile()
    bursts: list[Burst] = []
    port = free_port()
    bare = python_server("websockets", "bench.bare_ws", port)
    with serving(bare):
        bursts.append(
            asyncio.run(
                burst("bare websockets", [(f"ws://127.0.0.1:{port}/recv/", {})] * BURST, [bare], False)
            )
        )
    port = free_port()
    relay = daphne("channels relay", "bench.baseline_app:application", port, {})
    with serving(relay):
        urls = [(f"ws://127.0.0.1:{port}/recv/", {})] * BURST
        bursts.append(asyncio.run(burst("Channels relay, 1 process", urls, [relay], False)))
    with hub_database("cencomm_bench_connect") as hub:
        world = seed(hub, officers=BURST + SINGLES, rooms=True)
        single, hub_bursts = hub_collect(hub, world)
    return single, bursts + hub_bursts


def hub_collect(hub: HubEnv, world: dict[str, Any]) -> tuple[Single, list[Burst]]:
    bursts = []
    port = free_port()
    server = daphne("hub", "asgi:application", port, hub.env(port, count_queries=True))
    with serving(server):
        single = asyncio.run(singles(world, port, hub.query_file(port)))
        bursts.append(
            asyncio.run(
                burst("hub, 1 process", hub_urls(world, port, BURST), [server], True, hub.query_file(port))
            )
        )
    with own_redis() as (redis_url, _):
        port = free_port()
        server = daphne("hub", "asgi:application", port, hub.env(port, redis=redis_url, count_queries=True))
        with serving(server):
            bursts.append(
                asyncio.run(
                    burst(
                        "hub, 1 process on Redis",
                        hub_urls(world, port, BURST),
                        [server],
                        True,
                        hub.query_file(port),
                    )
                )
            )
    return single, bursts


def spread(values: Sequence[int]) -> str:
    if not values:
        return "n/a"
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}–{high} (median {sorted(values)[len(values) // 2]})"


def report(single: Single, bursts: list[Burst]) -> str:
    single_rows = [
        [
            "open → `hello` (session, device, membership, rooms, connection row, hello's contents)",
            spread(single.open_hello),
        ],
        ["`subscribe` (at the head) → `subscribed`", spread(single.subscribe)],
        [
            "afterwards until closed and cleaned up (presence read, connection row removed)",
            spread(single.rest),
        ],
        [
            "**the whole socket**",
            spread(
                [a + b + c for a, b, c in zip(single.open_hello, single.subscribe, single.rest, strict=True)]
            ),
        ],
    ]
    rows = [
        [
            b.target,
            f"{b.wanted:,}",
            f"{b.opened:,}",
            f"{b.failed:,}",
            f"{b.retried:,}",
            f"{b.shed:,}",
            ", ".join(f"{c}: {n}" for c, n in sorted(b.close_codes.items(), key=str)) or "—",
            f"{b.seconds:.1f}",
            f"{b.per_second:,.0f}",
            ms(percentile(b.times, 50)),
            ms(percentile(b.times, 99)),
            "—" if b.statements != b.statements else f"{b.statements:.1f}",
        ]
        for b in bursts
    ]
    by = {b.target: b for b in bursts}
    ratio_rows = [
        [b.target, base, ratio(b.per_second, by[base].per_second)]
        for b in bursts
        if b.target.startswith("hub")
        for base in ("Channels relay, 1 process", "bare websockets")
        if base in by
    ]
    errors = [f"{b.target}: first error `{b.first_error}`" for b in bursts if b.first_error]
    return "\n\n".join(
        [
            HOW_MEASURED.format(singles=SINGLES, burst=BURST, concurrency=CONCURRENCY, within=WITHIN),
            f"Statements per rooms socket, {SINGLES} sockets one after another on a quiet hub (1 process):",
            table(["phase", "statements"], single_rows),
            f"A burst of {BURST:,} sockets, {CONCURRENCY} handshakes in flight:",
            table(
                [
                    "server",
                    "asked",
                    "opened",
                    "not opened",
                    "retried",
                    "shed (4503)",
                    "closes seen (code: n)",
                    "seconds",
                    "sockets/s",
                    "p50 ms",
                    "p99 ms",
                    "statements per socket",
                ],
                rows,
            ),
            *errors,
            "Ratios, sockets per second, hub / baseline (below 1 is slower):",
            table(["hub", "baseline", "sockets/s"], ratio_rows),
        ]
    )


HOW_MEASURED = """\
**How measured.** *Statements*: the hub process counts every statement it sends through Django's
database cursors (`bench/hub_settings.py`, `CENCOMM_BENCH_QUERY_FILE`: an execute wrapper on each
connection, installed on `connection_created`; the pool's own health checks are not counted). On a
hub with nothing else open, {singles} officers' rooms sockets (TOTP-verified session cookie, allowed
Origin) are opened one after another; the count is read 0.3 s after `hello`, 0.3 s after
`subscribed`, and 1 s after the close (the socket is held 1.5 s, so that what its arrival causes a
moment later is counted too). *Burst*: {burst:,} sockets, {concurrency} handshakes in flight at
once, each counted open when its `hello` arrived (the baselines: when the handshake completed); a
failed or shed attempt (`overloaded`, close 4503) is tried again after the page's pause
(`reconnectDelay`: full jitter, no sooner than `retry_after`), a socket not open within {within:.0f} s
is given up. *p50/p99* is per handshake, connect to `hello`; *statements per socket* is the hub's count
over the burst and its settling divided by the sockets opened. *Hub, 1 process*: the in-memory
channel layer; *on Redis*: channels-redis on a redis-server of the benchmark's own, as in
production. Database `cencomm_bench_connect`, dropped afterwards."""


def run() -> str:
    note = load_note()
    return note + "\n\n" + report(*collect())


if __name__ == "__main__":
    print(run())
