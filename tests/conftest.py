"""Shared fixtures: a fresh database on SQLite and on PostgreSQL, migrated engines, units of work.

PostgreSQL is found at SOPU_TEST_POSTGRES_URL (default: the local server's maintenance
database). Without a server its tests are skipped, unless SOPU_REQUIRE_POSTGRES=1 (as in CI)
turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, upgrade
from storage.uow import SqlUnitOfWork, reading_sessions, session_factory

POSTGRES_ADMIN_URL = os.environ.get(
    "SOPU_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
)
T = TypeVar("T")


def run_apart(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in a worker thread, out of the tests' event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The URL of a database on a server where tests may create databases."""
    try:
        run_apart(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}"
        if os.environ.get("SOPU_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return POSTGRES_ADMIN_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on: "sqlite" or "postgres" (the test runs on both)."""
    return str(request.param)


def _fresh_postgres_database(admin: str) -> tuple[str, str]:
    name = f"sopu_test_{secrets.token_hex(6)}"
    run_apart(_admin(f'CREATE DATABASE "{name}"'))
    return name, make_url(admin).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of its own: a temporary SQLite file or a new PostgreSQL one."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'sopu.db'}"
        return
    name, url = _fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    try:
        yield url
    finally:
        run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """One migrated PostgreSQL database for the session; `engine` empties it for each test."""
    name, url = _fresh_postgres_database(postgres_admin_url)
    try:
        run_apart(upgrade(url))
        yield url
    finally:
        run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        names = (
            await connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    " AND tablename <> 'alembic_version'"
                )
            )
        ).scalars()
        tables = ", ".join(f'"{name}"' for name in names)
        if tables:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def engine(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated database with empty tables (ids start from 1)."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        await upgrade(engine)
    else:
        # Creating a PostgreSQL database costs far more than emptying one.
        engine = create_engine(
            request.getfixturevalue("migrated_postgres_url"),
            # Tests need no durability; not waiting for the WAL flush makes commits cheap.
            connect_args={"server_settings": {"synchronous_commit": "off"}},
        )
        await _empty_tables(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def uow_factory(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> Callable[[], SqlUnitOfWork]:
    """Makes units of work on the test database; one per concurrent task."""
    readers = reading_sessions(engine)
    return lambda: SqlUnitOfWork(sessions, readers=readers)
