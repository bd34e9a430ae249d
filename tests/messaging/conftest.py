"""Helpers for the rooms tests: signed-in sockets to the real ASGI app, frames by type."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async

from tests.conftest import verified_client, ws_communicator


class Socket:
    """A member's socket to ``/ws/operations/<code>/rooms/`` with the frames it has received."""

    def __init__(self, communicator: Any, hello: dict[str, Any]) -> None:
        self.comm = communicator
        self.hello = hello
        self.seen: list[dict[str, Any]] = []
        self.buffer: list[dict[str, Any]] = []

    def room(self, kind: str, name: str | None = None) -> int:
        return next(
            r["id"] for r in self.hello["rooms"] if r["kind"] == kind and (name is None or r["name"] == name)
        )

    async def send(self, frame: dict[str, Any]) -> None:
        await self.comm.send_json_to(frame)

    async def frame(self, kind: str, timeout: float = 3) -> dict[str, Any]:
        """The next frame of type ``kind``; frames of other types wait in ``buffer`` for their turn."""
        return await self.frame_any((kind,), timeout)

    async def frame_any(self, kinds: tuple[str, ...], timeout: float = 3) -> dict[str, Any]:
        for i, frame in enumerate(self.buffer):
            if frame["type"] in kinds:
                return self.buffer.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.comm.receive_json_from(timeout=max(0.01, deadline - loop.time()))
            self.seen.append(frame)
            if frame["type"] in kinds:
                return frame
            self.buffer.append(frame)

    async def messages(self, count: int, timeout: float = 3) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        while len(got) < count:
            got.extend((await self.frame("messages", timeout))["messages"])
        return got

    async def post(self, room: int, text: str, **extra: Any) -> dict[str, Any]:
        ref = uuid.uuid4().hex[:12]
        await self.send(
            {
                "type": "send",
                "ref": ref,
                "room": room,
                "client_id": str(extra.pop("client_id", uuid.uuid4())),
                "text": text,
                **extra,
            }
        )
        while True:
            frame = await self.frame_any(("sent", "error"))
            if frame.get("ref") == ref:
                return frame

    async def nothing_more(self, timeout: float = 0.3) -> bool:
        """No message frames arrive (presence and heartbeats aside)."""
        if any(f["type"] in ("messages", "ack") for f in self.buffer):
            return False
        # receive_nothing waits without cancelling the application (a receive timeout would).
        while not await self.comm.receive_nothing(timeout=timeout):
            frame = await self.comm.receive_json_from()
            self.seen.append(frame)
            if frame["type"] in ("messages", "ack"):
                return False
        return True

    async def close(self) -> None:
        await self.comm.disconnect()


async def open_socket(user: Any, code: str = "TEST-OP", *, subscribe: dict[int, int] | None = None) -> Socket:
    client = await database_sync_to_async(verified_client)(user)
    comm = ws_communicator(f"/ws/operations/{code}/rooms/", client=client)
    connected, close_code = await comm.connect()
    assert connected, close_code
    hello = await comm.receive_json_from()
    assert hello["type"] == "hello"
    socket = Socket(comm, hello)
    if subscribe is not None:
        rooms = [{"room": r, "after_seq": s} for r, s in subscribe.items()] or [
            {"room": r["id"], "after_seq": r["seq"]} for r in hello["rooms"]
        ]
        await socket.send({"type": "subscribe", "ref": "sub", "rooms": rooms})
        for _ in rooms:
            await socket.frame("subscribed")
    return socket


@pytest.fixture
def sockets() -> Any:
    return open_socket


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    from cencomm.crypto import key_cache
    from messaging.selectors import caches_clear
    from messaging.presence import _presence_announced

    caches_clear()
    key_cache.clear()
    _presence_announced.clear()
