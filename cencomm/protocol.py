"""The client protocol's shared parts: frame schemas, error frames, close codes, client IDs.

Every frame a client sends is a JSON object with a ``type`` that must be in the consumer's
allow-list, and is validated against that type's schema (unknown fields are refused).
See docs/protocol.md.

A client ID names a draft (a message, a result) so that sending it again stores nothing twice.
It has one format everywhere, a UUID written 8-4-4-4-12 (:data:`ClientId`, lower-cased), and one
rule: the same ID with the same body answers the stored record; with a different body it is
refused with :class:`ClientIdReused` (409 on the API, error code ``client_id_reused`` on a socket).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from django.utils.translation import gettext, gettext_noop
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from cencomm.errors import Refused

PROTOCOL_VERSION = 1

# Close codes (4000-4999 are the application's).
CLOSE_UNAUTHENTICATED = 4401  # no session with both factors, or the session ended
CLOSE_FORBIDDEN = 4403  # the handshake's Origin is not one of the hub's (another site's page)
CLOSE_NOT_FOUND = 4404  # not a member (any more), or no such operation or room
CLOSE_TOO_LARGE = 4413  # a frame over the size limit
CLOSE_BAD_FRAMES = 4400  # too many invalid frames
CLOSE_RATE_LIMITED = 4429  # too many frames too fast
CLOSE_SLOW_CONSUMER = 4408  # the client does not read what it is sent
CLOSE_OVERLOADED = 4503  # shed at connect (too many connecting at once): retry after `retry_after` s

CLIENT_ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
#: What a wrong client ID is told (the API's 422 and a socket's error frame), rather than the pattern.
CLIENT_ID_MESSAGE = gettext_noop("client_id must be a UUID, e.g. 7d9f1c2e-4b6a-4c8d-9e0f-1a2b3c4d5e6f.")


def _client_id(value: str) -> str:
    if not re.fullmatch(CLIENT_ID_PATTERN, value):
        raise PydanticCustomError("client_id", gettext(CLIENT_ID_MESSAGE))
    return value.lower()


#: A client ID in schemas (API bodies and frames): a UUID string, stored lower-cased. The schema
#: still publishes the pattern (OpenAPI, and what the fuzz tests generate from it).
ClientId = Annotated[str, Field(json_schema_extra={"pattern": CLIENT_ID_PATTERN}), AfterValidator(_client_id)]

CODE_CLIENT_ID_REUSED = "client_id_reused"


class ClientIdReused(Refused):
    """The client ID already names a stored record whose body differs from this one."""

    code = CODE_CLIENT_ID_REUSED

    def __init__(self, message: str, *, stored_id: int | str) -> None:
        super().__init__(message, field="client_id")
        self.stored_id = stored_id


ClientRef = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")


class ClientFrame(BaseModel):
    """Base of every frame a client sends."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    ref: str | None = ClientRef  # echoed back in replies and errors so a client can match them


def error_frame(
    code: str,
    message: str,
    *,
    ref: str | None = None,
    fields: dict[str, list[str]] | None = None,
    id: int | str | None = None,  # noqa: A002 - the frame's field name
) -> dict[str, Any]:
    """An ``error`` frame; ``id`` names the stored record a ``client_id_reused`` error is about."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if ref is not None:
        frame["ref"] = ref
    if fields:
        frame["fields"] = fields
    if id is not None:
        frame["id"] = id
    return frame


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        key = ".".join(str(part) for part in error["loc"]) or "__all__"
        errors.setdefault(key, []).append(error["msg"])
    return errors
