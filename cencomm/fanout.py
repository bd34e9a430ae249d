"""One channel per process in a group, and this process's sockets behind it.

With a channel per socket in a room's group, a hint costs the channel layer one message per socket,
and every socket wakes to do the same work (read, open, render, encode). Here each process (each
event loop) has one channel per kind of fan-out: it joins a group once, when its first local
subscriber does, and leaves when the last one goes. A hint for the group wakes one handler in the
process, which does the shared work once and hands the result to the local subscribers
(``messaging.fanout`` for rooms). Hints for one group are handled one batch at a time and in order:
those that arrive while a batch runs are handed over together with the next.

The receive runs only while something is subscribed, and ends as a socket's does: with a message
to its own channel (a cancelled channels-redis receive can hang the event loop's shutdown). While
the layer fails (Redis down) the receive retries with a jittered, capped pause, and joins its groups
again once the layer answers (a restarted Redis lost them); the sockets' heartbeats fill the gap
from the database meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from channels.layers import get_channel_layer

from cencomm import metrics
from cencomm.live import LAYER, describe, layer_call

log = logging.getLogger(__name__)
Event = dict[str, Any]
Handler = Callable[[str, list[Event], list[Any]], Awaitable[None]]
LAYER_SECONDS = 5  # one channel-layer call (joining, leaving a group, the stop message), at most
RETRY_SECONDS = (0.5, 2.0)  # the receive's pause after a failure, first and longest: one per process,
# so it probes often (live hints resume within about 3 s of Redis coming back)
STOP = "fanout.stop"
PROBE = "fanout.probe"  # sent to its own channel while the layer is failing: its arrival says it is back

_instances: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Fanout]] = (
    weakref.WeakKeyDictionary()
)


def _layer_went_down() -> None:
    """``LAYER.on_down``: every fan-out of this process probes until the layer is back."""
    for loop, per_loop in list(_instances.items()):
        if loop.is_closed():
            continue
        for fanout in list(per_loop.values()):
            loop.call_soon_threadsafe(fanout.layer_went_down)


LAYER.on_down.append(_layer_went_down)


class Fanout:
    """A group fan-out of this event loop: ``subscribe(group, subscriber)``; ``handler(group,
    events, subscribers)`` runs for each batch of the group's hints (``group_of`` names the group of
    a hint, since the layer does not)."""

    @classmethod
    def current(cls, name: str, *, handler: Handler, group_of: Callable[[Event], str | None]) -> Fanout:
        """The fan-out called ``name`` of the running event loop (made on first use)."""
        loop = asyncio.get_running_loop()
        per_loop = _instances.setdefault(loop, {})
        if name not in per_loop:
            per_loop[name] = cls(handler=handler, group_of=group_of)
        return per_loop[name]

    def __init__(self, *, handler: Handler, group_of: Callable[[Event], str | None]) -> None:
        self.layer = get_channel_layer()
        self.handler = handler
        self.group_of = group_of
        self.channel: str | None = None
        self.channel_lock = asyncio.Lock()
        self.subscribers: dict[str, dict[Hashable, None]] = {}  # group -> subscribers, in joining order
        self.joins: dict[str, asyncio.Task[bool]] = {}  # group -> its group_add (awaited by each joiner)
        self.pending: dict[str, list[Event]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.receiver: asyncio.Task[None] | None = None
        self.rejoining: asyncio.Task[None] | None = None
        self.prober: asyncio.Task[None] | None = None
        self.layer_failed = False

    def local(self, group: str) -> list[Any]:
        return list(self.subscribers.get(group, ()))

    async def subscribe(self, group: str, subscriber: Hashable) -> bool:
        """Add ``subscriber`` to ``group``; returns once this process's channel is in the group (so a
        read that follows misses no hint), or False when the layer is down (the heartbeat fills in)."""
        async with self.channel_lock:  # one channel, however many subscribe at once
            if not self.subscribers and (self.receiver is None or self.receiver.done()):
                self.layer, self.channel = get_channel_layer(), None  # idle: the layer as configured now
            if self.channel is None:
                self.channel = await self.layer.new_channel()
        self.subscribers.setdefault(group, {})[subscriber] = None
        self._receive_in_background()
        join = self.joins.get(group)
        if join is None or (join.done() and not join.result()):
            join = self.joins[group] = asyncio.ensure_future(self._group_add(group))
        return await asyncio.shield(join)

    async def unsubscribe(self, group: str, subscriber: Hashable) -> None:
        if self.forget(group, subscriber):
            await self.release(group)

    def forget(self, group: str, subscriber: Hashable) -> bool:
        """Take ``subscriber`` out of ``group`` here and now (no await: it is handed nothing more);
        True when nobody here follows the group any more (then ``release`` it)."""
        members = self.subscribers.get(group)
        if members is None or subscriber not in members:
            return False
        del members[subscriber]
        if members:
            return False
        del self.subscribers[group]
        self.joins.pop(group, None)
        return True

    async def release(self, group: str) -> None:
        """The layer's side of a group nobody here follows: leave it, and stop receiving if nothing
        is followed any more (bounded)."""
        await self._group_discard(group)
        if group in self.subscribers and group not in self.joins:  # someone joined meanwhile
            self.joins[group] = asyncio.ensure_future(self._group_add(group))
        if not self.subscribers:
            await self._stop()

    async def _group_add(self, group: str) -> bool:
        assert self.channel is not None
        return await layer_call("group_add", self.layer.group_add(group, self.channel))

    async def _group_discard(self, group: str) -> None:
        assert self.channel is not None
        await layer_call("group_discard", self.layer.group_discard(group, self.channel))

    # --- the receive ----------------------------------------------------------------------------

    def _receive_in_background(self) -> None:
        if self.receiver is None or self.receiver.done():
            self.receiver = asyncio.ensure_future(self._receive())

    async def _stop(self) -> None:
        """Nothing subscribed: end the receive with a message to its own channel, bounded; cancel it
        only if that did not reach it (the layer is down: then it is sleeping, and cancels)."""
        receiver = self.receiver
        if receiver is None or receiver.done():
            return
        try:
            async with asyncio.timeout(LAYER_SECONDS):
                await self.layer.send(self.channel, {"type": STOP})
            await asyncio.wait([receiver], timeout=LAYER_SECONDS)
        except Exception as exc:
            log.debug("could not wake the fan-out's receive: %s", describe(exc))
        if not receiver.done() and not self.subscribers:
            receiver.cancel()
            await asyncio.wait([receiver], timeout=LAYER_SECONDS)

    async def _receive(self) -> None:
        assert self.channel is not None
        pause = RETRY_SECONDS[0]
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down or restarting: wait for it
                LAYER.failed(exc)
                if not self.layer_failed:
                    self.layer_failed = True
                    metrics.CHANNEL_LAYER_ERRORS.labels("receive").inc()
                await asyncio.sleep(pause * (0.5 + random.random()))  # jittered: not all at once
                pause = min(pause * 2, RETRY_SECONDS[1])
                await self._probe()
                continue
            pause = RETRY_SECONDS[0]
            if self.layer_failed:  # back: join the groups again (a restarted Redis lost them)
                self.layer_failed = False
                LAYER.answered()
                for group in list(self.subscribers):
                    self.joins[group] = asyncio.ensure_future(self._group_add(group))
                self.rejoining = asyncio.ensure_future(self._until_joined(list(self.joins.values())))
            if message.get("type") == PROBE:
                continue
            if message.get("type") == STOP:
                if not self.subscribers:
                    self.receiver = None  # decided with no await in between: a new subscriber starts anew
                    return
                continue
            group = self.group_of(message)
            if group is None or group not in self.subscribers:
                continue
            committed_at = message.get("committed_at")  # stamped by cencomm.live on commit
            if isinstance(committed_at, float):
                metrics.DELIVERY_LAG.labels(str(message.get("type"))).observe(
                    max(0.0, time.time() - committed_at)
                )
            self.pending.setdefault(group, []).append(message)
            worker = self.workers.get(group)
            if worker is None or worker.done():
                self.workers[group] = asyncio.ensure_future(self._work(group))

    def layer_went_down(self) -> None:
        """Someone in this process saw the layer fail. This receive may be waiting its turn behind
        another (channels-redis lets one receive at a time talk to Redis) and never see it, while a
        restarted Redis loses this process's groups: probe until a probe comes through, which
        makes the receive join them again."""
        if not self.subscribers or self.channel is None or self.layer_failed:
            return
        self.layer_failed = True
        if self.prober is None or self.prober.done():
            self.prober = asyncio.ensure_future(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        pause = RETRY_SECONDS[0]
        while self.layer_failed and self.subscribers:
            await asyncio.sleep(pause * (0.5 + random.random()))
            if await self._probe():
                return
            pause = min(pause * 2, RETRY_SECONDS[1])

    async def _until_joined(self, joins: list[asyncio.Task[bool]]) -> None:
        """The groups joined again after the layer came back; if one failed (a pooled connection
        that died with the old server fails once), the layer counts as failing again and a probe,
        after a pause, makes the receive join them anew."""
        done = await asyncio.gather(*joins, return_exceptions=True)
        if all(result is True for result in done):
            return
        self.layer_failed = True
        await asyncio.sleep(RETRY_SECONDS[0] * (0.5 + random.random()))
        await self._probe()

    async def _probe(self) -> bool:
        """A message to the receive's own channel. A restarted Redis lost this process's groups, so
        no hint would ever arrive to say it is back, and the groups are joined again only once
        something arrives: this does (or fails, bounded, while the layer is still down)."""
        return await layer_call("probe", self.layer.send(self.channel, {"type": PROBE}), probe=True)

    async def _work(self, group: str) -> None:
        """Hand the group's hints to the handler, a batch at a time, until none are left."""
        while True:
            events = self.pending.pop(group, None)
            if not events:
                self.workers.pop(group, None)
                return
            subscribers = self.local(group)
            if not subscribers:
                continue
            try:
                await self.handler(group, events, subscribers)
            except Exception:  # one bad batch must not stop the group; the heartbeat repairs
                log.warning("fan-out of %s failed", group, exc_info=True)
