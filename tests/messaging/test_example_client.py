"""docs/examples/hub_client.py against a real hub (daphne, the demo; tests/livehub.py), so it cannot rot:
it posts a result over the API, follows the rooms and the board over sockets with an API token, and
after a dropped connection catches up on exactly what it missed."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_client() -> Any:
    spec = importlib.util.spec_from_file_location("hub_client", ROOT / "docs" / "examples" / "hub_client.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def api_token(hub: Any, username: str, operation: str) -> str:
    """A personal API token made in the live hub's own database (as the tokens page would)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CENCOMM_TESTING")}
    env.update(CENCOMM_VAR_DIR=str(hub.var_dir), CENCOMM_ENV="development")
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from operations.models import Operation\n"
        "from operations.services import api_token_create\n"
        f"user = get_user_model().objects.get(username={username!r})\n"
        f"_, plaintext = api_token_create(user=user, operation=Operation.objects.get(code={operation!r}),"
        " name='example client', days=1)\n"
        "print(plaintext)\n"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


async def until(predicate: Any, timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def in_own_thread(coroutine_function: Any, *args: Any) -> Any:
    """Run an async check in a thread with its own event loop, as the example client runs as a program.
    (A session-scoped Playwright leaves its loop marked running on the main thread, where pytest-asyncio
    then refuses to start one: these tests failed only when a browser test had run first.)"""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine_function(*args)).result(timeout=120)


def test_example_client_posts_follows_and_catches_up(live_hub):
    in_own_thread(posts_follows_and_catches_up, live_hub)


def test_example_client_stops_on_a_bad_token(live_hub):
    in_own_thread(stops_on_a_bad_token, live_hub)


async def posts_follows_and_catches_up(live_hub: Any) -> None:
    hub_client = load_client()
    operation = json.loads((live_hub.var_dir / "demo-credentials.json").read_text())["operation"]
    officer = next(name for name, user in live_hub.users.items() if user["role"] == "officer")
    watcher = hub_client.Hub(live_hub.base_url, api_token(live_hub, "coordinator", operation), operation)
    poster = hub_client.Hub(live_hub.base_url, api_token(live_hub, officer, operation), operation)

    received: list[tuple[int, dict[str, Any]]] = []
    board: list[dict[str, Any]] = []
    tasks = [
        asyncio.ensure_future(watcher.follow_rooms(lambda room, ms: received.extend((room, m) for m in ms))),
        asyncio.ensure_future(watcher.follow_board(board.append)),
    ]
    try:
        await until(lambda: "rooms" in watcher.sockets and watcher.cursors and board)
        assert board[0]["type"] == "board.snapshot"
        room = next(
            iter(
                r["id"]
                for r in await asyncio.to_thread(poster.api, "GET", "/rooms")
                if r["kind"] == "operation"
            )
        )
        await until(lambda: room in watcher.cursors)
        await asyncio.sleep(0.3)  # the subscription is in place

        # A result posted over the API shows on the board.
        me = await asyncio.to_thread(poster.api, "GET", "")
        result = await asyncio.to_thread(
            poster.post_result,
            {
                "entry_point": me["my_membership"]["entry_point_id"],
                "inspected_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)).isoformat(),
                "origin": "CN",
                "outcome": "seized",
                "lines": [{"category": "medicines", "quantity": 240, "unit": "pieces"}],
            },
        )
        await until(lambda: any(f["type"] == "board.delta" for f in board))
        assert result["client_id"]

        # A message arrives live on the room socket.
        await asyncio.to_thread(poster.post_message, room, "Example client: container held.")
        await until(lambda: any(m["text"] == "Example client: container held." for _, m in received))

        # The connection drops; what is posted meanwhile arrives once, after the reconnect.
        dropped = watcher.sockets["rooms"]
        dropped.transport.abort()
        await until(lambda: watcher.sockets.get("rooms") is not dropped and "rooms" not in watcher.sockets, 5)
        await asyncio.to_thread(poster.post_message, room, "While you were away.")
        await until(lambda: watcher.sockets.get("rooms") not in (None, dropped), 15)
        await until(lambda: any(m["text"] == "While you were away." for _, m in received))
        await asyncio.sleep(0.5)
        in_room = [m for r, m in received if r == room]
        assert [m["text"] for m in in_room] == ["Example client: container held.", "While you were away."]
        assert in_room[1]["seq"] == in_room[0]["seq"] + 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def stops_on_a_bad_token(live_hub: Any) -> None:
    hub_client = load_client()
    hub = hub_client.Hub(live_hub.base_url, "cct_not-a-real-token", "ANY-OP")
    with pytest.raises(hub_client.Stopped, match="4401|HTTP 403"):
        await asyncio.wait_for(hub.follow_rooms(lambda room, messages: None), timeout=10)
