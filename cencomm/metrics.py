"""Prometheus metrics: every figure ``/metrics`` shows is defined here, and only here.

Services and consumers move them with one small call (``RESULTS_POSTED.inc()`` through
``count_on_commit``, ``REFUSALS.labels(...).inc()``); nothing else about monitoring leaks into them.
Counters and gauges live in the process that moves them (each daphne process is scraped on its own,
see docs/deploy.md); the report queue and the database pool are read when scraped, from the database
and the pool, so every process shows the same queue.

``/metrics`` is not public: without ``CENCOMM_METRICS_TOKEN`` set it answers 404, and with it only
a request carrying ``Authorization: Bearer <that token>`` gets the figures.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # CPU, memory, open file descriptors of this process

# --- sockets ------------------------------------------------------------------------------------

SOCKETS_OPEN = Gauge(
    "cencomm_sockets_open",
    "WebSockets open in this process, by socket kind (rooms, board, ping) and credential (session, token).",
    ["kind", "auth"],
    registry=REGISTRY,
)
FRAMES_RECEIVED = Counter(
    "cencomm_ws_frames_received", "Frames received from clients, by socket kind.", ["kind"], registry=REGISTRY
)
FRAMES_SENT = Counter(
    "cencomm_ws_frames_sent", "Frames sent to clients, by socket kind.", ["kind"], registry=REGISTRY
)
DELIVERY_LAG = Histogram(
    "cencomm_delivery_lag_seconds",
    "From the commit that published a live event to this socket having sent what it causes, by event.",
    ["event"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
CHANNEL_LAYER_ERRORS = Counter(
    "cencomm_channel_layer_errors",
    "Channel-layer calls that failed (a live event not published, a clean-up that timed out).",
    ["operation"],
    registry=REGISTRY,
)

# --- what users do ------------------------------------------------------------------------------

RESULTS_POSTED = Counter("cencomm_results_posted", "New results stored (not retries).", registry=REGISTRY)
MESSAGES_POSTED = Counter(
    "cencomm_messages_posted", "New room messages stored (not retries), by kind.", ["kind"], registry=REGISTRY
)
REFUSALS = Counter(
    "cencomm_refusals",
    "Requests refused: where (api, socket) and why (an API status, an error frame's code, a close code).",
    ["where", "reason"],
    registry=REGISTRY,
)
SIGNIN_FAILURES = Counter(
    "cencomm_signin_failures",
    "Failed sign-in steps, by factor (password, second: a TOTP or backup code).",
    ["factor"],
    registry=REGISTRY,
)
SIGNIN_LOCKOUTS = Counter(
    "cencomm_signin_lockouts", "Sign-in lock-outs started, by factor.", ["factor"], registry=REGISTRY
)


def password_failed(**kwargs: object) -> None:
    """``user_login_failed``: a wrong user name or password (or one tried while locked out)."""
    SIGNIN_FAILURES.labels("password").inc()


def password_locked_out(**kwargs: object) -> None:
    """django-axes' ``user_locked_out``: too many wrong passwords for one user name."""
    SIGNIN_LOCKOUTS.labels("password").inc()


def count_on_commit(counter: Counter, amount: float = 1) -> None:
    """Count once the service's transaction commits: a rolled-back post counts for nothing."""
    transaction.on_commit(lambda: counter.inc(amount))


# --- read when scraped: the report queue and the database pool ------------------------------------

REPORT_DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)


@dataclass
class ReportJobFigures:
    """What the reports app says about its queue (see ``reports/monitoring.py``)."""

    by_state: dict[str, int] = field(default_factory=dict)
    # generation time of finished jobs: count at or under each of REPORT_DURATION_BUCKETS, all, sum
    duration_buckets: list[int] = field(default_factory=list)
    duration_count: int = 0
    duration_sum: float = 0.0
    oldest_queued_seconds: float = 0.0


# Set by the reports app when it is ready (the ground floor imports no app).
report_jobs_source: Callable[[], ReportJobFigures] | None = None

POOL_GAUGES = ("pool_size", "pool_available", "pool_max", "requests_waiting")
POOL_COUNTERS = (
    "requests_num",
    "requests_queued",
    "requests_errors",
    "connections_errors",
    "connections_lost",
)


class ScrapeTimeCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from self._report_jobs()
        yield from self._database_pool()

    def _report_jobs(self) -> Iterator[Metric]:
        if report_jobs_source is None:
            return
        figures = report_jobs_source()
        jobs = GaugeMetricFamily("cencomm_report_jobs", "Report jobs by state.", labels=["state"])
        for state, count in sorted(figures.by_state.items()):
            jobs.add_metric([state], count)
        yield jobs
        duration = HistogramMetricFamily(
            "cencomm_report_job_duration_seconds", "Generation time of finished report jobs."
        )
        buckets = [
            (str(b), n) for b, n in zip(REPORT_DURATION_BUCKETS, figures.duration_buckets, strict=True)
        ]
        duration.add_metric([], [*buckets, ("+Inf", figures.duration_count)], figures.duration_sum)
        yield duration
        yield GaugeMetricFamily(
            "cencomm_report_queue_oldest_seconds",
            "Age of the oldest queued report job (0 when none waits).",
            value=figures.oldest_queued_seconds,
        )

    def _database_pool(self) -> Iterator[Metric]:
        pools = {alias: connections[alias].pool for alias in connections if _pooled(alias)}
        if not pools:
            return
        gauges = {
            key: GaugeMetricFamily(f"cencomm_db_{key}", f"Database pool: {key}.", labels=["alias"])
            for key in POOL_GAUGES
        }
        counters = {
            key: CounterMetricFamily(f"cencomm_db_pool_{key}", f"Database pool: {key}.", labels=["alias"])
            for key in POOL_COUNTERS
        }
        for alias, pool in pools.items():
            stats = pool.get_stats()
            for key, family in [*gauges.items(), *counters.items()]:
                family.add_metric([alias], stats.get(key, 0))
        yield from gauges.values()
        yield from counters.values()


def _pooled(alias: str) -> bool:
    return bool(connections.settings[alias].get("OPTIONS", {}).get("pool"))


REGISTRY.register(ScrapeTimeCollector())


# --- the endpoint -------------------------------------------------------------------------------


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``/metrics``: 404 unless a metrics token is configured, 401 without it, else the figures."""
    expected = settings.CENCOMM_METRICS_TOKEN
    if not expected:
        return HttpResponse(status=404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        return HttpResponse(status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
