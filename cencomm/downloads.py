"""The one way CENcomm answers with a file: report downloads, result photos, room attachments.

Every file goes out private and uncached (``no-store``), never sniffed into another type, named by
a Content-Disposition that is ``attachment`` unless the caller asks to show it ``inline``. Callers
add what is theirs (a report's sandbox policy, an evidence file's SHA-256) as ``headers``.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpResponse


def download_response(
    data: bytes,
    *,
    filename: str,
    content_type: str,
    inline: bool = False,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """``data`` as a file named ``filename`` (a name the server made: no user text in it)."""
    response = HttpResponse(data, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    for name, value in (headers or {}).items():
        response[name] = value
    return response
