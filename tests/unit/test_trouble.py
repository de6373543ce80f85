"""Exceptions in the log: the class and Sopu's own line, never what the message quotes."""

from __future__ import annotations

import logging
import sys

from bot.access_log import ErrorKindOnly
from bot.trouble import database_trouble, trouble_at

CANARY = "Maija Meikäläinen 040 123 4567"


def _fails() -> None:
    raise ValueError(f"could not read {CANARY}")


def _caught() -> BaseException:
    try:
        _fails()
    except ValueError as exc:
        return exc
    raise AssertionError("no exception")


def test_an_exception_is_named_by_its_class_and_sopus_line() -> None:
    named = trouble_at(_caught())
    assert named.startswith("ValueError at unit/test_trouble.py:")
    assert CANARY not in named and "could not read" not in named


def test_a_database_error_keeps_its_code_not_its_message() -> None:
    class Orig(Exception):
        sqlstate = "40P01"

    class DBError(Exception):
        orig = Orig(f"Key (name)=({CANARY}) already exists")

    assert database_trouble(DBError(f"detail: {CANARY}")) == "DBError 40P01"


def test_aiohttp_error_lines_keep_the_kind_and_line_not_the_request() -> None:
    exc = _caught()
    record = logging.LogRecord(
        "aiohttp.server", logging.ERROR, __file__, 1, "Error handling request from %s: %r",
        ("203.0.113.9", CANARY), (type(exc), exc, exc.__traceback__),
    )  # fmt: skip
    assert ErrorKindOnly(keep_arguments=False).filter(record)
    line = record.getMessage()
    assert "ValueError at unit/test_trouble.py:" in line
    assert CANARY not in line and "203.0.113.9" not in line
    assert record.exc_info is None and record.exc_text is None
    assert sys.exc_info() == (None, None, None)


def test_the_logs_formatter_keeps_the_frames_and_withholds_the_messages() -> None:
    from bot.trouble import ValuesWithheld

    try:
        try:
            _fails()
        except ValueError as inner:
            raise RuntimeError(f"while saving {CANARY}") from inner
    except RuntimeError as exc:
        record = logging.LogRecord(
            "bot.router", logging.ERROR, __file__, 1, "action %s failed", ("case.claim",),
            (type(exc), exc, exc.__traceback__),
        )  # fmt: skip
    line = ValuesWithheld("%(levelname)s %(name)s: %(message)s").format(record)
    assert line.startswith("ERROR bot.router: action case.claim failed\nTraceback")
    assert "RuntimeError (message withheld)" in line and "ValueError (message withheld)" in line
    assert "in _fails" in line and 'raise ValueError(f"could not read {CANARY}")' in line
    assert CANARY not in line.replace("{CANARY}", "")
