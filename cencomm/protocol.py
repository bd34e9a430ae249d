"""The WebSocket protocol's shared parts: frame schemas, error frames, close codes.

Every frame a client sends is a JSON object with a ``type`` that must be in the consumer's
allow-list, and is validated against that type's schema (unknown fields are refused).
See docs/protocol.md.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROTOCOL_VERSION = 1

# Close codes (4000-4999 are the application's).
CLOSE_UNAUTHENTICATED = 4401  # no session with both factors, or the session ended
CLOSE_NOT_FOUND = 4404  # not a member (any more), or no such operation or room
CLOSE_TOO_LARGE = 4413  # a frame over the size limit
CLOSE_BAD_FRAMES = 4400  # too many invalid frames
CLOSE_RATE_LIMITED = 4429  # too many frames too fast
CLOSE_SLOW_CONSUMER = 4408  # the client does not read what it is sent

ClientRef = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")


class ClientFrame(BaseModel):
    """Base of every frame a client sends."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    ref: str | None = ClientRef  # echoed back in replies and errors so a client can match them


def error_frame(
    code: str, message: str, *, ref: str | None = None, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if ref is not None:
        frame["ref"] = ref
    if fields:
        frame["fields"] = fields
    return frame


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        key = ".".join(str(part) for part in error["loc"]) or "__all__"
        errors.setdefault(key, []).append(error["msg"])
    return errors
