"""Units of work for reading only, and single-row reads, on SQLite and PostgreSQL: no
transaction's round trips on PostgreSQL, no write lock on SQLite, and no commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from asyncpg.prepared_stmt import PreparedStatement
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mediation import notices, services
from mediation.outbox import OutboxStatus
from storage import direct
from storage.outbox import SqlOutbox
from storage.redelivery import Delivery
from storage.uow import SqlUnitOfWork, reading_sessions
from tests.clock import FixedClock
from tests.fakes.memory_uow import RecordingNotifier
from tests.integration.storage_seed import NOW, POLICY, add_case, add_coordinator, add_mediators
from tests.unit.factories import mediator

_PROBE = direct.Direct(select(func.now().label("now")))


@pytest.fixture
def uow(uow_factory: Callable[[], SqlUnitOfWork]) -> SqlUnitOfWork:
    """A unit of work as Sopu makes them, with its readers (tests/conftest.py)."""
    return uow_factory()


@pytest.fixture
def in_transaction(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """For each statement run on PostgreSQL: whether it ran inside a BEGIN (asyncpg knows
    from the server's ready-for-query status after it). Nothing on SQLite.

    Read where every statement ends, through SQLAlchemy or past it
    (storage/fast/postgres.py): asyncpg's prepared statement.
    """
    seen: list[bool] = []
    if engine.dialect.name != "postgresql":
        yield seen
        return
    fetch = PreparedStatement.fetch

    async def watched(statement: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await fetch(statement, *args, **kwargs)
        finally:
            seen.append(statement._connection.is_in_transaction())

    monkeypatch.setattr(PreparedStatement, "fetch", watched)
    yield seen


@pytest.fixture
async def sqlite_trace(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """Every statement SQLite's one connection runs, BEGIN and ROLLBACK included (much of
    it runs past SQLAlchemy, storage/fast/)."""
    seen: list[str] = []
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    raw = driver.raw
    raw.set_trace_callback(seen.append)
    yield seen
    raw.set_trace_callback(None)


async def test_a_reading_unit_of_work_reads_what_is_committed_and_cannot_commit(
    uow: SqlUnitOfWork,
) -> None:
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    case = await add_case(uow, coordinator.id)
    assert case.id is not None

    summary = await services.summary_of(uow, case.id, FixedClock(NOW), POLICY)
    assert summary.case_id == case.id and summary.open_seats == 2

    reader = uow.reading()
    async with reader:
        assert await reader.cases.get(case.id) is not None
        with pytest.raises(RuntimeError, match="commits nothing"):
            await reader.commit()
    async with uow:  # on SQLite's one connection a reader would wait for this session
        with pytest.raises(RuntimeError, match="in use"):
            uow.reading()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_on_postgresql_reads_pay_for_no_begin_and_rollback(
    uow: SqlUnitOfWork, engine: AsyncEngine, in_transaction: list[bool]
) -> None:
    await direct.first(engine, _PROBE, {})
    async with uow.reading() as reader:
        await reader.session.execute(_PROBE.statement)
        await reader.session.execute(_PROBE.statement)
    assert in_transaction == [False, False, False]

    async with uow:  # a unit of work that may change things: a transaction
        await uow.session.execute(_PROBE.statement)
    assert in_transaction[-1] is True


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_on_sqlite_a_reading_unit_of_work_takes_no_write_lock(
    uow: SqlUnitOfWork, sqlite_trace: list[str]
) -> None:
    async with uow.reading() as reader:
        await reader.mediators.list()
    async with uow:
        await uow.mediators.list()
    begins = [sql for sql in sqlite_trace if sql.upper().startswith("BEGIN")]
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"]


async def test_a_finished_card_update_ends_the_updates_it_covers(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], in_transaction: list[bool]
) -> None:
    outbox = SqlOutbox(sessions)
    changes = [notices.card_changed(1, v, NOW) for v in (1, 2, 3)]
    await outbox.add(changes, NOW)
    (first,) = await outbox.claim(NOW, 10)  # one card update of a case at a time
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        assert in_transaction[-1] is True  # the claim reads and marks its rows together
    in_transaction.clear()

    await outbox.posting(first.id, NOW)
    await outbox.finish(first.id, OutboxStatus.SENT, NOW, covers=(first.key.subject, 2))

    if postgres:  # each statement committed as it ran: no BEGIN and COMMIT
        assert in_transaction and not any(in_transaction)
    status = {m.key.period: (m.status, m.attempts, m.error) for m in await outbox.all()}
    assert status[changes[0].key.period] == (OutboxStatus.SENT, 1, "")
    assert status[changes[1].key.period] == (OutboxStatus.SENT, 0, "shown by a later update")
    assert status[changes[2].key.period] == (OutboxStatus.PENDING, 0, "")  # a later change


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_on_postgresql_a_repeated_claim_reads_twice_outside_a_transaction(
    uow: SqlUnitOfWork,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    in_transaction: list[bool],
) -> None:
    """The busiest click changes nothing: a claim of a seat already held. Its first look
    reads the case (with its seats) and the clicker with the holders, each committed state
    on its own: no BEGIN, no lock, no ROLLBACK, and no look-up of the click's id
    (storage/redelivery.py)."""
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    case = await add_case(uow, coordinator.id)
    assert case.id is not None
    (claimer,) = await add_mediators(uow, mediator("Toisto Klikkaaja"))
    claim = services.ClaimSeat(claimer.aad_object_id, case.id)
    ports = (RecordingNotifier(), FixedClock(NOW), POLICY)
    assert (await services.claim_seat(claim, uow, *ports)).changed
    in_transaction.clear()

    delivery = Delivery("c|again", NOW).commit_stops_it()
    clicked = SqlUnitOfWork(sessions, delivery, readers=reading_sessions(engine))
    again = await services.claim_seat(claim, clicked, *ports)
    assert not again.changed and again.seat == 1
    assert in_transaction == [False, False]


async def test_only_postgresql_lets_a_first_look_read_past_a_transactions_locks(
    uow: SqlUnitOfWork, backend: str
) -> None:
    """On SQLite one transaction at a time has the whole database: a claim's first look
    (mediation/services/seats.py) could spare no wait there, only add its reads."""
    assert uow.reads_past_locks is (backend == "postgres")
