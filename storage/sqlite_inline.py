"""SQLite on the event loop's own thread, behind aiosqlite's interface.

aiosqlite runs every call on a worker thread: each statement is a queue put, a thread
wake-up and a callback back into the loop, twice (execute, then fetch). Sopu's statements
take microseconds in SQLite itself, so those hand-offs, and the two threads contending
for the GIL under load, cost more than the work (bench/claims.py: about 30% of a card
click's CPU). Here the same calls run directly. One exception keeps the loop from
stalling:

- A lock held by another process (the CLI importing mediators, a second replica) is
  not waited for in SQLite's busy handler, which would block the loop: the connection's
  busy timeout is 0 and a busy statement is retried after an asynchronous pause, up to
  the same total wait as before. A statement that returns SQLITE_BUSY has done nothing,
  so running it again is safe (SQLite documents this for COMMIT too).

The COMMIT of a transaction that wrote waits for the disk (fsync) on the loop's thread too.
It used to run on a worker thread; but SQLite has the one connection, which no other
transaction can use until the COMMIT is done, and the hand-off to the thread and back,
with the GIL passed between them, cost more than the loop could do meanwhile
(bench/claims.py: about 9% more clicks per second with the COMMIT on the loop).

Statements that scan a lot (the yearly statistics) belong on the engine of
``storage.db.reports_engine``, which keeps aiosqlite's thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite

_FIRST_PAUSE = 0.001
_LONGEST_PAUSE = 0.05


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) == sqlite3.SQLITE_BUSY
    return "database is locked" in str(exc)


class _RunNow:
    """Stands in for aiosqlite's queue to its worker thread, for SQLAlchemy.

    SQLAlchemy's aiosqlite adapter sets the isolation level by putting a call on that
    queue itself; here the call runs at once and its future is completed.
    """

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the waiting future, as the thread would
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread (see the module doc)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_seconds: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]
        self._busy_seconds = busy_seconds

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._open().__await__()

    async def _open(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    @property
    def raw(self) -> sqlite3.Connection:
        """The sqlite3 connection itself, for statements run directly (storage/direct.py)."""
        return self._conn

    async def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, waiting asynchronously while another process holds the lock."""
        connection = self._conn
        await self.retry_busy(lambda: connection.execute("BEGIN IMMEDIATE"))

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        call = partial(fn, *args, **kwargs) if args or kwargs else fn
        return await self.retry_busy(call)

    async def retry_busy(self, call: Callable[[], Any]) -> Any:
        """``call()``, run again after a pause while another process holds the lock."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._busy_seconds
        pause = _FIRST_PAUSE
        while True:
            try:
                return call()
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or loop.time() >= deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)

    async def commit(self) -> None:
        await self._execute(self._conn.commit)

    async def rollback(self) -> None:
        await self._execute(self._conn.rollback)

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def connect(database: str, busy_seconds: float, **kwargs: Any) -> InlineConnection:
    """Like ``aiosqlite.connect``, for calls on the event loop's thread."""

    def connector() -> sqlite3.Connection:
        # Made on the loop's thread by the pool; check_same_thread stays off because
        # SQLAlchemy may close it from the thread that disposes of the engine.
        return sqlite3.connect(database, timeout=0, check_same_thread=False, **kwargs)

    return InlineConnection(connector, busy_seconds)
