"""Fan-out: N clients in one room, senders posting; deliveries per second and send-to-receipt latency.

Five servers on the same client harness, in the same run, compared like with like:

- one process, in-memory channel layer: the hub (daphne, the real app and room protocol, signed-in
  members with TOTP-verified sessions, PostgreSQL) against a bare Channels relay (daphne,
  ``group_send``, nothing else), and both against a bare ``websockets`` broadcast server;
- two processes over Redis: the hub as two daphne processes against the relay as two daphne
  processes, on the same kind of channels-redis layer (one redis-server of the benchmark's own).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench._harness import (
    HubEnv,
    Server,
    close_sockets,
    daphne,
    free_port,
    hub_database,
    load_note,
    log,
    ms,
    open_sockets,
    own_redis,
    percentile,
    python_server,
    raise_nofile,
    ratio,
    seed,
    serving,
    settle,
    table,
)

TITLE = "Fan-out: one room, many clients"

# CENCOMM_BENCH_FANOUT_SIZES=20,50 for a quick try (the full run: 100, 1,000 and 5,000).
SIZES = tuple(int(s) for s in (os.environ.get("CENCOMM_BENCH_FANOUT_SIZES") or "100,1000,5000").split(","))
SENDERS = 2  # each keeps one message in flight: a message is sent once the previous one reached all
MESSAGES = {100: 40, 1000: 12, 5000: 6}  # measured messages per run (after WARMUP)
WARMUP = 2
RETRIES = 5  # a refused or timed-out handshake is tried again after a second (reported)
CONCURRENCY = 50  # handshakes in flight at once
# The hub's receivers not connected by then are left out (reported); CENCOMM_BENCH_CONNECT_WITHIN
# (seconds, every size) waits longer.
CONNECT_WITHIN = {100: 30.0, 1000: 60.0, 5000: 120.0}
TIMEOUT = 20.0  # a message not delivered to every client within this counts the rest as missing
PAD = "x" * 400  # the baselines' frames are about the size of the hub's rendered message frame


@dataclass
class Target:
    """How the harness talks to one server: where to connect, how to join, how to send."""

    name: str
    receivers: Callable[[int], list[tuple[str, dict[str, str]]]]
    senders: list[tuple[str, dict[str, str]]]
    frame: Callable[[str], str]
    joined: Callable[[Any], Any] | None = None
    greeted: Callable[[Any], Any] | None = None
    limited: bool = False  # the hub: receivers not open in CONNECT_WITHIN are left out (else all must)
    stores: bool = False  # the hub: answers each send with `sent` once the message is committed
    servers: Sequence[Server] = ()


@dataclass
class Run:
    target: str
    n: int
    connected: int = 0
    messages: int = 0
    deliveries: int = 0
    missing: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # from the sender's send()
    # From the hub's `sent` reaching the sender (the message is committed by then): about commit to
    # receipt; a baseline stores nothing, so from its send().
    from_stored: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    connect_seconds: float = 0.0
    retried: list[str] = field(default_factory=list)
    settle_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds if self.seconds else float("nan")


def texts(raw: str | bytes) -> list[str]:
    """The tags in one frame: the hub's ``messages`` frame and the baselines' copies of it."""
    prefix = '{"type":"messages"' if isinstance(raw, str) else b'{"type":"messages"'
    if not raw.startswith(prefix):  # type: ignore[arg-type]
        return []  # presence lists and heartbeats can be large: not worth parsing here
    return [m.get("text") or "" for m in json.loads(raw)["messages"]]


def baseline_frame(tag: str) -> str:
    frame = {"type": "messages", "room": 1, "messages": [{"seq": 0, "text": tag, "pad": PAD}]}
    return json.dumps(frame, separators=(",", ":"))  # as the hub encodes its frames


# --- the hub's room protocol ------------------------------------------------------------------------


def hub_target(name: str, world: dict[str, Any], ports: Sequence[int], servers: Sequence[Server]) -> Target:
    room = world["room"]

    def url(i: int) -> tuple[str, dict[str, str]]:
        port = ports[i % len(ports)]
        return (
            f"ws://127.0.0.1:{port}/ws/operations/{world['code']}/rooms/",
            {"Origin": f"http://127.0.0.1:{port}"},
        )

    def receivers(n: int) -> list[tuple[str, dict[str, str]]]:
        return [
            (u, {**h, "Cookie": f"sessionid={world['officers'][i]}"})
            for i, (u, h) in enumerate(url(i) for i in range(n))
        ]

    senders = [
        (u, {**h, "Cookie": f"sessionid={world['coordinators'][i]}"})
        for i, (u, h) in enumerate(url(i) for i in range(SENDERS))
    ]

    async def greeted(ws: Any) -> dict[str, Any]:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        return hello

    async def joined(ws: Any) -> None:
        hello = await greeted(ws)
        head = next(r["seq"] for r in hello["rooms"] if r["id"] == room)
        await ws.send(json.dumps({"type": "subscribe", "rooms": [{"room": room, "after_seq": head}]}))
        while True:  # presence lists can be large: parse only what may be the reply
            raw = await ws.recv()
            if '"subscribed"' in raw[:64] and json.loads(raw)["type"] == "subscribed":
                break

    def frame(tag: str) -> str:
        return json.dumps({"type": "send", "room": room, "client_id": str(uuid.uuid4()), "text": tag})

    return Target(name, receivers, senders, frame, joined, greeted, True, True, servers)


def bare_target(name: str, ports: Sequence[int], servers: Sequence[Server]) -> Target:
    """Receivers and senders alternate between the ports (one or two relay processes)."""
    bases = [f"ws://127.0.0.1:{port}" for port in ports]
    return Target(
        name,
        lambda n: [(f"{bases[i % len(bases)]}/recv/", {}) for i in range(n)],
        [(f"{bases[i % len(bases)]}/send/", {}) for i in range(SENDERS)],
        baseline_frame,
        servers=servers,
    )


def connect_within(n: int) -> float:
    if os.environ.get("CENCOMM_BENCH_CONNECT_WITHIN"):
        return float(os.environ["CENCOMM_BENCH_CONNECT_WITHIN"])
    return next((s for size, s in sorted(CONNECT_WITHIN.items()) if n <= size), max(CONNECT_WITHIN.values()))


# --- the measurement ------------------------------------------------------------------------------


async def measure(target: Target, n: int, messages: int) -> Run:
    run = Run(target.name, n)
    started = time.monotonic()
    failures: list[str] | None = [] if target.limited else None
    receivers = await open_sockets(
        target.receivers(n),
        ready=target.joined,
        concurrency=CONCURRENCY,
        retries=RETRIES,
        retried=run.retried,
        within=connect_within(n) if target.limited else None,
        failures=failures,
    )
    receivers = [ws for ws in receivers if ws is not None]
    run.connected = len(receivers)
    senders = await open_sockets(target.senders, ready=target.greeted, retries=RETRIES, retried=run.retried)
    run.connect_seconds = time.monotonic() - started
    # tag -> [sent at, still to arrive, event, measured, receipt times, stored at (the hub's `sent`)]
    pending: dict[str, list[Any]] = {}
    current: dict[int, str] = {}  # sender -> the tag it has in flight (one at a time)

    async def read(ws: Any) -> None:
        async for raw in ws:
            now = time.perf_counter()
            for tag in texts(raw):
                entry = pending.get(tag)
                if entry is None:
                    continue
                entry[4].append(now)
                entry[1] -= 1
                if entry[1] == 0:
                    entry[2].set()

    async def drain(ws: Any, sender: int) -> None:
        async for raw in ws:
            # The hub answers a stored `send` with `sent`, after its transaction committed.
            if isinstance(raw, str) and raw.startswith('{"type":"sent"'):
                entry = pending.get(current.get(sender, ""))
                if entry is not None and entry[5] is None:
                    entry[5] = time.perf_counter()

    async def send(ws: Any, sender: int, count: int, measured: bool) -> None:
        for i in range(count):
            tag = current[sender] = f"{sender}:{i}:{measured}"
            entry = pending[tag] = [time.perf_counter(), len(receivers), asyncio.Event(), measured, [], None]
            await ws.send(target.frame(tag))
            try:
                await asyncio.wait_for(entry[2].wait(), TIMEOUT)
            except TimeoutError:
                pass
            del pending[tag]
            if measured:
                run.messages += 1
                run.deliveries += len(receivers) - entry[1]
                run.missing += entry[1]
                run.latencies += [r - entry[0] for r in entry[4]]
                stored = entry[5] if target.stores else entry[0]
                if stored is not None:
                    run.from_stored += [r - stored for r in entry[4]]

    readers = [asyncio.ensure_future(read(ws)) for ws in receivers] + [
        asyncio.ensure_future(drain(ws, s)) for s, ws in enumerate(senders)
    ]
    try:
        # Let the connection burst settle (the hub tells every member who came online).
        run.settle_seconds = await settle(target.servers)
        await asyncio.gather(*(send(ws, s, WARMUP // SENDERS, False) for s, ws in enumerate(senders)))
        cpu0 = sum(s.cpu_seconds() for s in target.servers)
        rusage0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        await asyncio.gather(*(send(ws, s, messages // SENDERS, True) for s, ws in enumerate(senders)))
        run.seconds = time.perf_counter() - t0
        rusage1 = resource.getrusage(resource.RUSAGE_SELF)
        run.server_cpu = (sum(s.cpu_seconds() for s in target.servers) - cpu0) / run.seconds
        run.client_cpu = (
            rusage1.ru_utime + rusage1.ru_stime - rusage0.ru_utime - rusage0.ru_stime
        ) / run.seconds
    finally:
        for task in readers:
            task.cancel()
        await close_sockets([*receivers, *senders])
    log(
        f"{target.name} n={run.connected}/{n}: {run.per_second:,.0f} deliveries/s, p50 {ms(percentile(run.latencies, 50))} ms, "
        f"p99 {ms(percentile(run.latencies, 99))} ms, missing {run.missing}, handshakes retried {len(run.retried)} "
        f"{(run.retried or [''])[0]}"
    )
    return run


def measure_all(target: Target, sizes: Sequence[int]) -> list[Run]:
    return [asyncio.run(measure(target, n, MESSAGES.get(n, 12))) for n in sizes]


# --- the run --------------------------------------------------------------------------------------


ONE_HUB, TWO_HUBS = "hub, 1 process", "hub, 2 processes + Redis"
ONE_RELAY, TWO_RELAYS = "Channels relay, 1 process", "Channels relay, 2 processes + Redis"
BARE_WS = "bare websockets"
# (hub, its like-for-like baseline): the same number of processes and the same kind of channel layer;
# and the one-process hub against a bare websockets server, the floor of any Python server.
PAIRS = ((ONE_HUB, ONE_RELAY), (TWO_HUBS, TWO_RELAYS), (ONE_HUB, BARE_WS))


def collect(sizes: Sequence[int] = SIZES) -> list[Run]:
    raise_nofile()
    runs: list[Run] = []
    port = free_port()
    ws_server = python_server("websockets", "bench.bare_ws", port)
    with serving(ws_server):
        runs += measure_all(bare_target(BARE_WS, [port], [ws_server]), sizes)
    port = free_port()
    relay = daphne("channels relay", "bench.baseline_app:application", port, {})
    with serving(relay):
        runs += measure_all(bare_target(ONE_RELAY, [port], [relay]), sizes)
    with own_redis() as (redis_url, _):
        ports = [free_port(), free_port()]
        relays = [
            daphne(
                f"channels relay {i}",
                "bench.baseline_app:application",
                p,
                {"CENCOMM_BENCH_RELAY_REDIS": redis_url, "CENCOMM_CHANNEL_PREFIX": f"relay-{os.getpid()}"},
            )
            for i, p in enumerate(ports)
        ]
        with serving(*relays):
            runs += measure_all(bare_target(TWO_RELAYS, ports, relays), sizes)
        with hub_database("cencomm_bench_fanout") as hub:
            world = seed(hub, officers=max(sizes), coordinators=SENDERS, rooms=True)
            runs += hub_runs(hub, world, sizes, redis_url)
    return runs


def hub_runs(hub: HubEnv, world: dict[str, Any], sizes: Sequence[int], redis_url: str) -> list[Run]:
    runs = []
    port = free_port()
    one = daphne("hub", "asgi:application", port, hub.env(port))
    with serving(one):
        runs += measure_all(hub_target(ONE_HUB, world, [port], [one]), sizes)
    ports = [free_port(), free_port()]
    two = [
        daphne(f"hub {i}", "asgi:application", p, hub.env(p, redis=redis_url, origins=ports))
        for i, p in enumerate(ports)
    ]
    with serving(*two):
        runs += measure_all(hub_target(TWO_HUBS, world, ports, two), sizes)
    return runs


def ratios(runs: list[Run]) -> list[list[str]]:
    by = {(r.target, r.n): r for r in runs}
    rows = []
    for hub_name, base in PAIRS:
        for n in sorted({r.n for r in runs}):
            h, b = by.get((hub_name, n)), by.get((base, n))
            if h and b:
                rows.append(
                    [
                        hub_name,
                        base,
                        f"{n:,}" if h.connected == n else f"{n:,} (hub: only {h.connected:,})",
                        ratio(h.per_second, b.per_second),
                        ratio(percentile(h.latencies, 50), percentile(b.latencies, 50)),
                        ratio(percentile(h.latencies, 99), percentile(b.latencies, 99)),
                        ms(percentile(h.latencies, 99)),
                        ms(percentile(h.from_stored, 99)),
                    ]
                )
    return rows


def report(runs: list[Run]) -> str:
    rows = [
        [
            r.target,
            f"{r.connected:,}" if r.connected == r.n else f"**{r.connected:,} of {r.n:,}**",
            r.messages,
            f"{r.deliveries:,}",
            r.missing,
            f"{r.per_second:,.0f}",
            ms(percentile(r.latencies, 50)),
            ms(percentile(r.latencies, 99)),
            ms(percentile(r.from_stored, 50)),
            ms(percentile(r.from_stored, 99)),
            f"{r.server_cpu:.0%}",
            f"{r.client_cpu:.0%}",
            f"{r.connect_seconds:.1f}",
            f"{r.settle_seconds:.0f}",
            len(r.retried),
        ]
        for r in runs
    ]
    header = [
        "server",
        "clients",
        "messages",
        "deliveries",
        "missing",
        "deliveries/s",
        "p50 ms",
        "p99 ms",
        "p50 ms from commit",
        "p99 ms from commit",
        "server CPU",
        "client CPU",
        "connect s",
        "settle s",
        "retried",
    ]
    ratio_rows = ratios(runs)
    retries = [
        f"{r.target} × {r.n:,}: {len(r.retried)} handshakes tried again, first error `{r.retried[0]}`"
        for r in runs
        if r.retried
    ]
    return "\n\n".join(
        [
            HOW_MEASURED.format(
                senders=SENDERS,
                timeout=TIMEOUT,
                warmup=WARMUP,
                retries=RETRIES,
                concurrency=CONCURRENCY,
                within=", ".join(f"{s:.0f} s for {n:,}" for n, s in sorted(CONNECT_WITHIN.items())),
            ),
            table(header, rows),
            *retries,
            "Ratios, hub / baseline in this run (deliveries per second: below 1 is slower; latency: above 1 "
            "is slower). The issue's targets at 1,000 sockets: deliveries/s at least 1.0× the like-for-like "
            "relay, p99 under 500 ms:",
            table(
                [
                    "hub",
                    "baseline",
                    "clients",
                    "deliveries/s",
                    "p50 latency",
                    "p99 latency",
                    "hub p99 ms",
                    "hub p99 ms from commit",
                ],
                ratio_rows,
            ),
            FINDINGS,
        ]
    )


HOW_MEASURED = """\
**How measured.** One client process (Python, `websockets`) opens N receiving sockets and {senders}
sending sockets to the server under test, all on 127.0.0.1, on the same 2 cores as the servers.
Each sender keeps one message in flight: it sends, waits until all N receivers have it (or
{timeout:.0f} s pass, after which the rest count as *missing*), then sends the next, so there are at
most {senders} messages in flight and the latency is fan-out latency, not queueing behind a backlog.
Latency is from the sender's `send()` to each receiver's receipt of the frame that carries the
message (same clock, same process): for the hub it includes storing the message. *From commit*:
for the hub, from the moment its `sent` reply (written after the message's transaction committed)
reached the sender to each receipt, a close lower bound of commit→receive (it can be slightly
negative); for the baselines, which store nothing, the same as from `send()`. {warmup} warm-up messages are
not counted. *Hub*: daphne serving `asgi:application` on PostgreSQL (a fresh database
`cencomm_bench_fanout`, dropped afterwards), each receiver a different officer with a
TOTP-verified session cookie (the browser's way in; programs use `Authorization: Bearer`) and an
allowed Origin, joined to the operation-wide room with the real `subscribe` frame (`after_seq` =
the head its `hello` gave); senders are coordinators posting real `send` frames (stored
encrypted, sequence-numbered, published on commit). Only the per-socket frame rate limit is
raised for the senders (`bench/hub_settings.py`). *Channels relay* (`bench/baseline_app.py`):
daphne, one consumer class that `group_send`s each frame to one group. *1 process*: the in-memory
channel layer (capacity 1,000 per channel, as the hub's). *2 processes + Redis*: two daphne
processes on one channels-redis layer configured as the hub's (a redis-server the benchmark starts
on a free port and stops), receivers and senders alternating between them, for the hub and the
relay alike. *Bare websockets* (`bench/bare_ws.py`): `websockets.broadcast` of each frame. The
baselines relay a frame of about the size of the hub's rendered message. *Server CPU* is the
server processes' CPU time over the measured phase divided by its length (100% = one core);
*client CPU* the same for the harness. Sockets open {concurrency} handshakes at a time (*connect
s*: until all are open and joined); a failed handshake is tried again a second later, up to
{retries} times (*retried*); the hub's receivers not open within {within} are left out, and
the *clients* column says how many took part. Before the first message the harness waits until the
servers have finished the connections' work (under 25% of a core each over 2 s; at least 3 s, at
most 60 s: *settle s*)."""

FINDINGS = """\
**How to read it.**

- Compare ratios within one run, not figures across runs: the client harness, the servers,
  PostgreSQL and Redis share 2 cores with whatever else runs (the load average above). The bare
  websockets figures are bounded by the Python client (its *client CPU* near 100%), not by the server.
- *The in-memory relay slows down as N grows*: `InMemoryChannelLayer.receive()` walks every channel
  and group member on each receive (`_clean_expired`), O(N) per delivery, O(N²) per message. A
  server that hands one frame to its own sockets without a layer receive per socket does not pay it.
- *On two processes* each delivery batch also passes through Redis; on this 2-core machine the
  second process has no idle core of its own (the client, PostgreSQL and Redis need them too), so
  two processes show what the Redis path costs more than what a second core would add."""


def run() -> str:
    note = load_note()
    return note + "\n\n" + report(collect())


if __name__ == "__main__":  # a quick try at other sizes: python -m bench.bench_fanout 20 50
    import sys

    note = load_note()
    print(note + "\n\n" + report(collect([int(a) for a in sys.argv[1:]] or SIZES)))
