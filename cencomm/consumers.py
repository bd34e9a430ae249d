"""The base of every WebSocket consumer: verified users, validated frames, an explicit allow-list.

Verified means a session past both factors (``scope["otp_device"]``) or a program's live API token
(``scope["principal"].token_id``, see ``cencomm.middleware.BearerTokenMiddleware``); either is checked
again before every frame. ``self.principal`` carries a token's operation scope to the subclasses.

Subclasses declare ``frames = {"type": (Schema, "handler_method")}``. The method names there are
written by developers; a client's ``type`` only ever selects a row of that table.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from typing import Any, ClassVar, Literal

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone
from django_otp.models import Device
from pydantic import ValidationError

from cencomm import metrics, protocol
from cencomm.live import LAYER, describe, layer_call, user_group
from cencomm.principal import Principal, api_token_is_live

log = logging.getLogger(__name__)
CLEANUP_SECONDS = 30  # the database part of a socket's clean-up (it queues behind other sockets' reads)
LAYER_SECONDS = 5  # one channel-layer call of a socket (joining, leaving groups), at most
LAYER_RETRY_SECONDS = (0.5, 5.0)  # a socket's receive from a failed layer: first and longest pause
# Shedding at connect: daphne drops a handshake the application has not accepted in time
# (--websocket_connect_timeout), so a socket that cannot be served soon is told to come back later
# (an ``overloaded`` error frame with ``retry_after``, then close 4503) instead of timing out.
CONNECTS_IN_FLIGHT = 200  # sockets of this process between connect and their first frame, at most
CONNECT_SECONDS = 3.0  # the access check at connect, at most, before the socket is shed
RETRY_AFTER_SECONDS = (2, 10)  # the retry_after told to a shed socket: a random whole second in this range
_connecting = 0  # sockets of this process in connect now


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class HubConsumer(AsyncWebsocketConsumer):
    frames: ClassVar[dict[str, tuple[type[protocol.ClientFrame], str]]] = {}
    max_frame_bytes: ClassVar[int] = 64 * 1024
    max_invalid_frames: ClassVar[int] = 20

    user: Any
    principal: Principal
    credentials_valid: bool = False
    token_expiry: asyncio.TimerHandle | None = None
    counted_open: tuple[str, str] | None = None  # (kind, auth) while counted in SOCKETS_OPEN
    refused: bool = False  # refused at connect: accepted only to be closed with a code
    checked_at_handshake: bool = False  # the middleware has just checked the credentials

    @property
    def kind(self) -> str:
        """The socket's kind in the metrics: ``RoomsConsumer`` is ``rooms``."""
        return type(self).__name__.removesuffix("Consumer").lower()

    # --- the consumer's loop -------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Channels' consumer loop (``AsyncConsumer.__call__``) with three differences.

        A channel layer that fails (Redis down) does not end the consumer: its receive waits for the
        layer to come back while the socket stays open and the heartbeat fills gaps from the
        database; once back, the socket joins its groups again. The clean-up (``closed``, leaving
        the groups) runs however the consumer ends: a disconnect, an error, a cancellation. And
        nothing here waits without a bound: neither the clean-up nor the cancelling of the receives.
        """
        self.scope = scope
        self.joined: set[str] = set()
        self.layer_backlog: list[dict[str, Any]] = []
        self.layer_failed = False
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            sources.append(self._layer_receive)
        try:
            await self._dispatch_loop(sources)
        except StopConsumer:
            pass
        finally:
            await self.clean_up()

    async def _dispatch_loop(self, sources: list[Any]) -> None:
        """``channels.utils.await_many_dispatch``, except that on the way out the receives are
        cancelled and given LAYER_SECONDS to finish, never awaited for as long as they take."""
        tasks = [asyncio.ensure_future(source()) for source in sources]
        try:
            while True:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for i, task in enumerate(tasks):
                    if task.done():
                        result = task.result()
                        await self.dispatch(result)
                        tasks[i] = asyncio.ensure_future(sources[i]())
        finally:
            if len(tasks) > 1 and not tasks[1].done():
                await self._wake_layer_receive(tasks[1])
            for task in tasks:
                task.cancel()
            _, stuck = await asyncio.wait(tasks, timeout=LAYER_SECONDS)
            if stuck:
                log.warning(
                    "%s receive(s) still running %s s after their socket ended", len(stuck), LAYER_SECONDS
                )
            for task in tasks:  # retrieve, so that nothing is logged as never retrieved
                if task.done() and not task.cancelled():
                    task.exception()

    async def _wake_layer_receive(self, task: asyncio.Task) -> None:
        """End the channel layer's pending receive with a message to this socket's own channel.

        Cancelling it is the last resort: a cancelled channels-redis ``receive()`` can swallow its
        cancellation and never finish, and a task that never finishes hangs the event loop's
        shutdown (it hung the test session). Bounded; a layer that is down leaves it to the cancel.
        """
        try:
            async with asyncio.timeout(LAYER_SECONDS):
                await self.channel_layer.send(self.channel_name, {"type": "hub.stop"})
            await asyncio.wait([task], timeout=LAYER_SECONDS)
        except Exception as exc:  # the layer is down or slow: the cancel below does what it can
            log.debug("could not wake the socket's receive: %s", describe(exc))

    async def _layer_receive(self) -> dict[str, Any]:
        """The next event for this socket from the channel layer; while the layer fails, retried."""
        if self.layer_backlog:
            return self.layer_backlog.pop(0)
        pause = LAYER_RETRY_SECONDS[0]
        while True:
            try:
                message = await self.channel_layer.receive(self.channel_name)
            except Exception as exc:  # Redis down or restarting: keep the socket, wait for it
                LAYER.failed(exc)
                if not self.layer_failed:
                    self.layer_failed = True
                    metrics.CHANNEL_LAYER_ERRORS.labels("receive").inc()
                    log.warning("socket's channel layer failed (%s); live hints paused", describe(exc))
                await asyncio.sleep(pause * (0.5 + random.random()))  # jittered: not all at once
                pause = min(pause * 2, LAYER_RETRY_SECONDS[1])
                await self._probe_layer()
                continue
            if self.layer_failed:  # back: join the groups again first (a restarted Redis lost them)
                self.layer_failed = False
                LAYER.answered()
                self.layer_backlog.append(message)
                return {"type": "hub.layer_restored"}
            return message

    async def _probe_layer(self) -> None:
        """A message to this socket's own channel while the layer is failing. A restarted Redis lost
        the socket's groups, so no hint would arrive to tell the receive it is back, and the groups
        are joined again only once something arrives: this does (bounded while it is still down)."""
        await layer_call(
            "probe", self.channel_layer.send(self.channel_name, {"type": "hub.probe"}), probe=True
        )

    async def hub_probe(self, event: dict[str, Any]) -> None:
        """Its own probe, back through the layer (see ``_probe_layer``): nothing to do."""

    async def hub_layer_restored(self, event: dict[str, Any]) -> None:
        """Dispatched by ``_layer_receive`` itself (a client frame never selects a handler)."""
        joined = [await self.join(group) for group in list(self.joined)]
        if not all(joined):  # a pooled connection that died with the old server fails once: again
            self.layer_failed = True
            await asyncio.sleep(LAYER_RETRY_SECONDS[0] * (0.5 + random.random()))
            await self._probe_layer()
        await self.resync()

    async def resync(self) -> None:
        """After the layer came back: send what its lost hints would have caused (subclasses)."""

    async def join(self, group: str) -> bool:
        """Join ``group``; with the layer down the socket works on (the heartbeat fills gaps) and joins
        again when the layer is back."""
        self.joined.add(group)
        return await layer_call("group_add", self.channel_layer.group_add(group, self.channel_name))

    async def leave(self, group: str) -> None:
        self.joined.discard(group)
        await layer_call("group_discard", self.channel_layer.group_discard(group, self.channel_name))

    async def clean_up(self) -> None:
        """Run the socket's clean-up once, to its end, whoever stops waiting for it.

        Shielded: a server that gives up waiting (daphne after 10 s, a test's communicator after 1 s)
        cancels this wait, not the clean-up; the clean-up is bounded by itself.
        """
        task = getattr(self, "cleanup_task", None)
        if task is None:
            task = self.cleanup_task = asyncio.ensure_future(self._clean_up())
        await asyncio.shield(task)

    async def _clean_up(self) -> None:
        if self.token_expiry is not None:
            self.token_expiry.cancel()
        if self.counted_open is not None:
            metrics.SOCKETS_OPEN.labels(*self.counted_open).dec()
            self.counted_open = None
        try:  # first what outlives a socket in the database (its presence), however long the queue
            async with asyncio.timeout(CLEANUP_SECONDS):
                await self.closed()
        except Exception:
            metrics.CHANNEL_LAYER_ERRORS.labels("cleanup").inc()
            log.warning("socket clean-up failed", exc_info=True)
        groups, self.joined = list(getattr(self, "joined", ())), set()
        if groups and self.channel_layer is not None:
            try:
                async with asyncio.timeout(LAYER_SECONDS):
                    await asyncio.gather(
                        *(self.channel_layer.group_discard(g, self.channel_name) for g in groups),
                        return_exceptions=True,
                    )
            except TimeoutError:  # the layer expires them on its own
                log.warning("socket's groups not left within %s s", LAYER_SECONDS)

    # --- lifecycle ----------------------------------------------------------------------------

    async def refuse(self, code: int) -> None:
        """Refuse a socket at connect with a close code the client can act on (4401, 4403, 4404):
        accepted, then closed at once, before anything is sent. (Closing before accepting is an
        HTTP 403 to the handshake, the same for every reason.)"""
        self.refused = True
        await self.accept()
        await self.close(code=code)

    async def shed(self) -> None:
        """Too much to do now: accepted, told when to come back, closed with 4503 (the page's
        back-off waits at least that long, spread by jitter)."""
        self.refused = True
        metrics.REFUSALS.labels("socket", "overloaded").inc()
        await self.accept()
        retry_after = random.randint(*RETRY_AFTER_SECONDS)
        await self.send(
            text_data=json.dumps(
                {
                    **protocol.error_frame("overloaded", "The hub is busy; connect again later."),
                    "retry_after": retry_after,
                }
            )
        )
        await self.close(code=protocol.CLOSE_OVERLOADED)

    async def connect(self) -> None:
        global _connecting
        self.user = self.scope.get("user")
        principal = self.scope.get("principal")
        verified = self.scope.get("otp_device") is not None or getattr(principal, "token_id", None)
        if not getattr(self.user, "is_authenticated", False) or principal is None or not verified:
            await self.refuse(protocol.CLOSE_UNAUTHENTICATED)
            return
        if _connecting >= getattr(settings, "CENCOMM_WS_CONNECTS_IN_FLIGHT", CONNECTS_IN_FLIGHT):
            await self.shed()
            return
        _connecting += 1
        try:
            await self._connect(principal)
        finally:
            _connecting -= 1

    async def _connect(self, principal: Principal) -> None:
        self.principal = principal
        self.bucket = TokenBucket(
            getattr(settings, "CENCOMM_WS_FRAMES_PER_SECOND", 10),
            getattr(settings, "CENCOMM_WS_FRAME_BURST", 40),
        )
        self.invalid_frames = 0
        self.checked_at_handshake = True
        checking = asyncio.ensure_future(self.authorize())
        await asyncio.wait([checking], timeout=CONNECT_SECONDS)
        if not checking.done():  # the database queue is long: come back later, before daphne gives up
            checking.add_done_callback(lambda task: task.cancelled() or task.exception())
            await self.shed()
            return
        if not checking.result():
            await self.refuse(self.refusal_code())
            return
        await self.join(user_group(self.user.pk))
        await self.accept()
        self.counted_open = (self.kind, "session" if principal.token_id is None else "token")
        metrics.SOCKETS_OPEN.labels(*self.counted_open).inc()
        if principal.token_expires_at is not None:  # a socket that only listens closes on time too
            delay = (principal.token_expires_at - timezone.now()).total_seconds()
            self.token_expiry = asyncio.get_running_loop().call_later(
                max(delay, 0), lambda: asyncio.ensure_future(self.close(code=protocol.CLOSE_UNAUTHENTICATED))
            )
        await self.opened()

    async def disconnect(self, code: int) -> None:
        await self.clean_up()

    async def authorize(self) -> bool:
        """Whether the user may use this socket now; runs at connect and before every frame.

        At connect the credentials are the ones the middleware checked a moment ago (the session's
        confirmed device and active user, or the live token): not read again.
        """
        if self.checked_at_handshake:
            self.checked_at_handshake = False
            self.credentials_valid = True
        elif self.principal.token_id is not None:
            self.credentials_valid = await database_sync_to_async(api_token_is_live)(self.principal.token_id)
        else:
            self.credentials_valid = await self._device_still_valid()
        return self.credentials_valid

    def refusal_code(self) -> int:
        """How a socket that failed ``authorize`` closes: 4401 once its token or session is no longer
        good (a program must get a new token), 4404 when only the access went."""
        return protocol.CLOSE_NOT_FOUND if self.credentials_valid else protocol.CLOSE_UNAUTHENTICATED

    async def opened(self) -> None:
        """After accept: join groups, send the first frames."""

    async def closed(self) -> None:
        """After the socket ended, however it ended: stop its tasks, delete what it wrote for itself.
        The groups it joined through ``join`` are left after this, by the base."""

    @database_sync_to_async
    def _device_still_valid(self) -> bool:
        device: Device | None = self.scope.get("otp_device")
        return (
            device is not None
            and type(device)
            .objects.filter(pk=device.pk, user_id=self.user.pk, confirmed=True, user__is_active=True)
            .exists()
        )

    # --- frames in ----------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        metrics.FRAMES_RECEIVED.labels(self.kind).inc()
        if self.refused:  # closed at connect; a frame already on its way is not read
            return
        if text_data is None:
            await self.reject_frame("binary_unsupported", "Frames are JSON text.")
            return
        if len(text_data.encode()) > self.max_frame_bytes:
            await self.send_json(
                protocol.error_frame("too_large", f"Frames are at most {self.max_frame_bytes} bytes.")
            )
            await self.close(code=protocol.CLOSE_TOO_LARGE)
            return
        if not self.bucket.take():
            await self.send_json(protocol.error_frame("rate_limited", "Too many frames; slow down."))
            await self.close(code=protocol.CLOSE_RATE_LIMITED)
            return
        try:
            data = json.loads(text_data)
        except (ValueError, RecursionError):
            await self.reject_frame("invalid_json", "A frame is one JSON object.")
            return
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            await self.reject_frame("invalid_frame", "A frame is a JSON object with a string 'type'.")
            return
        ref = data.get("ref") if isinstance(data.get("ref"), str) and len(data["ref"]) <= 64 else None
        entry = self.frames.get(data["type"])
        if entry is None:
            await self.reject_frame("unknown_type", "This frame type is not part of the protocol.", ref=ref)
            return
        schema, handler_name = entry
        try:
            frame = schema.model_validate(data)
        except ValidationError as exc:
            await self.reject_frame(
                "invalid_frame",
                "The frame does not match its schema.",
                ref=ref,
                fields=protocol.field_errors(exc),
            )
            return
        if not await self.authorize():
            await self.close(code=self.refusal_code())
            return
        await getattr(self, handler_name)(frame)

    async def reject_frame(
        self, code: str, message: str, *, ref: str | None = None, fields: dict[str, list[str]] | None = None
    ) -> None:
        self.invalid_frames += 1
        await self.send_json(protocol.error_frame(code, message, ref=ref, fields=fields))
        if self.invalid_frames >= self.max_invalid_frames:
            await self.close(code=protocol.CLOSE_BAD_FRAMES)

    async def send_json(self, content: dict[str, Any]) -> None:
        if content.get("type") == "error":
            metrics.REFUSALS.labels("socket", str(content.get("code"))).inc()
        await self.send(text_data=json.dumps(content, separators=(",", ":"), default=str))

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        if text_data is not None or bytes_data is not None:
            metrics.FRAMES_SENT.labels(self.kind).inc()
        await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        if code is not None and code >= 4000:  # the hub's own close codes: a refusal
            metrics.REFUSALS.labels("socket", f"close_{code}").inc()
        await super().close(code=code, reason=reason)

    async def dispatch(self, message: dict[str, Any]) -> None:
        await super().dispatch(message)
        committed_at = message.get("committed_at")  # stamped by cencomm.live on commit
        if isinstance(committed_at, float):
            metrics.DELIVERY_LAG.labels(str(message["type"])).observe(max(0.0, time.time() - committed_at))

    # --- events from the channel layer (types written by services, never by clients) ---------

    async def access_changed(self, event: dict[str, Any]) -> None:
        if not await self.authorize():
            await self.close(code=self.refusal_code())

    async def session_ended(self, event: dict[str, Any]) -> None:
        if event.get("session") == self.scope.get("session_fingerprint"):
            await self.close(code=protocol.CLOSE_UNAUTHENTICATED)


class PingFrame(protocol.ClientFrame):
    type: Literal["ping"]


class PingConsumer(HubConsumer):
    """``/ws/ping/``: a heartbeat for any verified user."""

    frames = {"ping": (PingFrame, "handle_ping")}

    async def handle_ping(self, frame: PingFrame) -> None:
        await self.send_json({"type": "pong", "ref": frame.ref, "server_time": timezone.now().isoformat()})


def _daphne_frame_limit_closes_with_4413() -> None:
    """A frame over daphne's own limit (``--websocket-max-message-size``, 1 MiB by default) never
    reaches ``receive``: autobahn dropped the TCP connection (the client saw 1006). Make that cut
    close with the hub's own 4413 too, so that every frame over the limit ends the same way."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # another ASGI server
        return

    def _max_message_size_exceeded(self: Any, msg_size: int, max_msg_size: int, reason: str) -> None:
        if self.state == self.STATE_CLOSED:
            return
        self.failedByMe = True  # autobahn ignores the rest of the frame
        if self.state == self.STATE_CLOSING:
            self.dropConnection(abort=False)
        else:
            self.sendCloseFrame(code=protocol.CLOSE_TOO_LARGE, reasonUtf8=b"too_large", isReply=False)

    WebSocketProtocol._max_message_size_exceeded = _max_message_size_exceeded


_daphne_frame_limit_closes_with_4413()
