"""SQLite on the event loop's thread: locks held elsewhere are waited for without stalling it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_inline
from storage.db import create_engine, reports_engine


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
