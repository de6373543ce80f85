"""Engines for SQLite and PostgreSQL, a health ping, and migrations run at start-up."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import Executable
from sqlalchemy.util import await_

from mediation.trouble import trouble_at
from storage.fast import postgres, statements
from storage.fast import sqlite as sqlite_inline
from storage.fast.pool import FairAsyncPool
from storage.fast.statements import Cache

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Any fixed number; it only has to be the same in every replica of Sopu.
_MIGRATION_LOCK = 7_160_511_301

_upgrade_locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()

_SCHEMES = {
    "sqlite:": "sqlite+aiosqlite:",
    "sqlite+aiosqlite:": "sqlite+aiosqlite:",
    "postgresql:": "postgresql+asyncpg:",
    "postgres:": "postgresql+asyncpg:",
    "postgresql+asyncpg:": "postgresql+asyncpg:",
}


def normalize_url(url: str) -> str:
    """The async driver's form of a SQLite or PostgreSQL URL."""
    scheme, sep, rest = url.strip().partition("//")
    target = _SCHEMES.get(scheme.lower()) if sep else None
    if target is None:
        raise ValueError(
            "DATABASE_URL must be sqlite:///path/to/file.db or postgresql://user@host/db, "
            f"not {scheme or url!r}"
        )
    return f"{target}//{rest}"


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(
    url: str, *, reports: bool = False, connections: int | None = None, **kwargs: Any
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout, BEGIN IMMEDIATE and one connection.

    On PostgreSQL ``connections`` is the pool's size: that many are kept once opened (they
    open as they are first needed), and up to ten more at a burst, each closed when given
    back.

    SQLite's calls run on the event loop's thread (storage/fast/). An engine
    for ``reports`` (the statistics, which scan whole tables) is for reading only: its
    calls run on aiosqlite's worker thread, so a long scan does not stop the loop, and
    its transactions begin deferred, so a scan does not hold up writers (WAL gives it
    a consistent snapshot all the same).
    """
    inline = not reports
    url = normalize_url(url)
    # Statement parameters are a family's names, phones and e-mails: never in an error
    # message or a log line.
    kwargs.setdefault("hide_parameters", True)
    if not url.startswith("sqlite"):
        if connections is not None:
            kwargs.setdefault("pool_size", connections)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "handle_error", _forget_values)
        return engine
    parsed = make_url(url)
    database = parsed.database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if on_disk:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, **kwargs.pop("connect_args", {})}
    if inline:
        # The URL's own arguments, as the aiosqlite dialect would pass them to sqlite3.
        args, options = SQLiteDialect_aiosqlite().create_connect_args(parsed)
        options = {**options, **connect_args}
        options.pop("timeout", None)
        options.pop("check_same_thread", None)
        busy = SQLITE_BUSY_TIMEOUT_MS / 1000
        kwargs["async_creator"] = partial(sqlite_inline.connect, str(args[0]), busy, **options)
    if on_disk:
        # Every transaction holds the one write lock, so a second connection could only
        # wait for it in SQLite's busy handler, which sleeps up to 100 ms between tries.
        # Waiting for the one connection instead queues the transactions in order, and
        # wakes the next one as soon as the connection is free.
        kwargs = {"pool_size": 1, "max_overflow": 0, "poolclass": FairAsyncPool, **kwargs}
        kwargs.setdefault("pool_timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    on_connect = _sqlite_on_connect_inline if inline else _sqlite_on_connect
    event.listen(engine.sync_engine, "connect", on_connect)
    on_begin = _sqlite_on_begin_read if reports else _sqlite_on_begin
    event.listen(engine.sync_engine, "begin", on_begin)
    return engine


# Where PostgreSQL's error text starts quoting data ("Failing row contains (...)", "Key
# (email)=(...) already exists"): its DETAIL, as asyncpg and SQLAlchemy write it out.
_DETAIL = "\nDETAIL:"


def _forget_values(context: Any) -> None:
    """Take the values out of a database error before anyone can log it.

    PostgreSQL's DETAIL quotes the rejected row or key, and the error's text carries it
    into every traceback: the driver's error, SQLAlchemy's wrapper of it, and the chain
    between them. The message and the SQL stay; only the DETAIL goes.
    """
    _forget_values_of(context.sqlalchemy_exception)


def _forget_values_of(exception: BaseException) -> None:
    seen: set[int] = set()
    pending: list[BaseException | None] = [exception]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(getattr(error, "detail", None), str):
            error.detail = None  # type: ignore[attr-defined]  # asyncpg's own errors
        error.args = tuple(_cut_detail(a) if isinstance(a, str) else a for a in error.args)
        pending += [getattr(error, "orig", None), error.__cause__, error.__context__]


def _cut_detail(message: str) -> str:
    start = message.find(_DETAIL)
    if start < 0:
        return message
    # The DETAIL runs to the HINT, or to SQLAlchemy's "[SQL: ...]", or to the end.
    ends = [i for i in (message.find("\nHINT:", start), message.find("\n[SQL:", start)) if i > 0]
    return message[:start] + (message[min(ends) :] if ends else "")


def reports_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine for the statistics' long reads: its own for a SQLite file, else ``engine``.

    An in-memory SQLite database exists only on its one connection, and PostgreSQL's
    driver never blocks the loop, so both read their reports through ``engine`` itself.
    """
    database = engine.url.database or ""
    if not is_sqlite(engine) or database in ("", ":memory:") or database.startswith("file:"):
        return engine
    return create_engine(engine.url.render_as_string(hide_password=False), reports=True)


def _sqlite_on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    _sqlite_setup(dbapi_connection, SQLITE_BUSY_TIMEOUT_MS)


def _sqlite_on_connect_inline(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    # SQLite's own busy handler would sleep on the event loop's thread; the inline
    # connection waits for a lock asynchronously instead (storage/fast/).
    journal_mode = _sqlite_setup(dbapi_connection, 0)
    driver = record.driver_connection
    if journal_mode == "wal" and isinstance(driver, sqlite_inline.InlineConnection):
        # Flushes and checkpoints wait for the disk: not on the loop's thread.
        driver.disk_off_the_loop()


def _sqlite_setup(dbapi_connection: Any, busy_timeout_ms: int) -> str:
    """Set the connection up; the journal mode it is in (an in-memory database keeps its own)."""
    # The driver's own implicit BEGIN is deferred: a transaction that reads and then
    # writes fails at once with "database is locked" when another writer got in
    # between, whatever the busy timeout. We emit BEGIN ourselves (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        journal_mode = str(cursor.fetchone()[0]).lower()
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()
    return journal_mode


def for_reading(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, for units of work that only read.

    On PostgreSQL in autocommit: each statement reads the committed state on its own,
    without the round trips of BEGIN and ROLLBACK. On SQLite a deferred BEGIN: a snapshot
    that takes no write lock (the connection is still the one of the pool).
    """
    return autocommit(engine) or engine.execution_options(**{_READING: True})


def autocommit(engine: AsyncEngine) -> AsyncEngine | None:
    """The same engine and pool with each statement committed on its own, for work whose
    statements need not stand or fall together; None on SQLite, where every write waits
    for the one write lock in a BEGIN IMMEDIATE of its own anyway.

    On PostgreSQL that spares the round trips of BEGIN and COMMIT (or ROLLBACK).
    """
    if is_sqlite(engine):
        return None
    return engine.execution_options(isolation_level="AUTOCOMMIT")


_READING = "sopu_reading"  # an execution option of for_reading()'s SQLite engine


def _sqlite_on_begin(connection: Connection) -> None:
    # Every transaction takes the write lock up front, so writers queue on the busy
    # timeout instead of failing; SQLite has one writer at a time anyway.
    driver = connection.connection.driver_connection
    if connection.get_execution_options().get(_READING):
        _begin_deferred(connection, driver)
    elif isinstance(driver, sqlite_inline.InlineConnection):
        # Straight to SQLite: SQLAlchemy's execution path cost more than the BEGIN.
        try:
            await_(driver.begin_immediate())
        except sqlite3.Error as exc:  # raised as SQLAlchemy would have raised it
            raise DBAPIError.instance("BEGIN IMMEDIATE", None, exc, sqlite3.Error) from exc
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_on_begin_read(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _begin_deferred(connection: Connection, driver: Any) -> None:
    if isinstance(driver, sqlite_inline.InlineConnection):
        try:
            await_(driver.begin_deferred())
        except sqlite3.Error as exc:
            raise DBAPIError.instance("BEGIN", None, exc, sqlite3.Error) from exc
    else:
        connection.exec_driver_sql("BEGIN")


async def ping(engine: AsyncEngine) -> bool:
    """Whether the database answers a trivial query."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        log.warning("database ping failed: %s", trouble_at(exc))
        return False
    return True


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code: no alembic.ini is needed in the cwd."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Module names must not start with a digit (mypy reads the revisions too).
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine_or_url: AsyncEngine | str) -> None:
    """Bring the schema to the newest revision; safe to run at every start-up.

    The migrations run in one transaction. On PostgreSQL an advisory lock makes replicas
    that start together wait for each other; on SQLite BEGIN IMMEDIATE does the same.
    """
    owned = isinstance(engine_or_url, str)
    engine = create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    # Alembic keeps its running context in module globals: one migration at a time here.
    lock = _upgrade_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    try:
        async with lock, engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                )
            await connection.run_sync(_upgrade_to_head)
    finally:
        if owned:
            await engine.dispose()


def _upgrade_to_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "heads")


# -- direct statements on the fast paths, and commits on SQLite's (storage/fast/) --------


_DRIVER = "sopu_inline_driver"  # session.info: (the transaction, its fast connection or None)

_Fast = sqlite_inline.InlineConnection | postgres.Adapter


async def _fast(session: AsyncSession) -> _Fast | None:
    """The session's connection for direct statements, if they can run on it directly:
    SQLite's inline connection, or the asyncpg adapter of PostgreSQL's.

    Looked up once per transaction: the answer is kept in the session's own info with the
    transaction it belongs to, so a statement of the same transaction finds it at once.
    """
    if session.new or session.deleted or session.dirty:
        return None  # ORM rows not flushed yet: the session's execute flushes them first
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_DRIVER)
    if transaction is not None and kept is not None and kept[0] is transaction:
        driver: Any = kept[1]
        return driver
    connection = await session.connection()
    sync = connection.sync_connection
    assert sync is not None
    found = sync.connection.driver_connection
    inline = isinstance(found, sqlite_inline.InlineConnection)
    fast: _Fast | None = found if inline else postgres.Adapter.of(sync)
    session.info[_DRIVER] = (session.sync_session.get_transaction(), fast)
    return fast


async def rows(
    session: AsyncSession, statement: Executable, cache: Cache, params: dict[str, Any]
) -> list[Any]:
    """The rows of a SELECT in the session's transaction, on the fast path if there is one."""
    compiled = statements.compiled_for(statement, cache, session_dialect(session), params)
    driver = await _fast(session) if compiled.direct else None
    if driver is None:
        return list(await session.execute(statement, params))
    if isinstance(driver, postgres.Adapter):
        found, _ = await _on_postgres(driver, *compiled.sql_and_values(params))
        return compiled.rows(found)
    return compiled.rows(statements.cursor(driver.raw, *compiled.sql_and_values(params)).fetchall())


async def execute(
    session: AsyncSession, statement: Executable, cache: Cache, params: dict[str, Any]
) -> int:
    """Run an INSERT, UPDATE or DELETE in the session's transaction; rows touched (-1: unknown)."""
    compiled = statements.compiled_for(statement, cache, session_dialect(session), params)
    driver = await _fast(session) if compiled.direct else None
    if driver is None:
        result: Any = await session.execute(statement, params)
        # An ORM-enabled INSERT's result has no count; nothing asks for one.
        return int(getattr(result, "rowcount", -1))
    if isinstance(driver, postgres.Adapter):
        _, count = await _on_postgres(driver, *compiled.sql_and_values(params))
        return count
    return statements.cursor(driver.raw, *compiled.sql_and_values(params)).rowcount


async def _on_postgres(
    driver: postgres.Adapter, sql: str, values: list[Any], *, in_transaction: bool = True
) -> tuple[list[Any], int]:
    try:
        return await driver.run(sql, values, in_transaction=in_transaction)
    except DBAPIError as exc:
        _forget_values_of(exc)
        raise


async def first(
    engine: AsyncEngine, statement: Executable, cache: Cache, params: dict[str, Any]
) -> Any | None:
    """The first row of a SELECT of its own, on a connection of the engine's pool.

    On PostgreSQL it runs outside a transaction, on asyncpg. On the inline SQLite connection
    the statement runs outside any transaction (the connection is in autocommit mode):
    SQLite reads a snapshot for the one statement, and neither BEGIN IMMEDIATE, which
    would take the write lock for a read, nor SQLAlchemy's execution path is paid for.
    """
    compiled = statements.compiled_for(statement, cache, engine.dialect, params)
    async with engine.connect() as connection:
        pooled = await connection.get_raw_connection()
        driver = pooled.driver_connection
        sync = connection.sync_connection
        assert sync is not None
        fast = postgres.Adapter.of(sync) if compiled.direct else None
        if fast is not None:
            # Not in a transaction: one statement needs no BEGIN and ROLLBACK round trips.
            found, _ = await _on_postgres(
                fast, *compiled.sql_and_values(params), in_transaction=False
            )
            return next(iter(compiled.rows(found)), None)
        if not isinstance(driver, sqlite_inline.InlineConnection) or not compiled.direct:
            if not is_sqlite(engine):
                # One statement needs no transaction: no BEGIN and ROLLBACK round trips.
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            return (await connection.execute(statement, params)).first()
        raw = driver.raw
        sql, values = compiled.sql_and_values(params)
        try:
            # Not in a transaction, so it may meet another process's lock (a checkpoint,
            # a recovery): waited for as every inline statement waits.
            found = await driver.retry_busy(lambda: raw.execute(sql, values).fetchall())
        except sqlite3.Error as exc:
            # The values hidden, as the engines hide them (create_engine's hide_parameters).
            raise DBAPIError.instance(
                sql, values, exc, sqlite3.Error, hide_parameters=True
            ) from exc
        return next(iter(compiled.rows(found)), None)


async def commit(session: AsyncSession) -> None:
    """Commit; on SQLite's inline connection, wait for the disk once it is let go of.

    The change is on disk before this returns, as with any commit; but the next
    transaction gets the connection while this one's log is being flushed, so commits
    that come together share one flush instead of queueing for one each.
    """
    driver = await _fast(session) if session.in_transaction() else None
    if not isinstance(driver, sqlite_inline.InlineConnection) or driver.wal is None:
        await session.commit()
        return
    flushes: list[int] = []
    driver.flush_after_release(flushes)
    try:
        await session.commit()
    finally:
        driver.flush_after_release(None)
    for upto in flushes:
        await driver.wal.durable(upto)


def session_dialect(session: AsyncSession) -> Dialect:
    bind = session.bind
    assert bind is not None, "Sopu's sessions are bound to their engine"
    return bind.dialect
