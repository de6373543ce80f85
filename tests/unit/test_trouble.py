"""Exceptions in the log: the class and Sopu's own line, never what the message quotes."""

from __future__ import annotations

import logging
import sys

from bot.access_log import ErrorKindOnly
from mediation.trouble import database_trouble, trouble_at

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
    from mediation.trouble import ValuesWithheld

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
    # Another handler's formatter that wrote the whole traceback first (a log shipper's, say)
    # leaves its text on the record: this one still withholds the messages.
    assert CANARY in logging.Formatter().format(record).replace("{CANARY}", "")
    again = ValuesWithheld("%(levelname)s %(name)s: %(message)s").format(record)
    assert again == line


def test_a_connector_error_is_named_by_its_status_and_code() -> None:
    from bot.framework.connector import ConnectorError

    error = ConnectorError(403, "ConversationBlockedByUser", f"blocked: {CANARY}")
    assert database_trouble(error) == "ConnectorError HTTP 403 ConversationBlockedByUser"


def test_no_log_line_formats_an_exception_itself() -> None:
    """An exception's str or repr may quote data: log lines name it with mediation.trouble."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    call = re.compile(r"log\.\w+\((?P<args>.*)\)")
    found = []
    for package in ("bot", "jobs", "graph", "storage", "mediation", "cards"):
        for path in (root / package).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                match = call.search(line)
                if match is None:
                    continue
                args = match["args"]
                if re.search(r",\s*(exc|error|err|e)\s*[,)]?\s*$", args) or re.search(
                    r",\s*(str|repr)\((exc|error|err|e)\)", args
                ):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert found == []
