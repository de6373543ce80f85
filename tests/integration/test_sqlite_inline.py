"""SQLite on the event loop's thread: locks held elsewhere are waited for without stalling it."""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.db import create_engine, reports_engine
from storage.fast import sqlite as sqlite_inline


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "inline.db"
    engine = create_engine(f"sqlite:///{path}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER)"))
    await engine.dispose()
    yield path


def _hold_write_lock(path: Path, seconds: float, taken: threading.Event) -> None:
    """Another writer (the CLI, another replica) holding SQLite's write lock for a while."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    taken.set()
    threading.Event().wait(seconds)
    other.execute("COMMIT")
    other.close()


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM t"))).scalar_one())


async def test_a_held_lock_is_waited_for_while_the_loop_keeps_running(sqlite_file: Path) -> None:
    engine = create_engine(f"sqlite:///{sqlite_file}")
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(sqlite_file, 0.4, taken))
    holder.start()
    try:
        assert await asyncio.to_thread(taken.wait, 5)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        loop = asyncio.get_running_loop()
        began = loop.time()
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (2)"))
        waited = loop.time() - began
        ticking.cancel()
        # The write waited for the other writer's COMMIT, and the loop ran all along:
        # SQLite's own busy handler would have slept on this thread instead.
        assert waited >= 0.2
        assert ticks >= waited / 0.01 * 0.5
        assert await _count(engine) == 2
    finally:
        holder.join()
        await engine.dispose()


async def test_a_lock_held_too_long_is_the_usual_error(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.db.SQLITE_BUSY_TIMEOUT_MS", 200)
    engine = create_engine(f"sqlite:///{sqlite_file}")
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(sqlite_file, 1.0, taken))
    holder.start()
    try:
        assert await asyncio.to_thread(taken.wait, 5)
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (2)"))
    finally:
        holder.join()
    assert await _count(engine) == 1  # the other writer's row; nothing of ours
    await engine.dispose()


async def test_a_report_reads_a_snapshot_without_holding_up_writers(sqlite_file: Path) -> None:
    engine = create_engine(f"sqlite:///{sqlite_file}")
    reports = reports_engine(engine)
    assert reports is not engine
    try:
        async with reports.begin() as report:
            before = (await report.execute(text("SELECT count(*) FROM t"))).scalar_one()
            # A write commits while the report's transaction is still open...
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (3)"))
            # ...and the report keeps reading the state it began with.
            again = (await report.execute(text("SELECT count(*) FROM t"))).scalar_one()
            assert (before, again) == (0, 0)
        assert await _count(reports) == 1
    finally:
        await reports.dispose()
        await engine.dispose()


async def test_writes_are_durable_and_read_only_commits_write_nothing(sqlite_file: Path) -> None:
    engine = create_engine(f"sqlite:///{sqlite_file}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (4)"))
        async with engine.begin() as connection:  # read only
            assert (await connection.execute(text("SELECT n FROM t"))).scalar_one() == 4
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE t SET n = 5"))
    finally:
        await engine.dispose()
    # Another connection, as after a restart, sees every committed write.
    other = sqlite3.connect(sqlite_file)
    assert other.execute("SELECT n FROM t").fetchall() == [(5,)]
    other.close()


async def test_the_inline_connection_refuses_work_once_closed(sqlite_file: Path) -> None:
    connection = await sqlite_inline.connect(str(sqlite_file), 1.0)
    assert list(await connection.execute_fetchall("SELECT count(*) FROM t")) == [(0,)]
    await connection.close()
    # aiosqlite's own words, which SQLAlchemy turns into OperationalError.
    with pytest.raises(ValueError, match=r"no active connection|Connection closed"):
        await connection.execute("SELECT 1")


async def test_memory_and_postgres_databases_read_reports_through_their_own_engine() -> None:
    for url in ("sqlite://", "postgresql://nobody@127.0.0.1:1/none"):
        engine = create_engine(url)
        assert reports_engine(engine) is engine
        await engine.dispose()


# -- waiting for the disk off the loop ------------------------------------------------------


async def _driver(engine: AsyncEngine) -> sqlite_inline.InlineConnection:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
    assert isinstance(driver, sqlite_inline.InlineConnection)
    return driver


def _size(path: Path) -> int:
    return path.stat().st_size


async def _write_as_a_unit_of_work(engine: AsyncEngine, n: int) -> None:
    """A row written and committed as a unit of work commits (storage/uow.py)."""
    async with AsyncSession(engine) as session:
        await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        await session.commit()


class _SlowDisk:
    """The disk's flush, held until released: the outer edge, as a slow disk would be."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.flushes = 0

    def __call__(self, fd: int) -> None:
        self.entered.set()
        self.release.wait(5)
        self.flushes += 1
        os.fdatasync(fd)


@pytest.fixture
def slow_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[_SlowDisk]:
    disk = _SlowDisk()
    monkeypatch.setattr(sqlite_inline, "_FDATASYNC", disk)
    yield disk
    disk.release.set()


async def test_sqlite_itself_neither_flushes_nor_checkpoints_in_commit(sqlite_file: Path) -> None:
    engine = create_engine(f"sqlite:///{sqlite_file}")
    try:
        async with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert (await pragma("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
            assert (await pragma("PRAGMA wal_autocheckpoint")).scalar_one() == 0
            assert (await pragma("PRAGMA journal_mode")).scalar_one() == "wal"
        driver = await _driver(engine)
        assert driver.wal is not None and driver.wal.path == f"{sqlite_file}-wal"
    finally:
        await engine.dispose()


async def test_a_commit_that_wrote_returns_once_its_log_is_on_disk(sqlite_file: Path) -> None:
    engine = create_engine(f"sqlite:///{sqlite_file}")
    try:
        driver = await _driver(engine)
        assert driver.wal is not None
        async with engine.begin() as connection:  # a plain transaction waits in COMMIT
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        assert driver.wal.synced == driver.wal.written == 1
        await _write_as_a_unit_of_work(engine, 2)
        assert driver.wal.synced == driver.wal.written == 2
        async with engine.begin() as connection:  # reading only: nothing to flush
            await connection.execute(text("SELECT count(*) FROM t"))
        assert driver.wal.written == 2
    finally:
        await engine.dispose()


async def test_the_loop_goes_on_while_the_disk_flushes(
    sqlite_file: Path, slow_disk: _SlowDisk
) -> None:
    disk = slow_disk
    engine = create_engine(f"sqlite:///{sqlite_file}")
    try:
        first = asyncio.create_task(_write_as_a_unit_of_work(engine, 1))
        assert await asyncio.to_thread(disk.entered.wait, 5)
        # The change is committed and its flush is under way on a worker thread; its maker
        # still waits, and the event loop runs other work meanwhile.
        ticks = 0
        for _ in range(5):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 5 and not first.done()
        disk.release.set()
        await asyncio.wait_for(first, 5)
        assert await _count(engine) == 1
        driver = await _driver(engine)
        assert driver.wal is not None and driver.wal.synced == 1
        await driver.wal.durable(1)  # on disk already: nothing to wait for
        assert disk.flushes == 1
    finally:
        disk.release.set()
        await engine.dispose()


async def test_a_failed_flush_is_the_committers_error_and_the_next_one_tries_again(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    engine = create_engine(f"sqlite:///{sqlite_file}")
    try:
        monkeypatch.setattr(sqlite_inline, "_FDATASYNC", broken)
        with pytest.raises(OSError, match="Input/output error"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
        assert "could not be flushed to disk" in caplog.text
        monkeypatch.setattr(sqlite_inline, "_FDATASYNC", os.fdatasync)
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (2)"))
        driver = await _driver(engine)
        assert driver.wal is not None and driver.wal.synced == driver.wal.written == 2
    finally:
        await engine.dispose()


async def _settled(count: Callable[[], int], quiet: float, timeout: float) -> int:
    """The count once it has not changed for ``quiet`` seconds (a busy machine is slow)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last, since = count(), loop.time()
    while loop.time() < deadline:
        await asyncio.sleep(0.02)
        now = count()
        if now != last:
            last, since = now, loop.time()
        elif loop.time() - since >= quiet:
            return now
    raise AssertionError(f"the count kept changing for {timeout:g} s")


async def test_the_log_is_checkpointed_in_the_background_and_stays_small(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "CHECKPOINT_EVERY", 0.02)
    engine = create_engine(f"sqlite:///{sqlite_file}")
    wal = Path(f"{sqlite_file}-wal")
    try:
        driver = await _driver(engine)
        assert driver.checkpoints is not None
        largest = 0
        for n in range(1500):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            largest = max(largest, await asyncio.to_thread(_size, wal))
        # Without checkpoints the log would hold every commit: over 1500 pages of 4 KiB.
        assert driver.checkpoints.done >= 5
        assert largest < 1500 * 4096 / 3
        # Once quiet, one more write gets a checkpoint of its own...
        checkpoints = driver.checkpoints
        quiet = await _settled(lambda: checkpoints.done, quiet=0.2, timeout=10)
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (1500)"))
        settled = await _settled(lambda: checkpoints.done, quiet=0.2, timeout=10)
        assert settled > quiet
        async with engine.connect() as connection:  # ...and reading alone asks for none
            await connection.execute(text("SELECT count(*) FROM t"))
        await asyncio.sleep(0.2)
        assert driver.checkpoints.done == settled
        assert await _count(engine) == 1501
    finally:
        await engine.dispose()
    # The last connection's close checkpointed the log and removed it.
    assert not await asyncio.to_thread(wal.exists)


async def test_a_worker_file_closed_while_in_use_is_closed_by_that_use(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"x")
    closed: list[int] = []

    def close(fd: int) -> None:
        closed.append(fd)
        os.close(fd)

    worker = sqlite_inline._OnWorker(lambda: os.open(path, os.O_RDONLY), close)
    inside, release = threading.Event(), threading.Event()
    used: list[int] = []

    def work(fd: int) -> None:
        used.append(fd)
        inside.set()
        release.wait(5)

    busy = asyncio.create_task(asyncio.to_thread(worker.use, work))
    assert await asyncio.to_thread(inside.wait, 5)
    worker.close()  # from the loop, while the worker uses it: not closed under its feet
    assert closed == []
    release.set()
    await busy
    assert closed == used  # the use closed it as it ended
    await asyncio.to_thread(worker.use, used.append)  # after close: nothing opened or done
    assert len(used) == 1 and len(closed) == 1
