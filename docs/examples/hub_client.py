"""A short client for programs (a national system, a dashboard) talking to the CENcomm hub.

It uses a personal API token (made on the hub's "API tokens" page, scoped to one operation), sent
as ``Authorization: Bearer cct_…`` both to the REST API and on the WebSocket handshake; never in a
URL. It posts results over the API, follows every room and the live board over sockets, and, when a
connection drops, reconnects with backoff and asks for what it missed: per room, the last ``seq`` and
``rev`` it holds (docs/protocol.md, "Delivery guarantees"); the board sends a fresh snapshot.

    pip install requests websockets
    export CENCOMM_TOKEN=cct_…
    python hub_client.py https://hub.example.org BALKAN-GATE follow            # JSON lines on stdout
    python hub_client.py https://hub.example.org BALKAN-GATE post-result r.json

Tested against a real hub by tests/messaging/test_example_client.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import uuid
from collections.abc import Callable
from typing import Any

import requests
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

# Close codes after which retrying with the same token cannot help (docs/protocol.md).
FINAL_CLOSE_CODES = {
    4400: "bad frames",
    4401: "token unknown, revoked or expired",
    4403: "Origin not allowed",
    4404: "no access",
    4413: "frame too large",
}


class Stopped(Exception):
    """The hub closed the socket for good (FINAL_CLOSE_CODES): fix the token or the access."""


class Hub:
    def __init__(self, base_url: str, token: str, operation: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.operation = operation
        self.headers = {"Authorization": f"Bearer {token}"}
        self.http = requests.Session()
        self.http.headers.update(self.headers)
        self.sockets: dict[str, ClientConnection] = {}  # the open socket of each follower, by kind
        # Per room, the highest seq and rev received: what a reconnect asks to continue after.
        self.cursors: dict[int, dict[str, int]] = {}

    # --- REST -----------------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/api/v1/operations/{self.operation}{path}"
        response = self.http.request(method, url, timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def post_result(self, result: dict[str, Any], attempts: int = 3) -> dict[str, Any]:
        """Post a result; the same ``client_id`` on every retry, so a lost answer never posts twice."""
        body = {"client_id": str(uuid.uuid4()), **result}
        for attempt in range(attempts):
            try:
                return self.api("POST", "/results", json=body)
            except (requests.ConnectionError, requests.Timeout):
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def post_message(self, room: int, text: str) -> dict[str, Any]:
        draft = {"client_id": str(uuid.uuid4()), "text": text}
        return self.api("POST", f"/rooms/{room}/messages", json=draft)

    # --- sockets --------------------------------------------------------------------------------

    def socket_url(self, kind: str) -> str:
        base = self.base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return f"{base}/ws/operations/{self.operation}/{kind}/"

    async def follow_rooms(self, on_messages: Callable[[int, list[dict[str, Any]]], None]) -> None:
        """Every room of the operation: ``on_messages(room, messages)`` for each batch, in order."""

        async def session(ws: ClientConnection) -> None:
            hello = json.loads(await ws.recv())
            for room in hello["rooms"]:  # a room seen for the first time: from now on
                self.cursors.setdefault(room["id"], {"after_seq": room["seq"], "after_rev": room["rev"]})
            mine = {room["id"] for room in hello["rooms"]}
            rooms = [{"room": room, **cursor} for room, cursor in self.cursors.items() if room in mine]
            if rooms:
                await ws.send(json.dumps({"type": "subscribe", "rooms": rooms}))
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "messages" and frame["messages"]:
                    cursor = self.cursors[frame["room"]]
                    cursor["after_seq"] = max(cursor["after_seq"], *(m["seq"] for m in frame["messages"]))
                    cursor["after_rev"] = max(cursor["after_rev"], *(m["rev"] for m in frame["messages"]))
                    on_messages(frame["room"], frame["messages"])

        await self._keep_open("rooms", session)

    async def follow_board(self, on_frame: Callable[[dict[str, Any]], None]) -> None:
        """The live board: a ``board.snapshot`` on every (re)connect, then ``board.delta`` frames."""

        async def session(ws: ClientConnection) -> None:
            async for raw in ws:
                on_frame(json.loads(raw))

        await self._keep_open("board", session)

    async def _keep_open(self, kind: str, session: Callable[[ClientConnection], Any]) -> None:
        """Run ``session`` on a socket of ``kind``, reconnecting with jittered backoff when it drops."""
        pause = 1.0
        while True:
            try:
                async with connect(self.socket_url(kind), additional_headers=self.headers) as ws:
                    self.sockets[kind] = ws
                    pause = 1.0
                    await session(ws)
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                if code in FINAL_CLOSE_CODES:
                    raise Stopped(f"{kind}: closed with {code} ({FINAL_CLOSE_CODES[code]})") from None
            except InvalidStatus as refused:  # refused at the handshake (HTTP 403)
                status = refused.response.status_code
                if status in (401, 403, 404):
                    raise Stopped(f"{kind}: handshake refused with HTTP {status}") from None
            except (OSError, TimeoutError):
                pass  # the hub is restarting or unreachable: try again
            finally:
                self.sockets.pop(kind, None)
            await asyncio.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 30.0)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[3] not in ("follow", "post-result"):
        print(__doc__, file=sys.stderr)
        return 2
    hub = Hub(argv[1], os.environ["CENCOMM_TOKEN"], argv[2])
    if argv[3] == "post-result":
        with open(argv[4]) as file:
            print(json.dumps(hub.post_result(json.load(file))))
        return 0

    def show(kind: str, data: Any) -> None:
        print(json.dumps({"socket": kind, "data": data}), flush=True)

    async def follow() -> None:
        await asyncio.gather(
            hub.follow_rooms(lambda room, messages: show("rooms", {"room": room, "messages": messages})),
            hub.follow_board(lambda frame: show("board", frame)),
        )

    try:
        asyncio.run(follow())
    except Stopped as stopped:
        print(stopped, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
