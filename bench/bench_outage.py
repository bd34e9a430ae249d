"""Redis-outage drill: two hub processes on a Redis of the benchmark's own, which is killed and restarted.

N rooms sockets stay subscribed while messages are posted through the API at a steady pace before,
during and after the outage. Measured: sockets kept, messages delivered during the outage (the
database gap-fill) and how fast, how long until live hints resume once Redis is back, requests
that failed (API posts, new sockets, ``/healthz``), and whether every socket ends with every
message exactly once.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench._harness import (
    daphne,
    free_port,
    hub_database,
    load_note,
    log,
    ms,
    percentile,
    raise_nofile,
    redis_server,
    seed,
    settle,
    table,
)
from bench._rooms import Api, Member, close_all, connect_all, first_errors, members, room_urls

TITLE = "Redis outage: two processes, Redis killed and restarted"

SOCKETS = int(os.environ.get("CENCOMM_BENCH_OUTAGE_SOCKETS") or 300)
NEW_SOCKETS = 20  # opened during the outage, and again just after Redis is back
BEFORE, OUTAGE, AFTER = 5.0, 10.0, 40.0  # seconds of each phase
WARMUP = 4  # posts before the measured ones (each process's first post warms its caches)
PACE = 0.5  # seconds between posts
LIVE = 0.5  # a message reached every open socket within this of its post: live hints work
PHASES = ("before", "outage", "after")
AFTER_WINDOWS = ((0, 5), (5, 15), (15, 40))


@dataclass
class Post:
    phase: str
    sent_at: float  # perf_counter
    seq: int | None
    seconds: float


@dataclass
class Drill:
    sockets: int
    connected: int = 0
    kept: int = 0
    posts: list[Post] = field(default_factory=list)
    api_failures: list[str] = field(default_factory=list)
    deliveries: dict[str, list[float]] = field(default_factory=dict)  # phase -> latencies (s)
    delivered_in_outage: int = 0  # deliveries of outage posts that arrived before Redis was back
    expected_in_outage: int = 0
    live_again: float = float("nan")  # seconds after Redis was back
    new_sockets: dict[str, tuple[int, int, list[str]]] = field(default_factory=dict)
    health: dict[str, Counter[str]] = field(default_factory=dict)  # phase -> status counts
    health_ok_again: float = float("nan")
    missing: int = 0
    duplicated: int = 0
    close_codes: Counter[int | None] = field(default_factory=Counter)
    server_errors: int = 0
    redis_back_seconds: float = 0.0  # how long the restart took to listen
    windows: list[tuple[str, int, int, int, float]] = field(
        default_factory=list
    )  # label, posts, live, all, p50


class HealthPoller(threading.Thread):
    def __init__(self, ports: list[int]) -> None:
        super().__init__(daemon=True)
        self.ports = ports
        self.seen: list[
            tuple[float, int, str]
        ] = []  # (perf_counter, port, "200 ok" / "200 degraded" / error)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for port in self.ports:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/healthz")
                    response = conn.getresponse()
                    body = response.read()
                    conn.close()
                    try:
                        status = json.loads(body).get("status", "?")
                    except ValueError:
                        status = "not JSON"
                    self.seen.append((time.perf_counter(), port, f"{response.status} {status}"))
                except Exception as exc:
                    self.seen.append((time.perf_counter(), port, type(exc).__name__))
            self.stop.wait(0.5)


async def drill(world: dict[str, Any], ports: list[int], servers: list[Any], redis_port: int) -> Drill:
    result = Drill(SOCKETS)
    group = members(room_urls(world, ports, SOCKETS), world["room"])
    spare = iter(members(room_urls(world, ports, SOCKETS + 2 * NEW_SOCKETS)[SOCKETS:], world["room"]))
    api = Api(ports, world["code"], world["room"], world["tokens"])
    extra: list[Member] = []
    poller = HealthPoller(ports)
    phase = ["before"]
    marks: dict[str, float] = {}
    redis = [redis_server(redis_port)]
    stop_posting = asyncio.Event()

    async def poster() -> None:
        while not stop_posting.is_set():
            tick = time.perf_counter()
            current = phase[0]
            seq, seconds = await api.apost(f"drill {current}")
            result.posts.append(Post(current, tick, seq, seconds))
            await asyncio.sleep(max(0.0, PACE - (time.perf_counter() - tick)))

    async def newcomers(label: str) -> None:
        batch = [next(spare) for _ in range(NEW_SOCKETS)]
        extra.extend(batch)
        await connect_all(batch, concurrency=NEW_SOCKETS, within=15.0)
        result.new_sockets[label] = (sum(m.open for m in batch), len(batch), first_errors(batch))

    try:
        redis[0].start()
        for server in servers:
            server.start()
        await connect_all(group, concurrency=50, within=90.0)
        result.connected = sum(m.open for m in group)
        group = [m for m in group if m.open]
        log(f"outage drill: {result.connected}/{SOCKETS} subscribed")
        await settle(servers)
        for _ in range(WARMUP):
            await api.apost("drill warm-up")
        await asyncio.sleep(2.0)
        poller.start()
        posting = asyncio.ensure_future(poster())
        await asyncio.sleep(BEFORE)

        marks["kill"] = time.perf_counter()
        redis[0].kill()
        phase[0] = "outage"
        log("Redis killed")
        await asyncio.sleep(3.0)
        await newcomers("during the outage")
        await asyncio.sleep(max(0.0, OUTAGE - (time.perf_counter() - marks["kill"])))

        t = time.perf_counter()
        redis[0] = redis_server(redis_port)
        redis[0].start()
        marks["back"] = time.perf_counter()
        result.redis_back_seconds = marks["back"] - t
        phase[0] = "after"
        log("Redis back")
        await asyncio.sleep(1.0)
        await newcomers("just after Redis was back")
        await asyncio.sleep(max(0.0, AFTER - (time.perf_counter() - marks["back"])))
        stop_posting.set()
        await posting
        await asyncio.sleep(5.0)  # the last posts' deliveries
        poller.stop.set()
        poller.join(10)
        result.kept = sum(m.open for m in group)
        for m in group:
            result.close_codes.update(m.close_codes)
    finally:
        await close_all(group + extra)
        for server in servers:
            server.stop()
        redis[0].stop()

    head = max((p.seq for p in result.posts if p.seq is not None), default=0)
    result.api_failures = api.failures
    for m in group:
        missing, duplicated = m.exactly_once(head)
        result.missing += missing
        result.duplicated += duplicated
    for name in PHASES:
        result.deliveries[name] = [
            m.arrived[p.seq] - p.sent_at
            for p in result.posts
            if p.phase == name and p.seq is not None
            for m in group
            if p.seq in m.arrived
        ]
    outage_posts = [p for p in result.posts if p.phase == "outage" and p.seq is not None]
    result.expected_in_outage = len(outage_posts) * len(group)
    result.delivered_in_outage = sum(
        1 for p in outage_posts for m in group if m.arrived.get(p.seq, float("inf")) < marks["back"]
    )
    after = [p for p in result.posts if p.phase == "after" and p.seq is not None]

    def live(p: Post) -> bool:
        return all(m.arrived.get(p.seq, float("inf")) - p.sent_at <= LIVE for m in group)

    for i, p in enumerate(after):
        if all(live(q) for q in after[i : i + 3]):
            result.live_again = p.sent_at - marks["back"]
            break
    windows = [("before", None, marks["kill"]), ("outage", marks["kill"], marks["back"])]
    windows += [
        (f"{a:.0f}–{b:.0f} s after Redis was back", marks["back"] + a, marks["back"] + b)
        for a, b in AFTER_WINDOWS
    ]
    for label, start, end in windows:
        chosen = [
            p
            for p in result.posts
            if p.seq is not None and (start is None or p.sent_at >= start) and p.sent_at < end
        ]
        latencies = [m.arrived.get(p.seq, float("inf")) - p.sent_at for p in chosen for m in group]
        result.windows.append(
            (
                label,
                len(chosen),
                sum(1 for x in latencies if x <= LIVE),
                len(latencies),
                percentile(latencies, 50),
            )
        )
    for name in PHASES:
        result.health[name] = Counter()
    for at, _, status in poller.seen:
        name = "before" if at < marks["kill"] else "outage" if at < marks["back"] else "after"
        result.health[name][status] += 1
    bad_after = [at for at, _, status in poller.seen if at >= marks["back"] and status != "200 ok"]
    result.health_ok_again = max(bad_after, default=marks["back"]) - marks["back"]
    result.server_errors = sum(s.output(tail=None).count("Traceback") for s in servers)
    log(
        f"outage drill: kept {result.kept}/{len(group)}, outage deliveries {result.delivered_in_outage}/"
        f"{result.expected_in_outage}, live again after {result.live_again:.1f} s, missing {result.missing}, "
        f"api failures {len(result.api_failures)}, new sockets {result.new_sockets}, health {result.health}"
    )
    return result


def collect() -> Drill:
    raise_nofile()
    with hub_database("cencomm_bench_outage") as hub:
        world = seed(hub, officers=SOCKETS + 2 * NEW_SOCKETS, coordinators=2, tokens=2, rooms=True)
        redis_port = free_port()
        url = f"redis://127.0.0.1:{redis_port}/0"
        ports = [free_port(), free_port()]
        servers = [
            daphne(f"hub {i}", "asgi:application", p, hub.env(p, redis=url, origins=ports))
            for i, p in enumerate(ports)
        ]
        return asyncio.run(drill(world, ports, servers, redis_port))


def report(d: Drill) -> str:
    posts = Counter(p.phase for p in d.posts)
    failed = Counter(p.phase for p in d.posts if p.seq is None)
    rows = [
        [
            name,
            posts[name],
            failed[name],
            ms(percentile([p.seconds for p in d.posts if p.phase == name], 50)),
            f"{len(d.deliveries[name]):,}",
            ms(percentile(d.deliveries[name], 50)),
            ms(percentile(d.deliveries[name], 99)),
            ", ".join(f"{s}: {n}" for s, n in sorted(d.health[name].items())) or "—",
        ]
        for name in PHASES
    ]
    summary = [
        ["rooms sockets subscribed before the outage", f"{d.connected:,} of {d.sockets:,}"],
        ["still open at the end (kept through the outage)", f"{d.kept:,} of {d.connected:,}"],
        [
            "outage posts delivered before Redis was back (database gap-fill)",
            f"{d.delivered_in_outage:,} of {d.expected_in_outage:,}",
        ],
        [
            f"live again: first post after which every open socket got each of 3 posts within {LIVE * 1000:.0f} ms",
            "never" if d.live_again != d.live_again else f"{d.live_again:.1f} s after Redis was back",
        ],
        [
            "`/healthz` `200 ok` again (last other answer, after Redis was back)",
            f"{d.health_ok_again:.1f} s",
        ],
        ["API posts failed (all phases)", f"{len(d.api_failures)} of {len(d.posts)}"],
        *(
            [
                f"new sockets {label}",
                f"{ok} of {n} opened and subscribed" + (f" ({'; '.join(errs)})" if errs else ""),
            ]
            for label, (ok, n, errs) in d.new_sockets.items()
        ),
        ["messages missing / twice, over every kept socket (exact check)", f"{d.missing} / {d.duplicated}"],
        [
            "close codes the sockets saw",
            ", ".join(f"{c}: {n}" for c, n in sorted(d.close_codes.items(), key=str)) or "none",
        ],
        ["tracebacks in the hub processes' output", d.server_errors],
        ["redis-server restart took", f"{d.redis_back_seconds:.1f} s"],
    ]
    errors = Counter(e.split(" b'")[0] for e in d.api_failures).most_common(3)
    return "\n\n".join(
        [
            HOW_MEASURED.format(
                sockets=SOCKETS,
                before=BEFORE,
                outage=OUTAGE,
                after=AFTER,
                pace=PACE * 1000,
                new=NEW_SOCKETS,
                warmup=WARMUP,
            ),
            table(["", "result"], summary),
            "By phase (latency from the post's request to each socket's receipt):",
            table(
                [
                    "phase",
                    "posts",
                    "failed",
                    "post p50 ms",
                    "deliveries",
                    "delivery p50 ms",
                    "delivery p99 ms",
                    "`/healthz` answers",
                ],
                rows,
            ),
            f"Live or not: the share of (post, socket) deliveries that arrived within {LIVE * 1000:.0f} ms of the post "
            "(a live hint; the gap-fill while Redis is down runs every 2 s):",
            table(
                ["posted", "posts", f"within {LIVE * 1000:.0f} ms", "delivery p50 ms"],
                [
                    [label, n, f"{live:,} of {total:,} ({live / total:.0%})" if total else "—", ms(p50)]
                    for label, n, live, total, p50 in d.windows
                ],
            ),
            *(["API failures: " + " · ".join(f"{n} × `{e}`" for e, n in errors)] if errors else []),
        ]
    )


HOW_MEASURED = """\
**How measured.** Two hub processes (daphne, `asgi:application`, PostgreSQL database
`cencomm_bench_outage`, dropped afterwards) on channels-redis, on a redis-server the benchmark
starts on a free port (never the machine's own). {sockets:,} officers' rooms sockets (TOTP-verified
session cookies), split between the processes, subscribe to the operation room. A coordinator's
program posts a message through the API (`Authorization: Bearer`, alternating between the
processes) every {pace:.0f} ms throughout: {before:.0f} s before, {outage:.0f} s with Redis killed
(SIGKILL: no shutdown, every connection lost), and {after:.0f} s after a fresh redis-server (empty:
every group lost) listens on the same port. {new} new sockets are opened 3 s into the outage and {new}
more 1 s after Redis is back. `/healthz` of each process is asked every 0.5 s. At the end, 5 s after
the last post, every socket that was subscribed must hold every message since its subscribe exactly
once. {warmup} warm-up posts before the first measured one are not counted."""


def run() -> str:
    note = load_note()
    return note + "\n\n" + report(collect())


if __name__ == "__main__":
    print(run())
