"""Reconnect storm: 1,000 rooms sockets dropped at once, 100 messages posted while they are away,
then every socket reconnects as the page does and catches up with ``subscribe`` + ``after_seq``.

Measured: the time from the moment the sockets may reconnect until every one of them holds every
message (and how long until all are open again), handshakes refused or failed, and a check that
every socket got every seq exactly once, nothing missing, nothing twice.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench._harness import (
    daphne,
    free_port,
    hub_database,
    load_note,
    log,
    own_redis,
    percentile,
    raise_nofile,
    seed,
    serving,
    settle,
    table,
)
from bench._rooms import Api, Member, close_all, connect_all, first_errors, members, room_urls

TITLE = "Reconnect storm: every socket dropped at once, catch-up after the gap"

SOCKETS = int(os.environ.get("CENCOMM_BENCH_STORM_SOCKETS") or 1000)
AWAY_MESSAGES = 100  # posted through the API while every socket is away
BEFORE = 3  # posted (and checked delivered) before the drop
CATCH_UP_WITHIN = 60.0  # seconds (6× the target); a socket not caught up by then counts as not caught up
TARGET_SECONDS = 10.0


@dataclass
class Storm:
    setup: str
    sockets: int
    connected: int = 0
    before_ok: int = 0  # sockets that had the messages posted before the drop
    posted: int = 0
    post_failures: int = 0
    post_seconds: float = 0.0
    open_again: int = 0
    all_open_seconds: float = float("nan")
    caught_up: int = 0
    all_caught_up_seconds: float = float("nan")
    caught_up_times: list[float] = field(default_factory=list)
    missing: int = 0
    duplicated: int = 0
    attempts: int = 0  # reconnection handshakes, all sockets
    shed: int = 0  # of those, shed by the hub (overloaded, 4503)
    close_codes: Counter[int | None] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


async def storm(setup: str, world: dict[str, Any], ports: Sequence[int], servers: Sequence[Any]) -> Storm:
    result = Storm(setup, SOCKETS)
    group = members(room_urls(world, ports, SOCKETS), world["room"])
    api = Api(ports, world["code"], world["room"], world["tokens"])
    try:
        await connect_all(group, concurrency=50, within=120.0)
        result.connected = sum(m.open for m in group)
        log(f"{setup}: {result.connected}/{SOCKETS} subscribed")
        group = [m for m in group if m.open]  # the storm is about those that were in
        await settle(servers)
        seqs = await api.post_many(BEFORE, parallel=1)
        head = max(seqs, default=0)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(m.held >= head for m in group):
            await asyncio.sleep(0.2)
        result.before_ok = sum(m.held >= head for m in group)

        for m in group:  # the blip: every TCP connection lost at once, no closing handshake
            m.drop()
        await asyncio.sleep(0.5)
        for m in group:
            m.close_codes.clear()
            m.attempts = m.shed = 0
            m.errors.clear()
        t0 = time.perf_counter()
        seqs = await api.post_many(AWAY_MESSAGES, parallel=4)
        result.post_seconds = time.perf_counter() - t0
        result.posted, result.post_failures = len(seqs), AWAY_MESSAGES - len(seqs)
        head = max(seqs, default=head)
        log(f"{setup}: {result.posted} posted while away in {result.post_seconds:.1f} s, head {head}")

        caught: dict[int, float] = {}
        released = time.perf_counter()

        def note(m: Member, seq: int, now: float) -> None:
            if seq >= head and id(m) not in caught and m.held >= head:
                caught[id(m)] = now - released

        for m in group:
            m.on_seq = note
        opening = asyncio.ensure_future(
            connect_all(group, concurrency=len(group), within=CATCH_UP_WITHIN, backoff=True)
        )
        deadline = time.monotonic() + CATCH_UP_WITHIN
        while time.monotonic() < deadline and len(caught) < len(group):
            await asyncio.sleep(0.1)
        result.all_open_seconds = await opening
        result.open_again = sum(m.open for m in group)
        result.caught_up = len(caught)
        result.caught_up_times = sorted(caught.values())
        if len(caught) == len(group):
            result.all_caught_up_seconds = max(caught.values())
        if result.open_again < len(group):
            result.all_open_seconds = float("nan")
        for m in group:
            missing, duplicated = m.exactly_once(head)
            result.missing += missing
            result.duplicated += duplicated
            result.attempts += m.attempts
            result.shed += m.shed
            result.close_codes.update(m.close_codes)
        result.errors = first_errors(group)
    finally:
        await close_all(group)
    log(
        f"{setup}: {result.caught_up}/{len(group)} caught up, all in {result.all_caught_up_seconds:.1f} s, "
        f"missing {result.missing}, duplicated {result.duplicated}, attempts {result.attempts}, {result.errors}"
    )
    return result


def collect() -> list[Storm]:
    raise_nofile()
    results = []
    with hub_database("cencomm_bench_storm") as hub, own_redis() as (redis_url, _):
        world = seed(hub, officers=SOCKETS, coordinators=4, tokens=4, rooms=True)
        port = free_port()
        with serving(daphne("hub", "asgi:application", port, hub.env(port))) as servers:
            results.append(asyncio.run(storm("hub, 1 process", world, [port], servers)))
        ports = [free_port(), free_port()]
        two = [
            daphne(f"hub {i}", "asgi:application", p, hub.env(p, redis=redis_url, origins=ports))
            for i, p in enumerate(ports)
        ]
        with serving(*two) as servers:
            results.append(asyncio.run(storm("hub, 2 processes + Redis", world, ports, servers)))
    return results


def seconds(value: float) -> str:
    return "—" if value != value else f"{value:.1f}"


def report(results: list[Storm]) -> str:
    rows = []
    for r in results:
        in_storm = r.connected
        rows.append(
            [
                r.setup,
                f"{r.connected:,} of {r.sockets:,}",
                f"{r.before_ok:,}",
                f"{r.posted} ({r.post_failures} failed)",
                f"{r.open_again:,}",
                seconds(r.all_open_seconds),
                f"{r.caught_up:,} of {in_storm:,}",
                seconds(percentile(r.caught_up_times, 50)),
                seconds(percentile(r.caught_up_times, 99)),
                seconds(r.all_caught_up_seconds),
                r.missing,
                r.duplicated,
                f"{r.attempts:,}",
                f"{r.shed:,}",
                ", ".join(f"{c}: {n}" for c, n in sorted(r.close_codes.items(), key=str)) or "—",
                "yes" if r.caught_up == in_storm and r.all_caught_up_seconds <= TARGET_SECONDS else "**no**",
            ]
        )
    header = [
        "hub",
        "sockets in",
        "had the messages before",
        "posted while away",
        "open again",
        "all open s",
        "caught up",
        "p50 s",
        "p99 s",
        "all caught up s",
        "missing",
        "twice",
        "handshakes",
        "shed (4503)",
        "closes seen (code: n)",
        f"target (all within {TARGET_SECONDS:.0f} s)",
    ]
    errors = [f"{r.setup}: {'; '.join(r.errors)}" for r in results if r.errors]
    return "\n\n".join(
        [
            HOW_MEASURED.format(sockets=SOCKETS, before=BEFORE, away=AWAY_MESSAGES, within=CATCH_UP_WITHIN),
            table(header, rows),
            *(["Failed attempts (most common first): " + " · ".join(errors)] if errors else []),
        ]
    )


HOW_MEASURED = """\
**How measured.** The hub (daphne, `asgi:application`, PostgreSQL database `cencomm_bench_storm`
dropped afterwards) on one process with the in-memory layer, then on two processes over
channels-redis (a redis-server of the benchmark's own). {sockets:,} officers, each with a
TOTP-verified session cookie, open a rooms socket (50 handshakes at a time), `subscribe` to the
operation room at the head their `hello` gave, and receive {before} messages posted through the API
(coordinators' bearer tokens). Then every socket's TCP connection is aborted at once (no closing
handshake: a network blip), and {away} messages are posted through the API, 4 at a time, alternating
between the processes, while they are away. Then every socket reconnects as the page does
(`frontend/static/frontend/js/app.js` `reconnectDelay`: full jitter, a first wait anywhere in 0–500 ms,
the step doubling after each failure up to 30 s, and no sooner than the `retry_after` of a socket the
hub shed with 4503), with no client-side limit on handshakes in flight; on `hello` it
sends `subscribe` with `after_seq` = the highest seq it holds and reads until `subscribed`.
*Caught up*: the socket holds the last posted seq (times from the moment reconnecting was allowed;
*all caught up s* is the last socket's); a socket not caught up within {within:.0f} s (attempts then under
way are let finish, at most 30 s more) counts as not caught up. *Missing* / *twice*: over all sockets, the seqs between each socket's first cursor and the
head that it never got, and those it got more than once (the check is exact: every seq once). *Handshakes*: reconnection
attempts of all sockets (1 per socket when none failed); *shed*: of those, the attempts the hub
answered `overloaded` and closed with 4503; *closes seen*: close codes the sockets were given while
reconnecting."""


def run() -> str:
    note = load_note()
    return note + "\n\n" + report(collect())


if __name__ == "__main__":
    print(run())
