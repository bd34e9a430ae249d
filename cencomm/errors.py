"""Errors that the API, the pages and the consumers all translate the same way."""

from django.core.exceptions import ValidationError
from django.http import Http404


class NotFound(Http404):
    """Raised by every ``access_*`` selector for anything the caller may not see.

    Outsiders get exactly what a missing object gets, so they cannot learn that it exists.
    """

    def __init__(self, what: str = "object") -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Refused(Exception):
    """An action a member may see but may not take now (for example: the operation is closed)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def validation_messages(exc: ValidationError) -> dict[str, list[str]]:
    """A ValidationError's messages by field (``__all__`` for those of no field): what the API's 422
    (``hub.api``) and a page's form show, whether the error names fields or not."""
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()
        }
    return {"__all__": [str(m) for m in exc.messages]}
