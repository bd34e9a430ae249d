"""What the benchmarks share: servers in subprocesses, a throw-away database, a seeded world, sockets.

Everything listens on 127.0.0.1, every loop is bounded, and every server is stopped (SIGTERM, then
SIGKILL) when its ``with`` block ends, whatever happened inside it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
DAPHNE = str(ROOT / ".venv" / "bin" / "daphne")
PG_ADMIN_URL = os.environ.get("CENCOMM_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# The Redis of the benchmarks that do not start their own (idle sockets); the fan-out, storm and outage
# benchmarks start a redis-server of their own on a free port (``own_redis``) unless this is set.
REDIS_URL = os.environ.get("CENCOMM_BENCH_REDIS", "redis://127.0.0.1:6379/0")
REDIS_SERVER = os.environ.get("CENCOMM_BENCH_REDIS_SERVER", "redis-server")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def raise_nofile() -> None:
    """As many file descriptors as the hard limit allows (10,000 sockets need more than 1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(text: str) -> None:
    print(f"   {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


# --- figures ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def ms(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds * 1000:.1f}"


def ratio(hub: float, base: float) -> str:
    if not base or hub != hub or base != base:
        return "n/a"
    return f"{hub / base:.2f}×"


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return (
        f"Load average when this benchmark started: {one:.1f} (1 min), {five:.1f} (5 min) on "
        f"{os.cpu_count()} cores. It includes any benchmark that ran just before; more than that means other work "
        "shared the CPUs."
    )


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --- processes ----------------------------------------------------------------------------------


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


@dataclass
class Server:
    """A server in a subprocess of its own, on 127.0.0.1:port."""

    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    logfile: Any = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_kib(self) -> int:
        return _status_kib(self.pid, "VmRSS")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def start(self, timeout: float = 60.0) -> Server:
        self.logfile = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_nofile,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not listen on {self.port} within {timeout:.0f} s:\n{self.output()}"
        )

    def output(self, tail: int | None = 4000) -> str:
        if self.logfile is None:
            return ""
        fd = self.logfile.fileno()  # pread: the server writes through the same file offset
        text = os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")
        return text[-tail:] if tail else text

    def kill(self) -> None:
        """SIGKILL, as a crash: no clean shutdown, no goodbye to the clients."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@contextlib.contextmanager
def serving(*servers: Server) -> Iterator[tuple[Server, ...]]:
    started: list[Server] = []
    try:
        for server in servers:
            started.append(server.start())
        yield servers
    finally:
        for server in reversed(started):
            server.stop()


async def settle(servers: Sequence[Server], *, busy: float = 0.25, longest: float = 60.0) -> float:
    """Wait (3 s at least) until the servers spend under ``busy`` of a core each over 2 s."""
    started = time.monotonic()
    await asyncio.sleep(1.0)
    while time.monotonic() - started < longest:
        cpu = sum(s.cpu_seconds() for s in servers)
        await asyncio.sleep(2.0)
        if (sum(s.cpu_seconds() for s in servers) - cpu) / 2.0 < busy * len(servers):
            break
    return time.monotonic() - started


def daphne(name: str, app: str, port: int, env: dict[str, str]) -> Server:
    return Server(name, [DAPHNE, "-b", "127.0.0.1", "-p", str(port), app], port, env)


def python_server(name: str, module: str, port: int, env: dict[str, str] | None = None) -> Server:
    return Server(name, [PYTHON, "-m", module, str(port)], port, env or {})


def redis_server(port: int) -> Server:
    """A throw-away redis-server of the benchmark's own (no persistence), never the machine's."""
    argv = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return Server(f"redis-server :{port}", [*argv, "--maxclients", "20000", "--loglevel", "warning"], port)


@contextlib.contextmanager
def own_redis() -> Iterator[tuple[str, Server | None]]:
    """(URL, server): a redis-server started here on a free port, or CENCOMM_BENCH_REDIS (server None)."""
    if os.environ.get("CENCOMM_BENCH_REDIS"):
        yield REDIS_URL, None
        return
    server = redis_server(free_port())
    with serving(server):
        yield f"redis://127.0.0.1:{server.port}/0", server


def query_count(path: str) -> int:
    """The running total of a hub process's statements (``CENCOMM_BENCH_QUERY_FILE``, bench/hub_settings.py)."""
    try:
        return int(Path(path).read_text() or 0)
    except FileNotFoundError:
        return 0


# --- the hub in a throw-away database -------------------------------------------------------------


@dataclass
class HubEnv:
    """The environment every hub process of one benchmark shares (database, keys, channel layer)."""

    database: str
    var_dir: str
    redis_prefix: str = ""

    def env(
        self,
        port: int | None = None,
        *,
        redis: bool | str = False,
        origins: Sequence[int] = (),
        count_queries: bool = False,
    ) -> dict[str, str]:
        """``redis``: True for REDIS_URL, or the URL of a Redis; ``count_queries``: see query_file()."""
        env = {
            "DJANGO_SETTINGS_MODULE": "bench.hub_settings",
            "DATABASE_URL": f"{PG_ADMIN_URL}/{self.database}",
            "CENCOMM_VAR_DIR": self.var_dir,
            "CENCOMM_ENV": "development",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "CENCOMM_REPORT_THREAD": "false",  # a demo convenience; production runs a worker
            "CENCOMM_ALLOWED_ORIGINS": ",".join(
                f"http://127.0.0.1:{p}" for p in origins or ([port] if port else [])
            ),
            "PYTHONUNBUFFERED": "1",
        }
        env["REDIS_URL"] = ""  # empty is unset (cencomm/settings.py): not the caller's own REDIS_URL
        if redis:
            env["REDIS_URL"] = redis if isinstance(redis, str) else REDIS_URL
            env["CENCOMM_CHANNEL_PREFIX"] = self.redis_prefix
        if count_queries and port:
            env["CENCOMM_BENCH_QUERY_FILE"] = self.query_file(port)
        return env

    def query_file(self, port: int) -> str:
        return os.path.join(self.var_dir, f"queries-{port}")


def _admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(statement)


TEMPLATE = f"cencomm_bench_template_{os.getpid()}"
_template_ready: list[HubEnv] = []


def _template(var_dir: str) -> None:
    """Migrate once per run into a template database; each benchmark copies it (a second, not 25)."""
    if _template_ready:
        return
    _admin_sql(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    _admin_sql(f'CREATE DATABASE "{TEMPLATE}"')
    atexit.register(_admin_sql, f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    log("migrating a fresh benchmark database")
    manage(HubEnv(database=TEMPLATE, var_dir=var_dir), "migrate", "--noinput", "-v0")
    _template_ready.append(HubEnv(database=TEMPLATE, var_dir=var_dir))


@contextlib.contextmanager
def hub_database(name: str) -> Iterator[HubEnv]:
    """A fresh, migrated PostgreSQL database and var directory (keys), dropped afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as var_dir:
        _template(var_dir)
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        hub = HubEnv(database=name, var_dir=var_dir, redis_prefix=f"{name}-{os.getpid()}")
        try:
            yield hub
        finally:
            _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _flush_redis_prefix(hub.redis_prefix)


def _flush_redis_prefix(prefix: str) -> None:
    with contextlib.suppress(Exception):
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*", count=1000):
            client.delete(key)


def manage(hub: HubEnv, *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **hub.env()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def seed(hub: HubEnv, **spec: Any) -> dict[str, Any]:
    """Create the benchmark's operation, users, sessions and memberships (see bench/_world.py)."""
    done = subprocess.run(
        [PYTHON, "-m", "bench._world", json.dumps(spec)],
        cwd=ROOT,
        env={**os.environ, **hub.env()},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- sockets ------------------------------------------------------------------------------------


def ws_headers(cookie: str | None, origin_port: int | None) -> dict[str, str]:
    headers = {}
    if cookie:
        headers["Cookie"] = f"sessionid={cookie}"
    if origin_port:
        headers["Origin"] = f"http://127.0.0.1:{origin_port}"
    return headers


async def open_sockets(
    urls_and_headers: Sequence[tuple[str, dict[str, str]]],
    *,
    concurrency: int = 50,
    ready: Callable[[Any], Awaitable[None]] | None = None,
    failures: list[str] | None = None,
    retries: int = 0,
    retried: list[str] | None = None,
    within: float | None = None,
) -> list[Any]:
    """Open one socket per (url, headers), ``concurrency`` handshakes at a time; ``ready`` runs on each.

    A failed handshake is tried again up to ``retries`` times after a second (as the hub's pages
    reconnect), each retry's error appended to ``retried``. A socket that still cannot be opened
    raises, unless ``failures`` is given: then its error is appended there and its place is None.
    With ``within`` (seconds), what is not open by then is given up (a failure).
    """
    gate = asyncio.Semaphore(concurrency)
    deadline = time.monotonic() + within if within else float("inf")
    sockets: list[Any] = [None] * len(urls_and_headers)

    async def one(i: int, url: str, headers: dict[str, str]) -> None:
        for attempt in range(retries + 1):
            try:
                async with gate:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"not open within {within:.0f} s")
                    ws = await websockets.connect(
                        url,
                        additional_headers=headers,
                        origin=None,
                        ping_interval=None,
                        max_size=2**22,
                        open_timeout=60,
                        close_timeout=2,
                        max_queue=None,
                    )
                    if ready is not None:
                        await asyncio.wait_for(ready(ws), 60)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt < retries and time.monotonic() < deadline:
                    if retried is not None:
                        retried.append(error)
                    await asyncio.sleep(1.0)
                    continue
                if failures is None:
                    raise
                failures.append(error)
                return
            sockets[i] = ws
            return

    await asyncio.gather(*(one(i, u, h) for i, (u, h) in enumerate(urls_and_headers)))
    return sockets


async def close_sockets(sockets: Sequence[Any]) -> None:
    async def one(ws: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 5)

    gate = asyncio.Semaphore(500)

    async def gated(ws: Any) -> None:
        async with gate:
            await one(ws)

    await asyncio.gather(*(gated(ws) for ws in sockets if ws is not None))


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")
