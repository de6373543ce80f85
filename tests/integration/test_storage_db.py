"""Engines, URLs, the health ping and the migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import outbox
from storage.db import alembic_config, create_engine, normalize_url, ping, upgrade
from storage.schema import metadata


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///var/sopu.db", "sqlite+aiosqlite:///var/sopu.db"),
        ("sqlite:////abs/sopu.db", "sqlite+aiosqlite:////abs/sopu.db"),
        ("sqlite+aiosqlite:///var/sopu.db", "sqlite+aiosqlite:///var/sopu.db"),
        ("postgresql://u:p@db:5432/sopu", "postgresql+asyncpg://u:p@db:5432/sopu"),
        ("postgres://u@db/sopu?ssl=require", "postgresql+asyncpg://u@db/sopu?ssl=require"),
        ("postgresql+asyncpg://u@db/sopu", "postgresql+asyncpg://u@db/sopu"),
    ],
)
def test_normalize_url(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


@pytest.mark.parametrize(
    "bad", ["mysql://u@db/sopu", "postgresql+psycopg2://u@db/sopu", "sopu.db", "", "sqlite:"]
)
def test_normalize_url_refuses_other_databases(bad: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL"):
        normalize_url(bad)


@pytest.mark.parametrize(
    ("reports", "busy_timeout"),
    # The inline engine waits for locks itself, off SQLite's busy handler (sqlite_inline).
    [(False, 0), (True, 10_000)],
)
async def test_sqlite_engine_settings(tmp_path: Any, reports: bool, busy_timeout: int) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/new/folder/sopu.db", reports=reports)
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
        assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": busy_timeout}
        assert (tmp_path / "new" / "folder" / "sopu.db").exists()
    finally:
        await engine.dispose()


async def test_ping(engine: AsyncEngine) -> None:
    assert await ping(engine)


async def test_ping_an_unreachable_database() -> None:
    engine = create_engine("postgresql://nobody@127.0.0.1:1/none")
    try:
        assert not await ping(engine)
    finally:
        await engine.dispose()


def _differences(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences, metadata) == []
        # The comparison does see a difference when there is one.
        extra = MetaData()
        for table in metadata.tables.values():
            table.to_metadata(extra)
        Table("not_migrated", extra, Column("id", Integer, primary_key=True))
        assert [d[0] for d in await connection.run_sync(_differences, extra)] == ["add_table"]


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_twice_and_concurrently(database_url: str) -> None:
    # Replicas starting together each migrate the same empty database: here, threads with
    # an event loop each, and tasks sharing one loop.
    with ThreadPoolExecutor(3) as replicas:
        for done in [replicas.submit(asyncio.run, upgrade(database_url)) for _ in range(3)]:
            done.result()
    await asyncio.gather(*(upgrade(database_url) for _ in range(3)))
    engine = create_engine(database_url)
    try:
        assert await _tables(engine) == set(metadata.tables) | {"alembic_version"}
        async with engine.connect() as connection:
            versions = await connection.execute(text("SELECT version_num FROM alembic_version"))
            # Every revision is applied: a head another one depends on is not stored itself.
            script = ScriptDirectory.from_config(alembic_config())
            stored = list(versions.scalars().all())
            reached = {r.revision for r in script.iterate_revisions(stored, "base")}
            assert reached == {r.revision for r in script.walk_revisions()}
            assert set(stored) <= set(script.get_heads())
    finally:
        await engine.dispose()


async def test_a_cards_waiting_updates_are_found_by_index_not_through_the_backlog(
    tmp_path: Any,
) -> None:
    # Each card update sent asks for its card's updates still waiting. Searched through the
    # status index, that read every pending message: after a burst of notes to one busy
    # chat, every card update paid for the whole backlog.
    engine = create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        await upgrade(engine)
        sql = str(outbox._WAITING_UPDATES.statement.compile(dialect=engine.dialect))
        async with engine.connect() as connection:
            plan = await connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {sql}", tuple([None] * sql.count("?"))
            )
            details = " ".join(str(row[-1]) for row in plan)
        assert "USING INDEX ix_outbox_subject_status (subject=? AND status=?)" in details
    finally:
        await engine.dispose()
