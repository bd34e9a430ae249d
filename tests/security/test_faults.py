"""Faults: Redis going away mid-conversation, an application process killed, retries, bursts.

Every Redis here is this test's own redis-server on a free loopback port (the shared one at 6379 is
never touched); the multi-process tests run real daphne processes on the test's PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.test import Client

from tests.conftest import cookie_header, verified_client, ws_communicator
from tests.security.conftest import api_json, result_body

ROOT = Path(__file__).resolve().parents[2]
BURST = 200  # reconnecting clients at once
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


class RedisServer:
    """A redis-server of this test's own, stopped and started at will on the same port."""

    def __init__(self, directory: Path) -> None:
        self.port, self.directory, self.process = free_port(), directory, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 10, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # a crash, not a polite shutdown
            self.process.wait(5)
        self.process = None


@pytest.fixture
def own_redis(tmp_path: Path, settings: Any) -> Iterator[RedisServer]:
    """Our own Redis, and the app's channel layer on it."""
    from channels.layers import channel_layers

    server = RedisServer(tmp_path)
    server.start()
    from cencomm.settings import redis_channel_layer

    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer(server.url, "faults")
    }  # the app's own configuration
    channel_layers.backends.clear()
    yield server
    server.stop()
    channel_layers.backends.clear()
    from cencomm.live import LAYER

    LAYER.answered()  # the next test's layer is another one


# --- a client that keeps going: reads, and reconnects with its last seq when the socket dies ----------


class Reader:
    def __init__(self, user: Any, room: int, path: str = "/ws/operations/TEST-OP/rooms/") -> None:
        self.user, self.room, self.path = user, room, path
        self.seq, self.messages, self.reconnects, self.comm = 0, [], 0, None

    async def connect(self) -> bool:
        client = (
            await sync_to_async(verified_client)(self.user) if not hasattr(self, "client") else self.client
        )
        self.client = client
        comm = ws_communicator(self.path, client=client)
        try:
            connected, _ = await comm.connect(timeout=3)
            if connected:
                await comm.send_json_to(
                    {"type": "subscribe", "ref": "s", "rooms": [{"room": self.room, "after_seq": self.seq}]}
                )
        except Exception:
            connected = False
        self.comm = comm if connected else None
        return connected

    async def read_until(self, texts: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not texts <= {m["text"] for m in self.messages} and time.monotonic() < deadline:
            if self.comm is None:
                if not await self.connect():
                    await asyncio.sleep(0.3)
                else:
                    self.reconnects += 1
                continue
            if self.comm.future.done():  # the consumer ended (its layer went away): reconnect
                self.ended = self.comm.future.exception() if not self.comm.future.cancelled() else "cancelled"
                self.comm = None
                continue
            try:
                if await self.comm.receive_nothing(timeout=0.1):
                    continue
                output = await self.comm.receive_output()
            except Exception:  # the consumer died with the layer under it: reconnect with our seq
                self.comm = None
                continue
            if output["type"] == "websocket.close":
                self.comm = None
                continue
            frame = json.loads(output["text"])
            if frame["type"] == "messages" and frame["room"] == self.room:
                for message in frame["messages"]:
                    self.messages.append(message)
                    self.seq = max(self.seq, message["seq"])

    async def close(self) -> None:
        if self.comm is not None:
            try:
                await self.comm.disconnect()
            except Exception:
                pass


def post_message(user: Any, room: int, text: str, client_id: str | None = None) -> Any:
    return api_json(
        verified_client(user),
        "POST",
        f"/api/v1/operations/TEST-OP/rooms/{room}/messages",
        {"client_id": client_id or str(uuid.uuid4()), "text": text},
    )


def operation_room(w: SimpleNamespace) -> int:
    from messaging import services
    from messaging.models import Room

    services.rooms_ensure(operation=w.op)
    return Room.objects.get(operation=w.op, kind=Room.Kind.OPERATION).pk


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_redis_stopping_mid_conversation_loses_nothing_and_clients_fill_the_gap(
    tworld, own_redis, monkeypatch
):
    from messaging.consumers import RoomsConsumer
    from messaging.models import Message

    monkeypatch.setattr(RoomsConsumer, "heartbeat_seconds", 0.5)
    room = await sync_to_async(operation_room)(tworld)
    reader = Reader(tworld.officer_it, room)
    assert await reader.connect()
    assert (
        await sync_to_async(post_message)(tworld.coordinator, room, "before the outage")
    ).status_code == 201
    await reader.read_until({"before the outage"}, timeout=5)
    assert [m["text"] for m in reader.messages] == ["before the outage"]

    own_redis.stop()
    during = [f"during the outage {n}" for n in range(3)]
    for text in during:  # the database is the truth: posting does not need Redis
        response = await sync_to_async(post_message)(tworld.coordinator, room, text)
        assert response.status_code == 201, response.content
    assert await sync_to_async(lambda: Message.objects.filter(room_id=room).count())() == 4
    health = await sync_to_async(Client().get)("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    assert health.json()["channel_layer"] == "unavailable" and health.json()["reason"]

    own_redis.start()
    await reader.read_until(set(during), timeout=15)
    await reader.close()
    texts = [m["text"] for m in reader.messages]
    assert texts == ["before the outage", *during], texts  # in order, once each
    assert [m["seq"] for m in reader.messages] == [1, 2, 3, 4]
    assert (await sync_to_async(Client().get)("/healthz")).json()["status"] == "ok"
    # Live again, through the restarted Redis.
    assert (await sync_to_async(post_message)(tworld.coordinator, room, "after")).status_code == 201
    await reader.read_until({"after"}, timeout=5)
    assert [m["text"] for m in reader.messages][-1] == "after"


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_a_burst_of_reconnections_each_asking_for_catch_up_is_served(tworld, own_redis):
    room = await sync_to_async(operation_room)(tworld)
    for n in range(1, 6):
        assert (await sync_to_async(post_message)(tworld.coordinator, room, f"m{n}")).status_code == 201
    users = [tworld.coordinator, tworld.officer_al, tworld.officer_it, tworld.ncp_al, tworld.observer]
    clients = await sync_to_async(lambda: [verified_client(users[i % len(users)]) for i in range(BURST)])()

    async def one(i: int, client: Client) -> list[int]:
        while True:  # as a page does: a socket the hub sheds (4503) comes back after retry_after
            comm = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
            connected, code = await comm.connect(timeout=30)
            assert connected, code
            first = await comm.receive_json_from(timeout=30)
            if first.get("code") != "overloaded":
                assert first["type"] == "hello", first
                break
            assert (await comm.receive_output(timeout=30))["code"] == 4503
            await comm.disconnect(timeout=30)
            await asyncio.sleep(first["retry_after"] * (1 + random.random()))
        after = i % 5
        await comm.send_json_to(
            {"type": "subscribe", "ref": "s", "rooms": [{"room": room, "after_seq": after}]}
        )
        seqs: list[int] = []
        while True:
            frame = await comm.receive_json_from(timeout=30)
            if frame["type"] == "messages":
                seqs += [m["seq"] for m in frame["messages"]]
            elif frame["type"] == "subscribed":
                break
            assert frame["type"] != "error", frame
        # Daphne gives a closed socket's consumer 10 s to clean up before it cancels it; the
        # communicator's default (1 s) cancelled clean-ups that a loaded machine had only queued.
        await comm.disconnect(timeout=30)
        assert seqs == list(range(after + 1, 6)), (i, seqs)
        return seqs

    # asyncio.wait, not gather or wait_for: a client stuck for good fails the test with its stack
    # instead of hanging the run while its cancellation is awaited.
    tasks = [asyncio.ensure_future(one(i, c)) for i, c in enumerate(clients)]
    done, pending = await asyncio.wait(tasks, timeout=180)
    if pending:
        frames = pending.pop().get_stack()
        stack = "".join(traceback.format_stack(frames[-1])) if frames else "(not started)"
        raise AssertionError(f"{len(pending) + 1} clients still waiting after 180 s; one at:\n{stack}")
    errors = [t.exception() for t in done if t.exception() is not None]
    assert not errors, "".join(traceback.format_exception(errors[0]))[-3000:]


# --- riding out Redis: sockets stay open, fed from the database; clean-up however a socket ends ------


def open_rooms_sockets() -> list[Any]:
    """The RoomsConsumer heartbeats running on this loop (one per open socket)."""
    return [
        t for t in asyncio.all_tasks() if not t.done() and getattr(t.get_coro(), "__name__", "") == "_beat"
    ]


async def connection_rows() -> int:
    from messaging.models import Connection

    return await sync_to_async(Connection.objects.count)()


async def eventually(check: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.1)
    return await check()


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_open_sockets_ride_out_a_redis_outage_and_live_hints_resume_without_a_restart(
    tworld, own_redis, monkeypatch
):
    from channels.layers import get_channel_layer

    from cencomm import consumers as base
    from cencomm import fanout
    from cencomm.live import LAYER
    from messaging import consumers

    monkeypatch.setattr(consumers.RoomsConsumer, "heartbeat_seconds", 60.0)  # no beat but the degraded one
    monkeypatch.setattr(consumers, "DEGRADED_HEARTBEAT_SECONDS", 0.5)
    monkeypatch.setattr(base, "LAYER_RETRY_SECONDS", (0.2, 0.5))
    monkeypatch.setattr(fanout, "RETRY_SECONDS", (0.2, 0.5))  # the process's fan-out probes as often
    room = await sync_to_async(operation_room)(tworld)
    old = Reader(tworld.officer_it, room)
    assert await old.connect()
    assert (await sync_to_async(post_message)(tworld.coordinator, room, "before")).status_code == 201
    await old.read_until({"before"}, timeout=5)

    own_redis.stop()
    during = [f"during {n}" for n in range(3)]
    for text in during:
        assert (await sync_to_async(post_message)(tworld.coordinator, room, text)).status_code == 201
    await old.read_until(set(during), timeout=10)
    assert [m["text"] for m in old.messages] == ["before", *during]
    assert old.reconnects == 0 and not old.comm.future.done()  # the same socket, fed from the database
    new = Reader(tworld.officer_al, room)  # a socket opened during the outage is accepted and served
    assert await new.connect()
    await new.read_until({"before", *during}, timeout=10)
    health = (await sync_to_async(Client().get)("/healthz")).json()
    assert health["status"] == "degraded" and "channel layer" in health["reason"], health

    own_redis.start()
    # Pooled connections died with the server: a command may fail once on one, never twice.
    for attempt in range(2):
        try:
            await get_channel_layer().group_send("faults.probe", {"type": "probe"})
            break
        except Exception:
            assert attempt == 0
    health = {}

    async def health_ok() -> bool:
        health.update(await sync_to_async(lambda: Client().get("/healthz").json())())
        return health["status"] == "ok"

    assert await eventually(health_ok), health
    await asyncio.sleep(2)  # the sockets' receives notice (retry pause at most 0.75 s) and join again
    assert not LAYER.down
    monkeypatch.setattr(consumers, "DEGRADED_HEARTBEAT_SECONDS", 60.0)  # from now on only a live hint
    assert (await sync_to_async(post_message)(tworld.coordinator, room, "live again")).status_code == 201
    for reader in (old, new):
        await reader.read_until({"live again"}, timeout=5)
        assert [m["text"] for m in reader.messages][-1] == "live again"
        assert reader.reconnects == 0
    for reader in (old, new):
        await reader.close()
    assert await eventually(lambda: connection_rows_are(0)), "a presence row outlived its socket"
    assert open_rooms_sockets() == []


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_live_hints_resume_after_a_restarted_redis_with_nothing_else_to_wake_the_sockets(
    tworld, own_redis, monkeypatch
):
    """A restarted Redis has lost every group, so no hint arrives to tell a waiting receive that the
    layer is back: the receive must find out by itself (a probe to its own channel) and join again.
    (The benchmark's outage drill found the hub living on the gap-fill only, long after Redis was back.)"""
    from cencomm import consumers as base
    from cencomm import fanout
    from cencomm.live import LAYER
    from messaging import consumers

    monkeypatch.setattr(consumers.RoomsConsumer, "heartbeat_seconds", 60.0)
    monkeypatch.setattr(consumers, "DEGRADED_HEARTBEAT_SECONDS", 60.0)  # no gap-fill: only a live hint
    monkeypatch.setattr(base, "LAYER_RETRY_SECONDS", (0.2, 0.5))
    monkeypatch.setattr(fanout, "RETRY_SECONDS", (0.2, 0.5))
    room = await sync_to_async(operation_room)(tworld)
    reader = Reader(tworld.officer_it, room)
    assert await reader.connect()
    assert (await sync_to_async(post_message)(tworld.coordinator, room, "before")).status_code == 201
    await reader.read_until({"before"}, timeout=5)

    own_redis.stop()
    await asyncio.sleep(1.5)  # the receives fail and start retrying
    own_redis.start()
    await asyncio.sleep(3)  # retry pauses are at most 0.75 s: time to find the layer back and join again
    assert not LAYER.down
    assert (await sync_to_async(post_message)(tworld.coordinator, room, "live again")).status_code == 201
    await reader.read_until({"live again"}, timeout=5)
    assert reader.reconnects == 0
    await reader.close()


async def connection_rows_are(count: int) -> bool:
    return await connection_rows() == count


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_sockets_closed_during_a_redis_outage_leave_no_presence_and_no_heartbeat(tworld, own_redis):
    room = await sync_to_async(operation_room)(tworld)
    readers = [Reader(u, room) for u in (tworld.officer_it, tworld.officer_al, tworld.ncp_al)]
    for reader in readers:
        assert await reader.connect()
    assert await eventually(lambda: connection_rows_are(3))
    own_redis.stop()
    await asyncio.sleep(1)  # the sockets' receives have failed by now
    for reader in readers:
        await reader.comm.disconnect(timeout=15)
    assert await connection_rows() == 0
    assert open_rooms_sockets() == []
    health = (await sync_to_async(Client().get)("/healthz")).json()
    assert health["status"] == "degraded" and health["database"] == "ok"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_a_socket_runs_its_clean_up_however_it_ends(tworld, own_redis, monkeypatch):
    """Cancelled by a server that stopped waiting (a 1-ms disconnect timeout), or ended by an error
    in a handler: the clean-up runs to its end all the same (it is shielded and bounded)."""
    from messaging.consumers import RoomsConsumer

    room = await sync_to_async(operation_room)(tworld)
    client = await sync_to_async(verified_client)(tworld.officer_it)

    cancelled = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
    assert (await cancelled.connect(timeout=10))[0]
    assert await eventually(lambda: connection_rows_are(1))
    started = time.monotonic()
    await cancelled.disconnect(timeout=0.001)  # cancels the consumer mid-clean-up
    assert time.monotonic() - started < 15  # held up by the clean-up (bounded), not forever
    assert await eventually(lambda: connection_rows_are(0), timeout=10)
    assert await eventually(lambda: asyncio.sleep(0, not open_rooms_sockets()))

    async def broken(self: Any, frame: Any) -> None:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(RoomsConsumer, "handle_ping", broken)
    crashed = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
    assert (await crashed.connect(timeout=10))[0]
    await crashed.send_json_to({"type": "subscribe", "ref": "s", "rooms": [{"room": room, "after_seq": 0}]})
    assert await eventually(lambda: connection_rows_are(1))
    await crashed.send_json_to({"type": "ping", "ref": "p"})
    with pytest.raises(RuntimeError):
        await crashed.wait(timeout=10)
    assert await connection_rows() == 0
    assert open_rooms_sockets() == []


# --- a retry after a timeout stores one copy -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_message_sent_again_after_a_lost_reply_is_stored_once(tworld):
    from messaging.models import Message

    room = await sync_to_async(operation_room)(tworld)
    client = await sync_to_async(verified_client)(tworld.officer_al)
    client_id = str(uuid.uuid4())
    frame = {"type": "send", "ref": "r", "room": room, "client_id": client_id, "text": "sent twice"}
    first = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
    assert (await first.connect())[0]
    await first.send_json_to(frame)
    while (await first.receive_json_from(timeout=3))["type"] != "sent":
        pass
    await first.disconnect()  # ...but the reply never reached the phone: it sends again
    second = ws_communicator("/ws/operations/TEST-OP/rooms/", client=client)
    assert (await second.connect())[0]
    await second.send_json_to(frame)
    while (reply := await second.receive_json_from(timeout=3))["type"] != "sent":
        pass
    await second.disconnect()
    assert reply["created"] is False
    api_retry = await sync_to_async(post_message)(tworld.officer_al, room, "sent twice", client_id)
    assert api_retry.status_code == 200 and api_retry.json()["id"] == reply["id"]
    assert await sync_to_async(Message.objects.filter(client_id=client_id).count)() == 1


@pytest.mark.django_db
def test_a_result_posted_again_after_a_timeout_is_stored_once(world):
    from results.models import Result

    body = result_body(world)
    officer = verified_client(world.officer_al)
    first = api_json(officer, "POST", "/api/v1/operations/TEST-OP/results", body)
    again = api_json(officer, "POST", "/api/v1/operations/TEST-OP/results", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["uuid"] == again.json()["uuid"]
    assert Result.objects.filter(client_id=body["client_id"]).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_result_and_one_message_store_one_copy(tworld):
    from django.db import connection

    from messaging.models import Message
    from results.models import Result

    room = operation_room(tworld)
    body = result_body(tworld)
    client_id = str(uuid.uuid4())
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def retry(kind: str) -> None:
        try:
            barrier.wait(5)
            if kind == "result":
                response = api_json(
                    verified_client(tworld.officer_al), "POST", "/api/v1/operations/TEST-OP/results", body
                )
            else:
                response = post_message(tworld.officer_al, room, "once", client_id)
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=retry, args=("result" if i % 2 else "message",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(set(statuses)) in ([200, 201], [201]) and len(statuses) == 8, statuses
    assert statuses.count(201) == 2  # one result, one message
    assert Result.objects.filter(client_id=body["client_id"]).count() == 1
    assert Message.objects.filter(client_id=client_id).count() == 1


# --- real processes: daphne on the shared PostgreSQL database and our own Redis ----------------------


class Daphne:
    def __init__(self, env: dict[str, str], directory: Path) -> None:
        self.port = free_port()
        self.log = directory / f"daphne-{self.port}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "asgi:application"],
            cwd=ROOT,
            env={**env, "PORT": str(self.port)},
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def ready(self) -> Daphne:
        wait_for_port(self.port, 30, self.process)
        return self

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


@pytest.fixture
def daphnes(own_redis: RedisServer, tmp_path: Path) -> Iterator[list[Daphne]]:
    from django.db import connection

    db = connection.settings_dict
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": own_redis.url,
        "CENCOMM_CHANNEL_PREFIX": "faults",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "CENCOMM_MASTER_KEY": django_settings.CENCOMM_MASTER_KEY,
        "CENCOMM_TESTING": "true",
        "CENCOMM_ENV": "development",
        "CENCOMM_VAR_DIR": str(tmp_path / "var"),
        "CENCOMM_REPORT_THREAD": "false",
        "LOG_LEVEL": "WARNING",
    }
    servers = [Daphne(env, tmp_path), Daphne(env, tmp_path)]
    try:
        yield [s.ready() for s in servers]
    finally:
        for server in servers:
            server.kill()
        with connection.cursor() as cursor:  # let their sessions end before the test database is dropped
            for _ in range(50):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.1)


class RealClient:
    """A phone's socket over the network, remembering its last seq."""

    def __init__(self, client: Client, room: int) -> None:
        self.cookie, self.room, self.seq, self.messages, self.ws = (
            cookie_header(client).decode(),
            room,
            0,
            [],
            None,
        )

    async def connect(self, server: Daphne) -> None:
        import websockets

        self.ws = await websockets.connect(
            server.url("/ws/operations/TEST-OP/rooms/"),
            open_timeout=10,
            additional_headers={"Cookie": self.cookie, "Origin": "http://testserver"},
        )
        await self.ws.send(
            json.dumps(
                {"type": "subscribe", "ref": "s", "rooms": [{"room": self.room, "after_seq": self.seq}]}
            )
        )
        await self.until(lambda f: f["type"] == "subscribed")

    async def until(self, done: Any, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame["type"] == "messages" and frame["room"] == self.room:
                    self.messages += frame["messages"]
                    self.seq = max([self.seq, *(m["seq"] for m in frame["messages"])])
                if done(frame):
                    return

    async def read(self, count: int) -> None:
        target = len(self.messages) + count
        await self.until(lambda f: len(self.messages) >= target)

    async def post(self, text: str) -> None:
        await self.ws.send(
            json.dumps(
                {"type": "send", "ref": "p", "room": self.room, "client_id": str(uuid.uuid4()), "text": text}
            )
        )
        await self.until(lambda f: f["type"] == "sent")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_a_message_posted_through_one_process_reaches_clients_on_the_other(tworld, daphnes):
    room = await sync_to_async(operation_room)(tworld)
    one, two = daphnes
    author = RealClient(await sync_to_async(verified_client)(tworld.coordinator), room)
    reader = RealClient(await sync_to_async(verified_client)(tworld.officer_it), room)
    await author.connect(one)
    await reader.connect(two)
    await author.post("across processes")
    await reader.read(1)
    assert [m["text"] for m in reader.messages] == ["across processes"]
    for c in (author, reader):
        await c.ws.close()
    await release_database()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_clients_of_a_killed_process_reconnect_to_another_and_get_exactly_what_they_missed(
    tworld, daphnes
):
    room = await sync_to_async(operation_room)(tworld)
    doomed, survivor = daphnes
    users = (tworld.officer_al, tworld.officer_it, tworld.ncp_al)
    clients = [RealClient(await sync_to_async(verified_client)(u), room) for u in users]
    for c in clients:
        await c.connect(doomed)
    for text in ("one", "two"):
        assert (await sync_to_async(post_message)(tworld.coordinator, room, text)).status_code == 201
    for c in clients:
        await c.read(2)

    doomed.kill()  # mid-operation, without warning
    for text in ("three", "four", "five"):
        assert (await sync_to_async(post_message)(tworld.coordinator, room, text)).status_code == 201
    for c in clients:
        await c.connect(survivor)  # with the last seq each one holds
    assert (await sync_to_async(post_message)(tworld.coordinator, room, "six")).status_code == 201
    for c in clients:
        if len(c.messages) < 6:
            await c.read(6 - len(c.messages))
        assert [m["text"] for m in c.messages] == ["one", "two", "three", "four", "five", "six"]
        assert [m["seq"] for m in c.messages] == [1, 2, 3, 4, 5, 6]
        await c.ws.close()
    await release_database()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_a_frame_over_any_limit_closes_with_4413_the_hubs_and_daphnes_alike(tworld, daphnes):
    """64 KiB is the hub's limit (an error frame, then 4413); daphne's own 1 MiB cut used to drop the
    connection (1006) before the hub saw the frame: it closes with 4413 as well now."""
    import websockets

    room = await sync_to_async(operation_room)(tworld)
    client = RealClient(await sync_to_async(verified_client)(tworld.officer_it), room)
    for size, error_frame in ((100 * 1024, True), (2 * 1024 * 1024, False)):
        await client.connect(daphnes[0])
        await client.ws.send(json.dumps({"type": "ping", "ref": "x" * size}))
        frames = []
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:
                    frames.append(json.loads(await client.ws.recv()))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4413, (size, closed.value)
        assert any(f.get("code") == "too_large" for f in frames) is error_frame, frames
    await release_database()


async def release_database() -> None:
    """Close the connection of the thread that ran this test's queries, so the test database can go."""
    from django.db import connection

    await sync_to_async(lambda: connection.close())()  # noqa: PLW0108 - resolved in that thread


def test_the_channel_layers_redis_reads_outlast_its_blocking_pop_and_its_pool_a_burst():
    """redis-py's defaults (5 s reads, 100 connections) crashed consumers under a burst (see above)."""
    from channels_redis.core import RedisChannelLayer

    from cencomm.settings import redis_channel_layer

    config = redis_channel_layer("redis://127.0.0.1:1/0", "check")["CONFIG"]
    layer = RedisChannelLayer(**config)
    host = config["hosts"][0]
    assert host["socket_timeout"] > layer.brpop_timeout * 2
    assert host["max_connections"] >= 2 * BURST
