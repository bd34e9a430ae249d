"""A rooms-protocol client for the benchmarks that check delivery, not only speed (storm, outage).

A :class:`Member` is one officer's rooms socket that records every ``seq`` it is sent in the
operation room, with the time it arrived, so a benchmark can check that every socket got every
message exactly once. It (re)connects as the page does (docs/protocol.md): read ``hello``, send
``subscribe`` with ``after_seq`` = the highest seq it holds (the room's head from ``hello`` the
first time), wait for ``subscribed``. :class:`Api` posts room messages through the REST API with a
bearer token, from threads (one keep-alive connection each).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import websockets

OPEN_TIMEOUT = 30.0  # one handshake, hello and subscribe, at most


class Overloaded(RuntimeError):
    """The hub shed this socket: an ``overloaded`` error frame with ``retry_after``, then close 4503."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"overloaded, retry after {retry_after} s")
        self.retry_after = retry_after


def page_delay(attempt: int, retry_after: float = 0.0) -> float:
    """The page's pause before reconnecting (frontend/static/frontend/js/app.js ``reconnectDelay``):
    full jitter, 0 to min(30 s, 500 ms × 2^attempt), no sooner than a shed socket's retry_after."""
    step = min(30.0, 0.5 * 2**attempt)
    floor = min(30.0, retry_after)
    return floor + random.random() * max(step, floor)


@dataclass
class Member:
    url: str
    headers: dict[str, str]
    room: int
    first: int | None = None  # the cursor of the first subscribe: the socket must get every seq past it
    seqs: list[int] = field(default_factory=list)  # every seq sent to it, in order of arrival
    arrived: dict[int, float] = field(default_factory=dict)  # seq -> first arrival (perf_counter)
    ws: Any = None
    reader: asyncio.Task[None] | None = None
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    close_codes: list[int | None] = field(default_factory=list)  # every close the server gave it
    errors: list[str] = field(default_factory=list)  # handshakes and frames that failed
    attempts: int = 0
    top: int = 0  # the highest seq it holds
    shed: int = 0  # attempts the hub shed (4503)
    on_seq: Callable[[Member, int, float], None] | None = None

    @property
    def held(self) -> int:
        return max(self.top, self.first or 0)

    @property
    def open(self) -> bool:
        return self.ws is not None and self.ws.state is websockets.State.OPEN

    def exactly_once(self, head: int) -> tuple[int, int]:
        """(missing, duplicated) seqs of (first, head]."""
        counts = Counter(self.seqs)
        wanted = range((self.first or 0) + 1, head + 1)
        missing = sum(1 for s in wanted if counts[s] == 0)
        duplicated = sum(c - 1 for c in counts.values() if c > 1) + sum(1 for s in counts if s not in wanted)
        return missing, duplicated

    async def connect(self) -> None:
        """One attempt: open, hello, subscribe from what it holds; raises on any failure."""
        self.attempts += 1
        self.subscribed = asyncio.Event()
        ws = await websockets.connect(
            self.url,
            additional_headers=self.headers,
            origin=None,
            ping_interval=None,
            max_size=2**24,
            open_timeout=OPEN_TIMEOUT,
            close_timeout=2,
            max_queue=None,
        )
        try:
            async with asyncio.timeout(OPEN_TIMEOUT):
                hello = json.loads(await ws.recv())
                if hello.get("type") == "error" and hello.get("code") == "overloaded":
                    await ws.wait_closed()
                    self.close_codes.append(ws.close_code)
                    raise Overloaded(float(hello.get("retry_after") or 0))
                if hello.get("type") != "hello":
                    raise RuntimeError(f"first frame {hello.get('type')!r}, not hello")
                head = next(r["seq"] for r in hello["rooms"] if r["id"] == self.room)
                if self.first is None:
                    self.first = head
                cursor = self.held
                await ws.send(
                    json.dumps({"type": "subscribe", "rooms": [{"room": self.room, "after_seq": cursor}]})
                )
                self.ws = ws
                self.reader = asyncio.ensure_future(self._read(ws))
                await self.subscribed.wait()
        except Overloaded:
            raise
        except BaseException as exc:
            if ws.close_code is not None:
                self.close_codes.append(ws.close_code)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)
            if isinstance(exc, websockets.ConnectionClosed):
                raise RuntimeError(f"closed with {exc.rcvd.code if exc.rcvd else None}") from exc
            raise

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "messages" and frame.get("room") == self.room:
                    for message in frame["messages"]:
                        seq = message["seq"]
                        self.seqs.append(seq)
                        self.top = max(self.top, seq)
                        self.arrived.setdefault(seq, now)
                        if self.on_seq is not None:
                            self.on_seq(self, seq, now)
                elif kind == "subscribed":
                    self.subscribed.set()
                elif kind == "error":
                    self.errors.append(f"error frame {frame.get('code')}: {frame.get('message', '')[:120]}")
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_codes.append(ws.close_code)
            self.subscribed.set()  # nobody waits for a subscribe that cannot come

    def drop(self) -> None:
        """Lose the connection as a network blip does: no closing handshake, the TCP socket aborted."""
        if self.ws is not None and self.ws.transport is not None:
            self.ws.transport.abort()

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)


def members(urls: Sequence[tuple[str, dict[str, str]]], room: int) -> list[Member]:
    return [Member(u, h, room) for u, h in urls]


async def connect_all(
    group: Sequence[Member],
    *,
    concurrency: int = 50,
    within: float = 120.0,
    backoff: bool = False,
) -> float:
    """Connect every member (``concurrency`` at a time); the seconds it took.

    Without ``backoff`` a failed attempt is tried again a second later (after a shed one, its
    retry_after). With it, every member waits as the page does (:func:`page_delay`), the first wait
    included (a reconnect after a drop). A member not connected within ``within`` seconds is given
    up (its errors say why).
    """
    gate = asyncio.Semaphore(concurrency)
    started = time.monotonic()
    deadline = started + within

    async def one(m: Member) -> None:
        attempt, retry_after = 0, 0.0
        while time.monotonic() < deadline:
            if backoff:
                await asyncio.sleep(page_delay(attempt, retry_after))
            attempt, retry_after = attempt + 1, 0.0
            try:
                async with gate:
                    await m.connect()
                if m.open:
                    return
                m.errors.append(f"closed while subscribing ({m.close_codes[-1] if m.close_codes else None})")
            except Overloaded as exc:
                m.errors.append(f"shed (4503): {exc}")
                m.shed += 1
                retry_after = exc.retry_after
            except Exception as exc:
                m.errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")
            if not backoff:
                await asyncio.sleep(max(1.0, retry_after))

    await asyncio.gather(*(one(m) for m in group))
    return time.monotonic() - started


async def close_all(group: Sequence[Member]) -> None:
    gate = asyncio.Semaphore(500)

    async def one(m: Member) -> None:
        async with gate:
            await m.close()

    await asyncio.gather(*(one(m) for m in group))


def first_errors(group: Sequence[Member], limit: int = 3) -> list[str]:
    counts = Counter(e.split(":")[0] if "closed" not in e else e for m in group for e in m.errors)
    return [f"{n} × `{e}`" for e, n in counts.most_common(limit)]


class Api:
    """Room messages through ``POST /api/v1/operations/{code}/rooms/{room}/messages``, from threads."""

    def __init__(self, ports: Sequence[int], code: str, room: int, tokens: Sequence[str]) -> None:
        self.ports, self.code, self.room, self.tokens = list(ports), code, room, list(tokens)
        self.local = threading.local()
        self.sent = 0
        self.lock = threading.Lock()
        self.failures: list[str] = []

    def _conn(self, port: int) -> http.client.HTTPConnection:
        conns = getattr(self.local, "conns", None)
        if conns is None:
            conns = self.local.conns = {}
        if port not in conns:
            conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        return conns[port]

    def post(self, text: str) -> tuple[int | None, float]:
        """(the message's seq, or None after a failure (recorded), the request's seconds)."""
        with self.lock:
            i = self.sent
            self.sent += 1
        port = self.ports[i % len(self.ports)]
        token = self.tokens[i % len(self.tokens)]
        body = json.dumps({"client_id": str(uuid.uuid4()), "text": text})
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        t0 = time.perf_counter()
        try:
            conn = self._conn(port)
            conn.request("POST", f"/api/v1/operations/{self.code}/rooms/{self.room}/messages", body, headers)
            response = conn.getresponse()
            content = response.read()
            if response.status in (200, 201):
                return json.loads(content)["seq"], time.perf_counter() - t0
            error = f"HTTP {response.status} {content[:120]!r}"
        except Exception as exc:
            self.local.conns.pop(port, None)  # a fresh connection for the next post
            error = f"{type(exc).__name__}: {str(exc)[:120]}"
        with self.lock:
            self.failures.append(error)
        return None, time.perf_counter() - t0

    async def apost(self, text: str) -> tuple[int | None, float]:
        return await asyncio.get_running_loop().run_in_executor(None, self.post, text)

    async def post_many(self, count: int, parallel: int = 4) -> list[int]:
        """``count`` posts, ``parallel`` at a time; the seqs stored (failures left out)."""
        seqs: list[int] = []
        queue = list(range(count))

        async def worker() -> None:
            while queue:
                i = queue.pop()
                seq, _ = await self.apost(f"storm {i}")
                if seq is not None:
                    seqs.append(seq)

        await asyncio.gather(*(worker() for _ in range(parallel)))
        return sorted(seqs)


def room_urls(world: dict[str, Any], ports: Sequence[int], n: int) -> list[tuple[str, dict[str, str]]]:
    """N officers' rooms sockets (session cookie and Origin), alternating between the ports."""
    urls = []
    for i in range(n):
        port = ports[i % len(ports)]
        urls.append(
            (
                f"ws://127.0.0.1:{port}/ws/operations/{world['code']}/rooms/",
                {"Origin": f"http://127.0.0.1:{port}", "Cookie": f"sessionid={world['officers'][i]}"},
            )
        )
    return urls
