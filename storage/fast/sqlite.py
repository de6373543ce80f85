"""SQLite on the event loop's own thread, behind aiosqlite's interface.

aiosqlite runs every call on a worker thread: each statement is a queue put, a thread
wake-up and a callback back into the loop, twice (execute, then fetch). Sopu's statements
take microseconds in SQLite itself, so those hand-offs, and the two threads contending
for the GIL under load, cost more than the work (bench/README.md). Here the same calls
run directly. Two kinds of waiting are kept off the loop's thread, so that it never stalls:

- A lock held by another process (the CLI importing mediators, a second replica) is
  not waited for in SQLite's busy handler, which would block the loop: the connection's
  busy timeout is 0 and a busy statement is retried after an asynchronous pause, up to
  the same total wait as before. A statement that returns SQLITE_BUSY has done nothing,
  so running it again is safe (SQLite documents this for COMMIT too).

- Waiting for the disk happens on worker threads. A disk usually flushes a file in
  about a millisecond, but now and then takes tens to hundreds (bench/README.md, round 4);
  on the loop's thread each such wait would stop every click in progress. So, on a
  database in WAL mode (``disk_off_the_loop``):

  - SQLite's COMMIT does not flush the log itself (synchronous NORMAL). A COMMIT that
    wrote is followed by a flush of the log file on a worker thread (``WalSync``), one
    flush for all the commits made before it began, and the COMMIT's caller goes on only
    after it, so a change is on disk before its maker is told it is made.
  - SQLite's own checkpoints, run in the COMMIT that takes the log past 1000 pages, are
    off; a worker thread checkpoints about once a second while there are writes, on a
    connection of its own (``Checkpoints``). A PASSIVE checkpoint waits for no reader or
    writer, and flushes the log before it copies it into the database file.

Statements that scan a lot (the yearly statistics) belong on the engine of
``storage.db.reports_engine``, which keeps aiosqlite's thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Generator
from functools import partial
from typing import Any, Generic, TypeVar

import aiosqlite

from mediation.trouble import trouble_at

log = logging.getLogger(__name__)
R = TypeVar("R")

_FIRST_PAUSE = 0.001
_LONGEST_PAUSE = 0.05
# Seconds between background checkpoints while there are writes: the log then holds
# about a second's commits, as SQLite's own 1000 pages did under load.
CHECKPOINT_EVERY = 1.0
# PASSIVE checkpoints in a row at most, and a log longer than this (pages) made to start
# over all the same (``Checkpoints``): four times SQLite's own checkpoint size, 16 MiB.
CHECKPOINT_PASSES = 4
RESTART_FRAMES = 4000


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


class _OnWorker(Generic[R]):
    """A file or connection opened and used on worker threads, one use at a time.

    ``close`` (from the loop's thread) does not wait for a use under way: that use closes
    it when it ends. After ``close`` a use does nothing.
    """

    def __init__(self, open_: Callable[[], R], close: Callable[[R], None]) -> None:
        self._open = open_
        self._close = close
        self._lock = threading.Lock()
        self._resource: R | None = None
        self._in_use = False
        self._closed = False

    def use(self, work: Callable[[R], None]) -> None:  # on a worker thread
        with self._lock:
            if self._closed:
                return
            if self._resource is None:
                self._resource = self._open()
            resource = self._resource
            self._in_use = True
        try:
            work(resource)
        finally:
            with self._lock:
                self._in_use = False
                if self._closed:  # closed while in use: closed here instead
                    self._resource = None
                    self._close(resource)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._resource is not None and not self._in_use:
                self._close(self._resource)
                self._resource = None


class Checkpoints:
    """PASSIVE checkpoints on a worker thread, at most one at a time, one ``every`` seconds.

    ``after_write`` is called after each COMMIT that wrote. A checkpoint that falls due
    too soon after the last waits on a timer, so the last writes of a busy spell are
    checkpointed too.
    """

    def __init__(self, connector: Callable[[], sqlite3.Connection], every: float) -> None:
        self._every = every
        self._worker = _OnWorker(connector, sqlite3.Connection.close)
        self._closed = False
        self._due = False  # written since the last checkpoint began
        self._not_before = 0.0  # loop time
        self._running = False
        self._timer: asyncio.TimerHandle | None = None
        self._failing = False
        self.done = 0  # checkpoints completed

    def after_write(self) -> None:
        self._due = True
        if not self._running and self._timer is None:
            self._start()

    def _start(self) -> None:
        self._timer = None
        if self._closed or self._running or not self._due:
            return
        loop = asyncio.get_running_loop()
        wait = self._not_before - loop.time()
        if wait > 0:
            self._timer = loop.call_later(wait, self._start)
            return
        self._due = False
        self._not_before = loop.time() + self._every
        self._running = True
        loop.run_in_executor(None, self._checkpoint).add_done_callback(self._finished)

    def _checkpoint(self) -> None:  # on a worker thread
        self._worker.use(self._copy_log)

    @staticmethod
    def _copy_log(connection: sqlite3.Connection) -> None:
        """Copy the log into the database file, so that the next write starts it over.

        The log starts over (at its first frame: its file does not grow, and a flush
        need not wait for the file system's own journal) with the first write after a
        checkpoint that left nothing uncopied. A PASSIVE checkpoint copies what was in
        the log when it began; a write that came meanwhile leaves it behind, so passes
        are repeated until one finds nothing new. A log that has grown over
        ``RESTART_FRAMES`` all the same is copied by a RESTART checkpoint, which holds
        off new writes while it copies what is left (they wait asynchronously).
        """
        before = -1
        for _ in range(CHECKPOINT_PASSES):
            _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if frames == before and copied == frames:
                return
            before = frames
        if frames > RESTART_FRAMES:
            connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()

    def _finished(self, future: asyncio.Future[None]) -> None:
        self._running = False
        error = None if future.cancelled() else future.exception()
        if error is None:
            self.done += 1
            self._failing = False
        elif not self._failing:  # once per failing spell: SQLite checkpoints at close anyway
            self._failing = True
            log.warning("background checkpoint failed (will try again): %s", trouble_at(error))
        if not self._closed and self._due:
            self._start()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._closed = True
        self._worker.close()


class WalSync:
    """The write-ahead log flushed to disk on a worker thread, once for all commits before it.

    ``wrote()`` numbers a COMMIT that wrote; ``durable(n)`` returns once a flush begun
    after commit ``n`` has ended. Commits that come while a flush is under way share the
    next one.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.written = 0
        self.synced = 0
        self._syncing: asyncio.Future[None] | None = None
        # The log file stays open between flushes: SQLite keeps it (same name, same file)
        # while any connection is open, and this one's is until ``close``. A flush after
        # ``close`` does nothing: the connection's close checkpointed the log into the
        # database file and flushed that, if it was the last one.
        self._file = _OnWorker(partial(os.open, path, os.O_RDONLY), os.close)

    def wrote(self) -> int:
        self.written += 1
        return self.written

    async def durable(self, upto: int) -> None:
        while self.synced < upto:
            if self._syncing is None:
                self._syncing = asyncio.ensure_future(self._sync())
            # Shielded: a turn cancelled while it waits does not stop the others' flush.
            await asyncio.shield(self._syncing)

    async def _sync(self) -> None:
        target = self.written
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._flush)
        except OSError as exc:
            log.error(
                "the write-ahead log %s could not be flushed to disk: %s",
                self.path,
                trouble_at(exc),
            )
            raise
        finally:
            self._syncing = None
        self.synced = max(self.synced, target)

    def _flush(self) -> None:  # on a worker thread
        self._file.use(lambda fd: _FDATASYNC(fd))

    def close(self) -> None:
        self._file.close()


# Not every platform has fdatasync (macOS); fsync flushes the same and the file's metadata.
_FDATASYNC = getattr(os, "fdatasync", os.fsync)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread (see the module doc)."""

    def __init__(
        self,
        connector: Callable[[], sqlite3.Connection],
        busy_seconds: float,
        worker_connector: Callable[[], sqlite3.Connection] | None = None,
    ) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]
        self._busy_seconds = busy_seconds
        self._worker_connector = worker_connector or connector
        self._changes = 0  # sqlite3's total_changes after the last COMMIT
        self.checkpoints: Checkpoints | None = None
        self.wal: WalSync | None = None
        # Set for one commit by storage.db.commit: the commit's flush is waited for by the
        # committer once it has let go of the connection (its number goes in this list).
        self._flush_later: list[int] | None = None

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._open().__await__()

    async def _open(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    @property
    def raw(self) -> sqlite3.Connection:
        """The sqlite3 connection itself (the engine factory's BEGIN IMMEDIATE uses it)."""
        return self._conn

    async def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, waiting asynchronously while another process holds the lock."""
        connection = self._conn
        await self.retry_busy(lambda: connection.execute("BEGIN IMMEDIATE"))

    async def begin_deferred(self) -> None:
        """BEGIN: a read snapshot from the first read on, with no lock taken up front."""
        connection = self._conn
        await self.retry_busy(lambda: connection.execute("BEGIN"))

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

    def disk_off_the_loop(self, every: float | None = None) -> None:
        """Wait for the disk on worker threads: log flushes after COMMIT, and checkpoints.

        For a database in WAL mode only (the caller has set it). SQLite's COMMIT no longer
        flushes the log itself (synchronous NORMAL), nor checkpoints: a COMMIT that wrote
        waits for a ``WalSync`` flush instead, and ``Checkpoints`` runs in the background.
        """
        if self.wal is not None:
            return
        connection = self._conn
        databases = connection.execute("PRAGMA database_list").fetchall()
        path = next(file for _, name, file in databases if name == "main")
        connection.execute("PRAGMA wal_autocheckpoint = 0")
        connection.execute("PRAGMA synchronous = NORMAL")
        self.checkpoints = Checkpoints(self._worker_connector, every or CHECKPOINT_EVERY)
        self.wal = WalSync(f"{path}-wal")

    async def commit(self) -> None:
        await self._execute(self._conn.commit)
        changes = self._conn.total_changes
        if changes == self._changes or self.wal is None:
            return  # nothing written, or not in WAL mode: nothing to wait for
        self._changes = changes
        assert self.checkpoints is not None
        self.checkpoints.after_write()
        upto = self.wal.wrote()
        later = self._flush_later
        if later is not None:
            later.append(upto)
        else:
            await self.wal.durable(upto)

    def flush_after_release(self, flushes: list[int] | None) -> None:
        """The next commit leaves its flush to the caller: its number goes in ``flushes``."""
        self._flush_later = flushes

    async def rollback(self) -> None:
        await self._execute(self._conn.rollback)

    def stop(self) -> None:
        self._running = False
        if self.checkpoints is not None:
            self.checkpoints.close()
        if self.wal is not None:
            self.wal.close()
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

    def worker_connector() -> sqlite3.Connection:
        # For the background checkpoints: on a worker thread, so SQLite's own busy
        # handler may wait there.
        return sqlite3.connect(database, timeout=busy_seconds, check_same_thread=False, **kwargs)

    return InlineConnection(connector, busy_seconds, worker_connector)
