"""Exceptions named for the log without what they may quote.

An exception's message can hold a row's values (a database error), the bytes of a request
(aiohttp's parser) or a family's data (a card that failed to render): the log gets the
class, a database's error code, and the line in Sopu's own code where it was raised.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType


def database_trouble(exc: BaseException) -> str:
    """The exception's class and the database's error code (SQLSTATE), no values."""
    original = getattr(exc, "orig", None)
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    name = type(exc).__name__
    status = getattr(exc, "status", None)  # an HTTP answer's status and error code (Teams')
    if isinstance(status, int):
        name += f" HTTP {status}"
    error_code = getattr(exc, "code", None)
    if isinstance(error_code, str) and error_code.isidentifier():
        name += f" {error_code}"
    return f"{name} {code}" if code else name


def trouble_at(exc: BaseException) -> str:
    """As :func:`database_trouble`, and where in Sopu's own code it was raised."""
    ours = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if "site-packages" not in frame.filename and "/lib/python" not in frame.filename
    ]
    if not ours:
        return database_trouble(exc)
    path = Path(ours[-1].filename)
    return f"{database_trouble(exc)} at {path.parent.name}/{path.name}:{ours[-1].lineno}"


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class ValuesWithheld(logging.Formatter):
    """The log's formatter: a traceback keeps its frames, its exceptions only their class.

    Where an error happened stays readable (files, lines, the code on them); what an
    exception's message quoted (a row's values, a request's bytes, a family's details)
    never reaches the log. Chained exceptions are shown the same way.
    """

    def format(self, record: logging.LogRecord) -> str:
        # logging.Formatter keeps the first handler's traceback text on the record and
        # reuses it: another handler's plain text, message included, must not be reused here
        # (nor this text there).
        kept = record.exc_text
        record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_text = kept

    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:
        exc = ei[1]
        if exc is None:
            return ""
        parts: list[str] = []
        seen: set[int] = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            frames = "".join(traceback.format_tb(exc.__traceback__))
            parts.append(
                f"Traceback (most recent call last):\n{frames}"
                f"{database_trouble(exc)} (message withheld)"
            )
            exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        return "\n\nwhich came from:\n".join(parts)


class PerMinute:
    """At most ``limit`` lines a minute of one kind; the rest are counted, and the count is
    told with the next minute's first line. A flood of refused or unreadable requests must
    not fill the disk, while the first of them stay readable."""

    def __init__(self, limit: int = 30, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self.window_start = -math.inf
        self.written = 0
        self.dropped = 0

    def allow(self, logger: logging.Logger) -> bool:
        now = self.clock()
        if now - self.window_start >= 60:
            dropped = self.dropped
            # Reset first: the line below may come back here through the logger's filter.
            self.window_start, self.written, self.dropped = now, 0, 0
            if dropped:
                # The count in the text: the server's filter blanks a message's arguments.
                logger.warning(f"{dropped} more such lines were left out")
        if self.written < self.limit:
            self.written += 1
            return True
        self.dropped += 1
        return False
