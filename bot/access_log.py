"""aiohttp's logs without the secrets that Sopu's own addresses carry, or the families' addresses.

A parent's feedback link (/feedback/<token>), a mediator's calendar feed
(/calendar/<token>.ics) and a signed statistics download (?expires=…&sig=…) are each as
good as a password to whoever reads them; aiohttp's stock access log writes the whole
request line, Referer included. This logger writes the method, the path with those parts
replaced, the status, the size and the time taken. For the families' own pages it writes
no network address either: a line "contact request 12 stored" next to one would tie a
family to where they wrote from.

aiohttp's server log, for a request it cannot parse (a line or header too long), would
write the raw request line and the client's address with a traceback; the filter here
leaves of such a line only the error's class name.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from mediation.trouble import PerMinute, trouble_at

HIDDEN = "***"
# The routes whose next path segment is a bearer secret.
_SECRET_SEGMENT = re.compile(r"^/(feedback|calendar)/[^/]+?(\.ics)?(?=/|$)")
# Query values anyone may read; every other value is hidden (signatures, expiry, tokens).
_PLAIN_KEYS = frozenset({"lang"})
_MAX_PATH = 200
_SLASHES = re.compile(r"/{2,}")
# The pages parents use: no network address is logged with them.
_FAMILY_PAGES = re.compile(r"^/(contact|feedback|info)(/|$)")
# A %-placeholder in a log message's template, where a request's value would go.
_PLACEHOLDER = re.compile(r"%(\([^)]*\))?[-#0 +]*\d*(\.\d+)?[a-zA-Z%]")


def redacted(path: str, query: Any) -> str:
    """The request's path and query as the log may show them."""
    # "//calendar/<token>.ics" or "/calendar//<token>.ics" name no route, but the token
    # must not be written either.
    path = _SLASHES.sub("/", path)
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
        family = _FAMILY_PAGES.match(request.path) is not None
        self.logger.info(
            '%s "%s %s" %d %d %.3fs',
            "-" if family else request.remote or "-",
            request.method,
            redacted(request.path, request.query),
            response.status,
            response.body_length,
            time,
        )


class ErrorKindOnly(logging.Filter):
    """Keeps of aiohttp's own lines only what cannot quote a request: the error's class name.

    An exception raised while parsing a request carries the bytes it choked on (a feedback
    link's token, a header's value) and aiohttp logs it with the client's address; the
    record is rewritten before any handler sees it.
    """

    def __init__(self, keep_arguments: bool) -> None:
        super().__init__()
        # The access log's arguments are the redacted fields above; the server's are not.
        self.keep_arguments = keep_arguments
        # aiohttp writes an error line for each request it cannot parse, and an access line
        # for each refusal (a 4xx): a flood of either is written at a bounded rate. (One
        # filter per logger and process: aiohttp makes an access logger per connection.)
        self.flood = PerMinute()

    def filter(self, record: logging.LogRecord) -> bool:
        if self._bounded(record) and not self.flood.allow(logging.getLogger(record.name)):
            return False
        kind = ""
        if record.exc_info and record.exc_info[1] is not None:
            # The class and the line of Sopu's code it came from: a bug can be found, and
            # nothing the request carried is quoted.
            kind = trouble_at(record.exc_info[1])
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        if not self.keep_arguments:
            text = _PLACEHOLDER.sub("-", str(record.msg))
            record.msg = f"{text} ({kind})" if kind else text
            record.args = None
        elif kind:
            record.msg = f"{record.msg} ({kind})"
        return True

    def _bounded(self, record: logging.LogRecord) -> bool:
        if not self.keep_arguments:
            return True  # the server's error lines
        args = record.args
        status = args[3] if isinstance(args, tuple) and len(args) == 6 else None
        return isinstance(status, int) and 400 <= status < 500


def quiet_aiohttp_errors() -> None:
    """Put ErrorKindOnly on aiohttp's server and access loggers, once per process; each
    app made starts their flood counts anew."""
    for name, keep_arguments in (("aiohttp.server", False), ("aiohttp.access", True)):
        logger = logging.getLogger(name)
        found = [f for f in logger.filters if isinstance(f, ErrorKindOnly)]
        if found:
            found[0].flood = PerMinute()
        else:
            logger.addFilter(ErrorKindOnly(keep_arguments))
