"""The pools: the SQLite file's one connection, handed to waiting tasks in the order they
came; PostgreSQL's connections, kept open for the next turn rather than opened again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import open_storage
from bot.settings import Settings
from storage.db import create_engine
from storage.fast.pool import FairQueue


def _line(engine: AsyncEngine) -> FairQueue[object]:
    queue = engine.sync_engine.pool._pool  # type: ignore[attr-defined]
    assert isinstance(queue, FairQueue)
    return queue


async def _hold(engine: AsyncEngine, name: str, got: list[str], release: asyncio.Event) -> None:
    async with engine.connect() as connection:
        got.append(name)
        await connection.execute(text("SELECT 1"))
        await release.wait()


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_waiting_tasks_get_the_connection_in_the_order_they_came(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    got: list[str] = []
    release = {name: asyncio.Event() for name in "abcd"}
    try:
        tasks = []
        for name in "abcd":
            tasks.append(asyncio.create_task(_hold(engine, name, got, release[name])))
            await _settle()
        assert got == ["a"]
        assert len(_line(engine)._waiting) == 3
        for name in "abcd":
            release[name].set()
            await _settle()
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert got == ["a", "b", "c", "d"]
        assert not _line(engine)._waiting
    finally:
        await engine.dispose()


async def test_a_wait_too_long_is_the_pools_timeout_and_leaves_no_one_in_line(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_timeout=0.1)
    got: list[str] = []
    release = asyncio.Event()
    try:
        holder = asyncio.create_task(_hold(engine, "a", got, release))
        await _settle()
        with pytest.raises(exc.TimeoutError):
            async with engine.connect():
                pass
        assert not _line(engine)._waiting
        release.set()
        await holder
        async with engine.connect() as connection:  # the connection was not lost
            assert (await connection.execute(text("SELECT 2"))).scalar_one() == 2
    finally:
        release.set()
        await engine.dispose()


async def test_a_waiting_task_cancelled_passes_its_turn_on(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    got: list[str] = []
    release = {name: asyncio.Event() for name in "abc"}
    try:
        tasks = {}
        for name in "abc":
            tasks[name] = asyncio.create_task(_hold(engine, name, got, release[name]))
            await _settle()
        tasks["b"].cancel()
        await _settle()
        release["a"].set()
        release["c"].set()
        await asyncio.wait_for(asyncio.gather(tasks["a"], tasks["c"]), 5)
        assert got == ["a", "c"]
        assert tasks["b"].cancelled()
        assert not _line(engine)._waiting
    finally:
        for event in release.values():
            event.set()
        await engine.dispose()


async def _backend(engine: AsyncEngine, holding: list[int], burst: dict[str, Any]) -> int:
    async with engine.connect() as connection:
        pid = int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        holding.append(pid)
        if len(holding) == burst["size"]:
            burst["all_in"].set()
        await burst["release"].wait()
        return pid


@pytest.mark.postgres
async def test_postgresql_keeps_the_connections_a_busy_process_uses_at_once(
    migrated_postgres_url: str,
) -> None:
    # Beyond the pool's size SQLAlchemy closes each connection given back: under load every
    # turn would open a new backend and prepare its statements again.
    settings = Settings(database_url=migrated_postgres_url, turns_at_once=3)
    busy = settings.connections
    async with open_storage(settings) as storage:
        seen: list[set[int]] = []
        for _ in range(2):
            holding: list[int] = []
            burst = {"size": busy, "all_in": asyncio.Event(), "release": asyncio.Event()}
            tasks = [
                asyncio.create_task(_backend(storage.engine, holding, burst)) for _ in range(busy)
            ]
            await asyncio.wait_for(burst["all_in"].wait(), 30)  # each holds one at once
            burst["release"].set()
            seen.append(set(await asyncio.wait_for(asyncio.gather(*tasks), 30)))
        assert len(seen[0]) == busy
        assert seen[1] == seen[0]  # the same backends served the second burst
