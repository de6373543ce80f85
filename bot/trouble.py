"""Exceptions named for the log without what they may quote.

An exception's message can hold a row's values (a database error), the bytes of a request
(aiohttp's parser) or a family's data (a card that failed to render): the log gets the
class, a database's error code, and the line in Sopu's own code where it was raised.
"""

from __future__ import annotations

import traceback
from pathlib import Path


def database_trouble(exc: BaseException) -> str:
    """The exception's class and the database's error code (SQLSTATE), no values."""
    original = getattr(exc, "orig", None)
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    name = type(exc).__name__
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
