"""Errors that the API, the pages and the consumers all translate the same way."""

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
