"""A seat click that changes nothing is answered from a plain read, on SQLite and PostgreSQL:
no row locked, no redelivery looked up; a change is still decided under the case's lock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mediation import errors, services
from mediation.model import Mediator
from storage import direct
from storage.redelivery import Delivery, Duplicate
from storage.uow import SqlUnitOfWork, reading_sessions
from tests.clock import FixedClock
from tests.fakes.memory_uow import RecordingNotifier
from tests.integration.storage_seed import NOW, POLICY, add_case, add_coordinator, add_mediators
from tests.unit.factories import mediator

Units = Callable[[Delivery | None], SqlUnitOfWork]


@pytest.fixture
def units(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> Units:
    """Units of work as the bot makes them for a click: with its delivery and readers."""
    readers = reading_sessions(engine)
    return lambda delivery: SqlUnitOfWork(sessions, delivery, readers=readers)


@pytest.fixture
async def statements(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """The SQL the engine runs while the test does (its parameters are not kept).

    SQLite's statements run on its one connection, much of it past SQLAlchemy
    (storage/sqlite_fast/): sqlite3's own trace sees them all, BEGIN and ROLLBACK too.
    """
    seen: list[str] = []
    if engine.dialect.name == "sqlite":
        async with engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection.raw
        raw.set_trace_callback(seen.append)
        yield seen
        raw.set_trace_callback(None)
        return

    def keep(conn: Any, cursor: Any, sql: str, *rest: Any) -> None:
        seen.append(sql)

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", keep)


async def _claim(uow: SqlUnitOfWork, who: Mediator, case_id: int) -> services.CaseResult:
    return await services.claim_seat(
        services.ClaimSeat(who.aad_object_id, case_id),
        uow,
        RecordingNotifier(),
        FixedClock(NOW),
        POLICY,
    )


async def _release(uow: SqlUnitOfWork, who: Mediator, case_id: int) -> services.CaseResult:
    return await services.release_seat(
        services.ReleaseSeat(who.aad_object_id, case_id),
        uow,
        RecordingNotifier(),
        FixedClock(NOW + timedelta(minutes=5)),
        POLICY,
    )


async def _bank(units: Units) -> tuple[list[Mediator], int]:
    coordinator = await add_coordinator(units(None))
    people = await add_mediators(units(None), mediator("Olli Kokenut"), mediator("Outi Toinen"))
    assert coordinator.id is not None
    case = await add_case(units(None), coordinator.id)
    assert case.id is not None
    return people, case.id


async def test_a_repeated_claim_locks_nothing_and_looks_up_no_redelivery(
    units: Units, statements: list[str]
) -> None:
    (olli, _), case_id = await _bank(units)
    first = await _claim(units(Delivery("click-1", NOW)), olli, case_id)
    assert first.changed
    statements.clear()

    again = Delivery("click-2", NOW)
    result = await _claim(units(again), olli, case_id)

    assert not result.changed and result.seat == 1
    assert statements, "the answer was read from the database"
    reads = [sql for sql in statements if sql.strip().upper() not in ("BEGIN", "ROLLBACK")]
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in reads), statements
    assert not [sql for sql in statements if "FOR UPDATE" in sql.upper()]
    assert not [sql for sql in statements if "processed_activit" in sql.lower()]
    assert not again.checked and not again.recorded


async def test_a_refusal_is_answered_from_the_plain_read_too(
    units: Units, statements: list[str]
) -> None:
    (olli, outi), case_id = await _bank(units)
    await _claim(units(None), olli, case_id)
    await _claim(units(None), outi, case_id)
    (third,) = await add_mediators(units(None), mediator("Kolmas Mukana"))
    statements.clear()

    with pytest.raises(errors.NoFreeSeat) as refused:
        await _claim(units(Delivery("late", NOW)), third, case_id)

    assert refused.value.case is not None and refused.value.case.open_seats == 0
    assert not [sql for sql in statements if "FOR UPDATE" in sql.upper()]


async def test_a_claim_replayed_after_its_release_is_still_stopped(units: Units) -> None:
    (olli, _), case_id = await _bank(units)
    await _claim(units(Delivery("claim-once", NOW)), olli, case_id)
    await _release(units(Delivery("release", NOW)), olli, case_id)

    # The seat is free again, so the plain read allows the claim; the locked attempt finds
    # the click's id recorded with its first change and stops it.
    with pytest.raises(Duplicate):
        await _claim(units(Delivery("claim-once", NOW)), olli, case_id)

    async with units(None) as uow:
        case = await uow.cases.get(case_id)
    assert case is not None and case.holder_ids() == []


async def test_a_reading_unit_of_work_cannot_commit(units: Units) -> None:
    reader = units(None).reading()
    async with reader:
        with pytest.raises(RuntimeError, match="commits nothing"):
            await reader.commit()


@pytest.fixture
def in_transaction(engine: AsyncEngine) -> Iterator[list[bool]]:
    """For each statement run on PostgreSQL: whether it ran inside a BEGIN (asyncpg knows
    from the server's ready-for-query status after it)."""
    seen: list[bool] = []

    def keep(conn: Any, *rest: Any) -> None:
        seen.append(conn.connection.driver_connection.is_in_transaction())

    event.listen(engine.sync_engine, "after_cursor_execute", keep)
    yield seen
    event.remove(engine.sync_engine, "after_cursor_execute", keep)


_PROBE = direct.Direct(select(func.now().label("now")))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_on_postgresql_plain_reads_pay_for_no_begin_and_rollback(
    units: Units, engine: AsyncEngine, in_transaction: list[bool]
) -> None:
    await direct.first(engine, _PROBE, {})
    async with units(None).reading() as reader:
        await reader.session.execute(_PROBE.statement)
        await reader.session.execute(_PROBE.statement)
    assert in_transaction == [False, False, False]

    async with units(None) as uow:  # a unit of work that may change things: a transaction
        await uow.session.execute(_PROBE.statement)
    assert in_transaction[-1] is True
