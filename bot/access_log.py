"""aiohttp's access log without the secrets that Sopu's own addresses carry.

A parent's feedback link (/feedback/<token>), a mediator's calendar feed
(/calendar/<token>.ics) and a signed statistics download (?expires=…&sig=…) are each as
good as a password to whoever reads them; aiohttp's stock access log writes the whole
request line, Referer included. This logger writes the method, the path with those parts
replaced, the status, the size and the time taken.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

HIDDEN = "***"
# The routes whose next path segment is a bearer secret.
_SECRET_SEGMENT = re.compile(r"^/(feedback|calendar)/[^/]+?(\.ics)?(?=/|$)")
# Query values anyone may read; every other value is hidden (signatures, expiry, tokens).
_PLAIN_KEYS = frozenset({"lang"})
_MAX_PATH = 200


def redacted(path: str, query: Any) -> str:
    """The request's path and query as the log may show them."""
    shown = _SECRET_SEGMENT.sub(lambda m: f"/{m.group(1)}/{HIDDEN}{m.group(2) or ''}", path)
    shown = shown[:_MAX_PATH]
    if query:
        parts = [
            f"{key[:40]}={value[:10] if key in _PLAIN_KEYS else HIDDEN}"
            for key, value in list(query.items())[:10]
        ]
        shown = f"{shown}?{'&'.join(parts)}"
    # A path can hold any character; a line break must not start a forged log line.
    return shown.encode("unicode_escape").decode("ascii")


class RedactingAccessLogger(AbstractAccessLogger):
    """Logs each request in one line with its secrets hidden (see the module's docstring)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %d %d %.3fs',
            request.remote or "-",
            request.method,
            redacted(request.path, request.query),
            response.status,
            response.body_length,
            time,
        )
