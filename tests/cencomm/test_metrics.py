"""/metrics: Prometheus' text format behind its own token, and figures that move when users act."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from prometheus_client.parser import text_string_to_metric_families

from messaging.services import rooms_ensure
from reports.models import Report
from tests.messaging.conftest import open_socket
from tests.world import api_post, result_body, send_message, verified_client

METRICS_TOKEN = "m" * 40


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.CENCOMM_METRICS_TOKEN = METRICS_TOKEN


@pytest.fixture(autouse=True)
def _release_worker_connection():
    """Async tests query through asgiref's single worker thread: close its connection afterwards, so
    that PostgreSQL can drop the test database at the end of the run."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)


def scrape(token: str = METRICS_TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_need_the_metrics_token(world, settings):
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer " + "x" * 40).status_code == 401
    # A signed-in coordinator's session is not the metrics token, nor is an API token.
    assert verified_client(world.coordinator).get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").status_code == 200
    settings.CENCOMM_METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").status_code == 404


@pytest.mark.django_db(transaction=True)  # counted on commit: a rolled-back post counts for nothing
def test_posting_refusing_and_failed_sign_ins_move_the_figures(tworld):
    world = tworld
    before = scrape()

    officer = verified_client(world.officer_al)
    assert api_post(officer, "/operations/TEST-OP/results", result_body(world)).status_code == 201
    retry = result_body(world)
    assert api_post(officer, "/operations/TEST-OP/results", retry).status_code == 201
    assert api_post(officer, "/operations/TEST-OP/results", retry).status_code == 200  # a retry: not new
    rooms_ensure(operation=world.op)
    send_message(world, world.coordinator, "Gate 3 closed.")
    send_message(world, world.coordinator, "Check reefers.", kind="warning")
    assert officer.get("/api/v1/operations/NO-SUCH-OP").status_code == 404
    assert Client().get("/api/v1/operations").status_code == 401
    assert (
        Client().post("/accounts/login/", {"username": "officer-durres", "password": "wrong"}).status_code
        == 400
    )
    signed = Client()
    signed.post("/accounts/login/", {"username": "officer-bari", "password": "correct horse battery staple"})
    assert signed.post("/accounts/verify/", {"code": "000000"}).status_code == 400
    Report.objects.create(
        operation=world.op, edition="public", format="pdf", kind="interim", state="done", generation_ms=2500
    )
    Report.objects.create(
        operation=world.op,
        edition="public",
        format="csv",
        kind="interim",
        requested_at=timezone.now() - dt.timedelta(minutes=10),
    )

    after = scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("cencomm_results_posted_total") == 2
    assert moved("cencomm_messages_posted_total", kind="chat") == 1
    assert moved("cencomm_messages_posted_total", kind="warning") == 1
    assert moved("cencomm_refusals_total", where="api", reason="not_found") == 1
    assert moved("cencomm_refusals_total", where="api", reason="unauthenticated") == 1
    assert moved("cencomm_signin_failures_total", factor="password") == 1
    assert moved("cencomm_signin_failures_total", factor="second") == 1
    assert value(after, "cencomm_report_jobs", state="done") == 1
    assert value(after, "cencomm_report_jobs", state="queued") == 1
    assert value(after, "cencomm_report_jobs", state="failed") == 0
    assert value(after, "cencomm_report_job_duration_seconds_count") == 1
    assert value(after, "cencomm_report_job_duration_seconds_sum") == 2.5
    assert value(after, "cencomm_report_job_duration_seconds_bucket", le="1.0") == 0
    assert value(after, "cencomm_report_job_duration_seconds_bucket", le="5.0") == 1
    assert value(after, "cencomm_report_queue_oldest_seconds") >= 600


@pytest.mark.django_db
def test_lock_outs_are_counted(world, settings):
    before = scrape()
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "officer-durres", "password": "guess"})
    signed = Client()
    signed.post("/accounts/login/", {"username": "officer-bari", "password": "correct horse battery staple"})
    # One short of the second factor's limit, past django-otp's growing delay: the next one locks.
    TOTPDevice.objects.filter(user=world.officer_it).update(
        throttling_failure_count=settings.CENCOMM_OTP_FAILURE_LIMIT - 1,
        throttling_failure_timestamp=timezone.now() - dt.timedelta(hours=1),
    )
    assert signed.post("/accounts/verify/", {"code": "000000"}).status_code == 429
    after = scrape()
    for factor in ("password", "second"):
        key = ("cencomm_signin_lockouts_total", (("factor", factor),))
        assert after.get(key, 0) - before.get(key, 0) == 1, factor


@pytest.mark.django_db(transaction=True)
async def test_sockets_frames_and_delivery_lag_move(tworld):
    await sync_to_async(rooms_ensure)(operation=tworld.op)
    before = await sync_to_async(scrape)()
    durres = await open_socket(tworld.officer_al, subscribe={})
    during = await sync_to_async(scrape)()
    assert value(during, "cencomm_sockets_open", kind="rooms", auth="session") == (
        value(before, "cencomm_sockets_open", kind="rooms", auth="session") + 1
    )
    await sync_to_async(send_message)(tworld, tworld.coordinator, "Scanner back.")
    assert [m["text"] for m in await durres.messages(1)] == ["Scanner back."]
    await durres.send({"type": "nonsense"})
    assert (await durres.frame("error"))["code"] == "unknown_type"
    await durres.close()
    after = await sync_to_async(scrape)()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("cencomm_sockets_open", kind="rooms", auth="session") == 0
    assert moved("cencomm_ws_frames_received_total", kind="rooms") >= 2  # subscribe, nonsense
    assert moved("cencomm_ws_frames_sent_total", kind="rooms") >= 4  # hello, subscribed, messages, error
    assert moved("cencomm_refusals_total", where="socket", reason="unknown_type") == 1
    assert moved("cencomm_delivery_lag_seconds_count", event="room.message") >= 1
    assert moved("cencomm_delivery_lag_seconds_bucket", event="room.message", le="60.0") >= 1


@pytest.mark.django_db(transaction=True)
async def test_a_refused_socket_origin_is_counted(tworld):
    from tests.world import ws_communicator

    before = await sync_to_async(scrape)()
    client = await sync_to_async(verified_client)(tworld.officer_al)
    communicator = ws_communicator(
        "/ws/operations/TEST-OP/rooms/", client=client, origin="http://evil.example"
    )
    connected, _ = await communicator.connect()
    if connected:  # refused by a close with a code right after the handshake
        assert (await communicator.receive_output(timeout=3))["type"] == "websocket.close"
    after = await sync_to_async(scrape)()
    key = ("cencomm_refusals_total", (("reason", "origin"), ("where", "socket")))
    assert after.get(key, 0) - before.get(key, 0) == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_pool_is_shown(world, settings):
    samples = scrape()
    pool = settings.DATABASES["default"]["OPTIONS"]["pool"]
    assert value(samples, "cencomm_db_pool_max", alias="default") == pool["max_size"]
    assert value(samples, "cencomm_db_pool_size", alias="default") >= 1
    assert ("cencomm_db_pool_requests_errors_total", (("alias", "default"),)) in samples
