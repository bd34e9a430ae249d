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
import time
from typing import Any, ClassVar, Literal

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.models import Device
from pydantic import ValidationError

from cencomm import metrics, protocol
from cencomm.live import user_group
from cencomm.principal import Principal, api_token_is_live

log = logging.getLogger(__name__)
CLEANUP_SECONDS = 10


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

    @property
    def kind(self) -> str:
        """The socket's kind in the metrics: ``RoomsConsumer`` is ``rooms``."""
        return type(self).__name__.removesuffix("Consumer").lower()

    # --- lifecycle ----------------------------------------------------------------------------

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        principal = self.scope.get("principal")
        verified = self.scope.get("otp_device") is not None or getattr(principal, "token_id", None)
        if not getattr(self.user, "is_authenticated", False) or principal is None or not verified:
            await self.close(code=protocol.CLOSE_UNAUTHENTICATED)
            return
        self.principal = principal
        self.bucket = TokenBucket(
            getattr(settings, "CENCOMM_WS_FRAMES_PER_SECOND", 10),
            getattr(settings, "CENCOMM_WS_FRAME_BURST", 40),
        )
        self.invalid_frames = 0
        if not await self.authorize():
            await self.close(code=protocol.CLOSE_NOT_FOUND)
            return
        await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
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
        # Bounded: a clean-up that waits on an unreachable channel layer must not hold the socket's
        # task (or a test awaiting its cancellation) forever; groups expire on their own.
        if self.token_expiry is not None:
            self.token_expiry.cancel()
        if self.counted_open is not None:
            metrics.SOCKETS_OPEN.labels(*self.counted_open).dec()
            self.counted_open = None
        try:
            async with asyncio.timeout(CLEANUP_SECONDS):
                if getattr(self, "user", None) is not None and self.user.is_authenticated:
                    await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)
                await self.closed()
        except TimeoutError:
            metrics.CHANNEL_LAYER_ERRORS.labels("cleanup").inc()
            log.warning("socket clean-up timed out after %s s", CLEANUP_SECONDS)

    async def authorize(self) -> bool:
        """Whether the user may use this socket now; runs at connect and before every frame."""
        if self.principal.token_id is not None:
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
        """After disconnect: leave groups."""

    @database_sync_to_async
    def _device_still_valid(self) -> bool:
        device: Device | None = self.scope.get("otp_device")
        return (
            device is not None
            and type(device).objects.filter(pk=device.pk, user_id=self.user.pk, confirmed=True).exists()
            and get_user_model().objects.filter(pk=self.user.pk, is_active=True).exists()
        )

    # --- frames in ----------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        metrics.FRAMES_RECEIVED.labels(self.kind).inc()
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
