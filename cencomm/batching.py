"""Writes that many sockets make at once, done as one statement: a per-process group commit.

A burst of sockets connecting (after a deploy, a network blip) would each write its own row, one
behind the other on the process's database thread. A ``Batcher`` collects what the sockets of this
process (event loop) hand it while a write is under way, and writes them with the next call of its
``write`` (one statement for the lot); each caller waits for the write that carried its item, so
it can read its own write afterwards. A failed write fails every caller in it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from channels.db import database_sync_to_async

T = TypeVar("T")
MAX_ITEMS = 500  # items in one write, at most

_instances: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Batcher[Any]]] = (
    weakref.WeakKeyDictionary()
)


class Batcher(Generic[T]):
    @classmethod
    def current(cls, name: str, write: Callable[[list[T]], None]) -> Batcher[T]:
        """The batcher called ``name`` of the running event loop (made on first use)."""
        per_loop = _instances.setdefault(asyncio.get_running_loop(), {})
        if name not in per_loop:
            per_loop[name] = cls(write)
        return per_loop[name]

    def __init__(self, write: Callable[[list[T]], None]) -> None:
        self.write = write
        self.queue: list[tuple[T, asyncio.Future[None]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def add(self, item: T) -> None:
        """Write ``item`` with the others; returns once it is written (raises if that failed)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.append((item, done))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.ensure_future(self._write_all())
        await asyncio.shield(done)  # a caller that stops waiting does not stop the write

    async def _write_all(self) -> None:
        await asyncio.sleep(0)  # what this turn of the loop adds goes in the first write
        while self.queue:
            batch, self.queue = self.queue[:MAX_ITEMS], self.queue[MAX_ITEMS:]
            try:
                await database_sync_to_async(self.write)([item for item, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
