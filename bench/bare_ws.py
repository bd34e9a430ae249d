"""The bare ``websockets`` baseline: ``python -m bench.bare_ws PORT``.

Sockets on ``/recv/`` are kept in a set; every text frame that arrives on ``/send/`` is broadcast to
all of them with ``websockets.broadcast``. Nothing else: no authentication, no database.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

receivers: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    if ws.request is not None and ws.request.path.startswith("/recv/"):
        receivers.add(ws)
        try:
            await ws.wait_closed()
        finally:
            receivers.discard(ws)
        return
    async for frame in ws:
        broadcast(receivers, frame)


async def main(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handler, "127.0.0.1", port, max_size=2**20):
        await stop


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
