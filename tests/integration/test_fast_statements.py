"""Direct statements on the fast paths (storage/fast/) read, write, fail and recover as
the same statements through SQLAlchemy's session do, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Float, Numeric, bindparam, cast, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import db, direct, redelivery
from storage.models import CaseRow, ProcessedActivityRow
from storage.repositories import cases, mediators
from storage.uow import SqlUnitOfWork, session_factory
from tests.integration.storage_seed import NOW, add_case, add_coordinator

CANARY = "kanarialintu-7731@example.org"

_INSERT_SEEN = direct.Direct(
    insert(ProcessedActivityRow).values(key=bindparam("key"), seen_at=bindparam("seen_at"))
)
_CASE_CODE = direct.Direct(select(CaseRow.code).where(CaseRow.id == bindparam("case_id")))


@pytest.fixture
def uow(uow_factory: Callable[[], SqlUnitOfWork]) -> SqlUnitOfWork:
    return uow_factory()


async def _seeded(uow: SqlUnitOfWork) -> tuple[int, int]:
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    case = await add_case(uow, coordinator.id)
    assert case.id is not None
    return coordinator.id, case.id


def _plain(rows: list[Any]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in rows]


async def test_a_direct_read_reads_what_the_session_reads(
    uow: SqlUnitOfWork, sessions: async_sessionmaker[AsyncSession]
) -> None:
    coordinator_id, case_id = await _seeded(uow)
    reads: list[tuple[direct.Direct, dict[str, Any]]] = [
        (cases._CASE_BY_ID, {"case_id": case_id}),  # datetimes, enums' values, an EXISTS
        (cases._CASE_BY_ID_FOR_UPDATE, {"case_id": case_id}),
        (mediators._MEDIATORS_BY_IDS, {"ids": [coordinator_id, 999]}),  # an IN list
        (mediators._MEDIATORS_BY_IDS, {"ids": []}),
        (redelivery.SEEN, {"key": "nothing"}),
    ]
    for statement, params in reads:
        async with sessions() as session, session.begin():
            fast = await direct.rows(session, statement, params)
            slow = list(await session.execute(statement.statement, params))
        assert _plain(fast) == _plain(slow), statement.statement
        assert [r._fields for r in fast] == [tuple(r._fields) for r in slow]
    async with sessions() as session, session.begin():
        row = (await direct.rows(session, cases._CASE_BY_ID, {"case_id": case_id}))[0]
    assert row.created_at.tzinfo is not None and row.id == case_id


async def test_a_direct_write_belongs_to_the_sessions_transaction(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        assert await direct.execute(session, _INSERT_SEEN, {"key": "a", "seen_at": NOW}) == 1
        assert await redelivery.seen(session, "a")  # seen inside the transaction
        await session.rollback()
    async with sessions() as session:
        assert not await redelivery.seen(session, "a")  # and gone with it
        await direct.execute(session, _INSERT_SEEN, {"key": "b", "seen_at": NOW})
        await session.commit()
    assert await direct.first(engine, redelivery.SEEN, {"key": "b"}) is not None


async def test_a_failed_direct_statement_is_sqlalchemys_error_without_its_values(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        await direct.execute(session, _INSERT_SEEN, {"key": CANARY, "seen_at": NOW})
        await session.commit()
    async with sessions() as session:
        with pytest.raises(IntegrityError) as refused:
            await direct.execute(session, _INSERT_SEEN, {"key": CANARY, "seen_at": NOW})
        await session.rollback()
        # The session goes on after its rollback, as after any failed statement.
        assert await redelivery.seen(session, CANARY)
    shown = "".join(_chain(refused.value))
    assert "kanarialintu" not in shown
    assert "hidden" in str(refused.value)


async def test_a_naive_datetime_is_refused_as_the_session_refuses_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The refusal names no value of the statement, as the engines' own refusals do not:
    another value of it may be a parent's address."""
    async with sessions() as session:
        with pytest.raises(Exception) as fast:
            await direct.execute(
                session, _INSERT_SEEN, {"key": CANARY, "seen_at": NOW.replace(tzinfo=None)}
            )
        await session.rollback()
    async with sessions() as session:
        with pytest.raises(Exception) as slow:
            await session.execute(
                _INSERT_SEEN.statement, {"key": "x", "seen_at": NOW.replace(tzinfo=None)}
            )
    assert type(fast.value) is type(slow.value)
    assert "kanarialintu" not in "".join(traceback.format_exception(fast.value))


@pytest.mark.parametrize("kind", [Float, Numeric])
async def test_a_number_column_reads_as_the_session_reads_it(
    kind: type[Float[Any]] | type[Numeric[Any]], sessions: async_sessionmaker[AsyncSession]
) -> None:
    """asyncpg's conversion of a float or decimal needs the column's type from the server:
    such a statement goes through the session instead of failing on PostgreSQL."""
    statement = direct.Direct(select(cast(bindparam("x"), kind()).label("v")))
    async with sessions() as session:
        slow = list(await session.execute(statement.statement, {"x": 1.5}))
        fast = await direct.rows(session, statement, {"x": 1.5})
    assert _plain(fast) == _plain(slow)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_connection_the_server_dropped_is_replaced(
    uow: SqlUnitOfWork, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, case_id = await _seeded(uow)
    async with sessions() as session:
        connection = await session.connection()
        pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as dropped:
            await direct.rows(session, _CASE_CODE, {"case_id": case_id})
        assert dropped.value.connection_invalidated
    # The pool does not hand the dead connection out again: the next read works.
    for _ in range(3):
        async with sessions() as session:
            assert await direct.rows(session, _CASE_CODE, {"case_id": case_id})
    assert await direct.first(engine, _CASE_CODE, {"case_id": case_id}) is not None


async def _drop_connections(engine: AsyncEngine, count: int) -> None:
    """The server ends ``count`` connections of the pool as they wait in it (a restart)."""
    held = [await engine.connect() for _ in range(count)]
    pids = [(await c.execute(text("SELECT pg_backend_pid()"))).scalar_one() for c in held]
    for connection in held:
        await connection.close()
    # From outside the pool, which would hand out one of the connections to be ended.
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(url)
    try:
        for pid in pids:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.3)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_connection_dropped_while_in_the_pool_fails_one_click_at_most(
    uow: SqlUnitOfWork, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A seat click's first statement is a direct one, so its BEGIN is the fast path's: on
    a dead connection it fails as SQLAlchemy's error and the connection is replaced."""
    _, case_id = await _seeded(uow)
    await _drop_connections(engine, 1)
    failed: list[BaseException] = []
    for _ in range(10):
        async with sessions() as session:
            try:
                assert await direct.rows(session, cases._CASE_LOCKED, {"case_id": case_id})
            except DBAPIError as error:
                failed.append(error)
    assert len(failed) <= 1
    assert all(isinstance(e, DBAPIError) and e.connection_invalidated for e in failed)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_after_a_restart_one_statement_fails_not_one_per_connection(
    uow: SqlUnitOfWork, engine: AsyncEngine
) -> None:
    """As SQLAlchemy does: the first disconnect seen replaces every older connection."""
    _, case_id = await _seeded(uow)
    await _drop_connections(engine, 4)
    failed = 0
    for _ in range(8):
        try:
            await direct.first(engine, _CASE_CODE, {"case_id": case_id})
        except DBAPIError as error:
            assert error.connection_invalidated
            failed += 1
    assert failed == 1


def _chain(error: BaseException | None) -> list[str]:
    """The text of an error and every error it was raised from, as a traceback shows them."""
    seen: list[str] = []
    while error is not None and len(seen) < 10:
        seen.append(str(error))
        seen.extend(str(a) for a in error.args)
        error = error.__cause__ or error.__context__
    return seen


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_commit_after_a_cancelled_begin_is_committed(engine: AsyncEngine) -> None:
    """A task cancelled while its BEGIN is on the way (a leader standing down, a sender
    stopped) must not leave the pool a connection whose later commits only end a savepoint:
    asyncpg counts the transaction as begun before SQLAlchemy's adapter does."""
    url = engine.url.render_as_string(hide_password=False)
    one = db.create_engine(url, pool_size=1, max_overflow=0)  # the same connection next time
    try:
        sessions = session_factory(one)
        async with sessions() as session:
            connection = await session.connection()
            adapted: Any = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
            read = asyncio.create_task(direct.rows(session, redelivery.SEEN, {"key": "none"}))
            for _ in range(100_000):  # until BEGIN is sent and not yet answered
                await asyncio.sleep(0)
                if adapted._connection._top_xact is not None and adapted._transaction is None:
                    break
            else:
                pytest.fail("the BEGIN was never caught on its way")
            read.cancel()
            with pytest.raises(asyncio.CancelledError):
                await read
        async with sessions() as session:
            await direct.execute(session, _INSERT_SEEN, {"key": "after", "seen_at": NOW})
            await session.commit()
    finally:
        await one.dispose()
    assert await direct.first(engine, redelivery.SEEN, {"key": "after"}) is not None
