"""Direct statements (storage/direct.py): run on SQLite's own connection, read as the ORM reads.

On a SQLite file every hot statement of storage/repositories/ runs straight on the
sqlite3 connection of the session's open transaction; elsewhere (PostgreSQL, or a
session with unflushed ORM changes) it goes through ``session.execute``. These tests pin
down that the two paths cannot be told apart: the same rows with the same Python types,
the same transaction, the same exceptions, and the same redelivery bookkeeping.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    Select,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    table,
    update,
)
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.exc import IntegrityError, InvalidRequestError, OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mediation import errors, services
from mediation.journal import AccessEntry, AccessPurpose, CaseEventKind
from mediation.model import AwayPeriod, CaseStatus, Mediator, Meeting, MeetingKind, Outcome, Role
from storage import direct, redelivery
from storage.botstore import BotStore
from storage.direct import Direct
from storage.models import (
    AccessLogRow,
    AwayPeriodRow,
    CaseEventRow,
    ConversationRefRow,
    MediatorRow,
    ProcessedActivityRow,
    SeatRow,
)
from storage.redelivery import Duplicate, delivering
from storage.repositories import cases, journal, mediators
from storage.uow import SqlUnitOfWork
from tests.clock import FixedClock
from tests.fakes.memory_uow import RecordingNotifier
from tests.integration.storage_seed import NOW, POLICY, add_case, add_mediators
from tests.unit.factories import mediator

UowFactory = Callable[[], SqlUnitOfWork]
AUTUMN = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)

# The conftest's engine on a SQLite file only: the inline connection, never in-memory.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


# -- a small bank, seeded through the use cases ----------------------------------------------


@dataclass(frozen=True)
class Bank:
    coordinator: Mediator
    anna: Mediator  # experienced, speaks fi and sv, away twice this spring
    bo: Mediator  # new, away for two days
    cecilia: Mediator
    dora: Mediator  # inactive
    closed: int  # 2025-001: anna and bo, closed with an agreement (a completed case each)
    running: int  # 2026-001: anna and cecilia, in progress, two meetings
    half: int  # 2026-002: bo in seat 1, seat 2 free
    cancelled: int  # 2026-003: cecilia, then cancelled (not counted as a package)

    def ids(self) -> list[int]:
        people = (self.coordinator, self.anna, self.bo, self.cecilia, self.dora)
        return [_id(m) for m in people]


def _id(thing: Mediator) -> int:
    assert thing.id is not None
    return thing.id


async def _claim(
    uow: SqlUnitOfWork, who: Mediator, case_id: int, at: datetime = NOW, seat: int | None = None
) -> services.CaseResult:
    return await services.claim_seat(
        services.ClaimSeat(who.aad_object_id, case_id, seat),
        uow,
        RecordingNotifier(),
        FixedClock(at),
        POLICY,
    )


async def _seed(uow: SqlUnitOfWork) -> Bank:
    anna = mediator("Anna Aaltonen", languages="fi sv")
    anna.away = (
        AwayPeriod(date(2026, 4, 1), date(2026, 4, 30)),
        AwayPeriod(date(2026, 6, 1), date(2026, 6, 15)),
    )
    bo = mediator("Bo Berg", experienced=False)
    bo.away = (AwayPeriod(date(2026, 5, 1), date(2026, 5, 2)),)
    coordinator, anna, bo, cecilia, dora = await add_mediators(
        uow,
        mediator("Kaisa Koordinaattori", role=Role.COORDINATOR),
        anna,
        bo,
        mediator("Cecilia Cederlund"),
        mediator("Dora Dahl", active=False),
    )
    boss = coordinator.aad_object_id
    clock, autumn = FixedClock(NOW), FixedClock(AUTUMN + timedelta(days=60))

    closed = await add_case(uow, _id(coordinator), code="2025-001", at=AUTUMN)
    assert closed.id is not None
    await _claim(uow, anna, closed.id, AUTUMN + timedelta(days=1))
    await _claim(uow, bo, closed.id, AUTUMN + timedelta(days=1))
    await services.start_case(services.CaseStep(boss, closed.id), uow, autumn, POLICY)
    await services.close_case(
        services.CloseCase(boss, closed.id, Outcome.AGREEMENT),
        uow,
        RecordingNotifier(),
        autumn,
        POLICY,
    )

    running = await add_case(uow, _id(coordinator), code="2026-001")
    assert running.id is not None
    await _claim(uow, anna, running.id)
    await _claim(uow, cecilia, running.id)
    async with uow:
        case = await uow.cases.get(running.id, for_update=True)
        assert case is not None
        start = NOW + timedelta(days=7)
        for parent in (1, 2):
            begins = start + timedelta(days=parent)
            case.meetings.append(
                Meeting(
                    MeetingKind.INDIVIDUAL, begins, begins + timedelta(hours=1), parent_no=parent
                )
            )
        await uow.cases.save(case)
        await uow.commit()
    await services.start_case(services.CaseStep(boss, running.id), uow, clock, POLICY)

    half = await add_case(uow, _id(coordinator), code="2026-002", at=NOW + timedelta(hours=1))
    assert half.id is not None
    await _claim(uow, bo, half.id)

    cancelled = await add_case(uow, _id(coordinator), code="2026-003", at=NOW + timedelta(hours=2))
    assert cancelled.id is not None
    await _claim(uow, cecilia, cancelled.id, seat=2)
    await services.cancel_case(
        services.CancelCase(boss, cancelled.id), uow, RecordingNotifier(), clock, POLICY
    )
    return Bank(coordinator, anna, bo, cecilia, dora, closed.id, running.id, half.id, cancelled.id)


@pytest.fixture
async def bank(uow_factory: UowFactory) -> Bank:
    return await _seed(uow_factory())


# -- 1. the same rows either way ----------------------------------------------------------------


def _spans(*spans: tuple[date, date]) -> dict[str, Any]:
    """_PACKAGES_TAKEN's parameters: aware local-midnight bounds, as quota_usage passes them."""
    params: dict[str, Any] = {}
    for n, (start, end) in enumerate(spans):
        params[f"start{n}"], params[f"end{n}"] = POLICY.bounds_utc(start, end)
    return params


SPRING_2026 = (date(2026, 1, 1), date(2026, 7, 1))
AUTUMN_2025 = (date(2025, 7, 1), date(2026, 1, 1))
YEAR_2026 = (date(2026, 1, 1), date(2027, 1, 1))


@dataclass(frozen=True)
class Read:
    """A Direct SELECT, its parameters in the seeded bank, and how many rows it finds."""

    statement: Direct
    params: Callable[[Bank], dict[str, Any]]
    rows: int
    first: tuple[Any, ...] | None = None  # the first row's values, where they tell something


# Not a statement of storage/repositories/: the journal's JSON column, read back as a dict.
_CASE_EVENTS = Direct(select(CaseEventRow.__table__).order_by(CaseEventRow.id))

READS: dict[str, Read] = {
    "mediator by id, two away periods": Read(
        mediators._MEDIATOR_BY_ID, lambda b: {"mediator_id": _id(b.anna)}, 2
    ),
    "mediator by id, one away period": Read(
        mediators._MEDIATOR_BY_ID, lambda b: {"mediator_id": _id(b.bo)}, 1
    ),
    "mediator by id, none such": Read(
        mediators._MEDIATOR_BY_ID, lambda b: {"mediator_id": 9_999}, 0
    ),
    "mediator by id for update": Read(
        mediators._MEDIATOR_BY_ID_FOR_UPDATE, lambda b: {"mediator_id": _id(b.anna)}, 2
    ),
    "mediator by aad": Read(mediators._MEDIATOR_BY_AAD, lambda b: {"aad": b.anna.aad_object_id}, 2),
    "mediators by several ids": Read(
        mediators._MEDIATORS_BY_IDS, lambda b: {"ids": [*b.ids(), 9_999]}, 6
    ),
    "mediators by an empty id list": Read(mediators._MEDIATORS_BY_IDS, lambda b: {"ids": []}, 0),
    "mediator by aad or ids": Read(
        mediators._MEDIATOR_BY_AAD_OR_IDS,
        lambda b: {"aad": b.coordinator.aad_object_id, "ids": [_id(b.anna), _id(b.bo)]},
        4,
    ),
    "mediator by aad or an empty id list": Read(
        mediators._MEDIATOR_BY_AAD_OR_IDS,
        lambda b: {"aad": b.dora.aad_object_id, "ids": []},
        1,
    ),
    "case by id, closed": Read(cases._CASE_BY_ID, lambda b: {"case_id": b.closed}, 2),
    "case by id, with meetings": Read(cases._CASE_BY_ID, lambda b: {"case_id": b.running}, 2),
    "case by id, one seat free": Read(cases._CASE_BY_ID, lambda b: {"case_id": b.half}, 2),
    "case by id, cancelled": Read(cases._CASE_BY_ID, lambda b: {"case_id": b.cancelled}, 2),
    "case by id, none such": Read(cases._CASE_BY_ID, lambda b: {"case_id": 9_999}, 0),
    "case by id for update": Read(
        cases._CASE_BY_ID_FOR_UPDATE, lambda b: {"case_id": b.running}, 2
    ),
    "case lock": Read(cases._LOCK_CASE, lambda b: {"case_id": b.half}, 1),
    "meetings of several cases": Read(
        cases._MEETINGS_OF, lambda b: {"ids": [b.half, b.running, b.closed]}, 2
    ),
    "meetings of an empty id list": Read(cases._MEETINGS_OF, lambda b: {"ids": []}, 0),
    "packages taken in a term": Read(
        mediators._PACKAGES_TAKEN[1],
        lambda b: {"mediator_id": _id(b.anna), **_spans(SPRING_2026)},
        1,
        (1,),
    ),
    "packages taken in a term and a year": Read(
        mediators._PACKAGES_TAKEN[2],
        lambda b: {"mediator_id": _id(b.bo), **_spans(AUTUMN_2025, YEAR_2026)},
        1,
        (1, 1),
    ),
    "packages taken, a cancelled case not counted": Read(
        mediators._PACKAGES_TAKEN[2],
        lambda b: {"mediator_id": _id(b.cecilia), **_spans(SPRING_2026, YEAR_2026)},
        1,
        (1, 1),
    ),
    "a click's id seen (storage/redelivery.py)": Read(
        redelivery.SEEN, lambda b: {"key": "c|nobody"}, 0
    ),
    "case events with JSON details": Read(_CASE_EVENTS, lambda b: {}, 10),
}


def _described(row: Any) -> list[tuple[str | None, str, str]]:
    """Each value of a row with its attribute name and type; repr shows a datetime's zone.

    A column without a name of its own (a count) has none to compare: SQLAlchemy calls it
    ``_no_label``, a Direct row ``_0``; both are read by position (storage/direct.py).
    """
    return [
        (None if name.startswith("_") else name, type(value).__name__, repr(value))
        for name, value in zip(row._fields, row, strict=True)
    ]


def test_every_direct_select_of_the_repositories_is_compared() -> None:
    statements = [
        *(value for module in (cases, journal, mediators) for value in vars(module).values()),
        *mediators._PACKAGES_TAKEN.values(),
    ]
    selects = {
        id(d) for d in statements if isinstance(d, Direct) and isinstance(d.statement, Select)
    }
    assert selects <= {id(read.statement) for read in READS.values()}


@sqlite_only
@pytest.mark.parametrize("name", list(READS))
async def test_a_direct_read_returns_what_the_session_returns(
    name: str, bank: Bank, uow_factory: UowFactory
) -> None:
    read = READS[name]
    params = read.params(bank)
    uow = uow_factory()
    async with uow:
        session = uow.session
        mine = await direct.rows(session, read.statement, dict(params))
        assert isinstance(session.info[direct.RAW], sqlite3.Connection)  # the direct path
        theirs = list(await session.execute(read.statement.statement, dict(params)))
    assert len(theirs) == read.rows
    assert [_described(r) for r in mine] == [_described(r) for r in theirs]
    for row, expected in zip(mine, theirs, strict=True):
        for attribute in expected._fields:
            if not attribute.startswith("_"):
                assert getattr(row, attribute) == getattr(expected, attribute)
    if read.first is not None:
        assert tuple(mine[0]) == read.first


@sqlite_only
async def test_direct_rows_carry_the_orm_types(bank: Bank, uow_factory: UowFactory) -> None:
    uow = uow_factory()
    async with uow:
        (case, _) = await direct.rows(uow.session, cases._CASE_BY_ID, {"case_id": bank.running})
        (anna, away) = await direct.rows(
            uow.session, mediators._MEDIATOR_BY_ID, {"mediator_id": _id(bank.anna)}
        )
        events = await direct.rows(uow.session, _CASE_EVENTS)
    assert case.created_at == NOW and case.created_at.utcoffset() == timedelta(0)
    assert case.seat_taken_at == NOW and case.seat_taken_at.tzinfo is not None
    assert case.has_meetings is True and case.interpreter is False
    assert case.closed_at is None and case.status == CaseStatus.IN_PROGRESS.value
    assert anna.active is True and anna.experienced_mark is True and anna.completed == 1
    assert (anna.away_start, away.away_start) == (date(2026, 4, 1), date(2026, 6, 1))
    claims = [e.detail for e in events if e.kind == CaseEventKind.CLAIMED.value]
    assert claims[:2] == [{"seat": 1}, {"seat": 2}]


# -- 2. which path a statement takes ----------------------------------------------------------


@pytest.fixture
def cursor_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements that went through SQLAlchemy's own execution, in order."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", record)


@sqlite_only
async def test_the_open_transaction_keeps_sqlites_own_connection_until_it_ends(
    bank: Bank, uow_factory: UowFactory, cursor_statements: list[str]
) -> None:
    uow = uow_factory()
    async with uow:
        session = uow.session
        assert direct.RAW not in session.info  # no transaction yet
        cursor_statements.clear()
        found = await direct.rows(session, cases._CASE_BY_ID, {"case_id": bank.half})
        raw = session.info[direct.RAW]
        assert isinstance(raw, sqlite3.Connection) and raw.in_transaction
        assert len(found) == 2
        assert cursor_statements == []  # BEGIN IMMEDIATE and the SELECT bypassed SQLAlchemy
        await uow.commit()
        assert direct.RAW not in session.info and not raw.in_transaction

        await uow.cases.get(bank.half)
        assert session.info[direct.RAW] is raw  # the pool's one connection, begun again
        await uow.rollback()
        assert direct.RAW not in session.info and not raw.in_transaction
    assert cursor_statements == []


@sqlite_only
async def test_a_session_without_the_begin_hook_reads_through_itself(
    bank: Bank, engine: AsyncEngine
) -> None:
    # A plain session (not session_factory's) never learns the raw connection.
    async with AsyncSession(engine) as session:
        found = await direct.rows(session, cases._CASE_BY_ID, {"case_id": bank.half})
        assert direct.RAW not in session.info
        assert [r.seat_holder for r in found] == [_id(bank.bo), None]


async def test_a_claim_reads_back_the_same_on_either_backend(
    backend: str, uow_factory: UowFactory, cursor_statements: list[str]
) -> None:
    anna, bo = await add_mediators(uow_factory(), mediator("Anna A"), mediator("Bo B"))
    case = await add_case(uow_factory(), _id(anna))
    assert case.id is not None
    claimed = await _claim(uow_factory(), bo, case.id, seat=2)
    assert claimed.changed and claimed.seat == 2

    cursor_statements.clear()
    uow = uow_factory()
    async with uow:
        loaded = await uow.cases.get(case.id)
        me, holders = await uow.mediators.by_aad_and_ids(bo.aad_object_id, [_id(bo)])
        used = await uow.mediators.packages_taken_in(
            _id(bo), [POLICY.bounds_utc(*SPRING_2026), POLICY.bounds_utc(*YEAR_2026)]
        )
        raw = uow.session.info[direct.RAW]
    if backend == "sqlite":
        assert isinstance(raw, sqlite3.Connection)
        assert cursor_statements == []  # all three reads ran on the connection itself
    else:
        assert raw is direct.NOT_INLINE
        assert len(cursor_statements) == 3  # all three through SQLAlchemy, as before
    assert loaded is not None and loaded.version == 1
    assert [(s.n, s.holder_id, s.taken_at) for s in loaded.seats] == [
        (1, None, None),
        (2, _id(bo), NOW),
    ]
    assert me is not None and me.id == bo.id and list(holders) == [bo.id]
    assert used == [1, 1]


# -- 3. a direct write is part of the session's transaction -----------------------------------


def _access(case_id: int, viewer: Mediator) -> AccessEntry:
    return AccessEntry(case_id, _id(viewer), NOW, AccessPurpose.COORDINATION)


async def _accesses(uow: SqlUnitOfWork, case_id: int) -> int:
    async with uow:
        return len(await uow.journal.accesses(case_id))


async def test_a_direct_write_is_rolled_back_and_committed_with_the_session(
    bank: Bank, uow_factory: UowFactory
) -> None:
    uow = uow_factory()
    async with uow:
        await uow.journal.access(_access(bank.half, bank.coordinator))
        assert uow.session.info[direct.WROTE] is True
        await uow.rollback()
        assert direct.WROTE not in uow.session.info
    assert await _accesses(uow, bank.half) == 0

    async with uow:
        await uow.journal.access(_access(bank.half, bank.coordinator))
        case = await uow.cases.get(bank.half, for_update=True)
        assert case is not None
        case.take_seat(2, _id(bank.anna), NOW)
        await uow.cases.save(case)  # _SAVE_CASE and _TAKE_EMPTY_SEAT
    # Left without a commit: the unit of work rolls back on the way out.
    async with uow:
        case = await uow.cases.get(bank.half)
    assert case is not None and case.holder_ids() == [_id(bank.bo)] and case.version == 1
    assert await _accesses(uow, bank.half) == 0

    async with uow:
        await uow.journal.access(_access(bank.half, bank.coordinator))
        await uow.commit()
        assert direct.WROTE not in uow.session.info
    assert await _accesses(uow, bank.half) == 1


@sqlite_only
async def test_a_direct_write_is_seen_by_others_only_once_committed(
    bank: Bank, engine: AsyncEngine, uow_factory: UowFactory
) -> None:
    assert engine.url.database is not None
    other = sqlite3.connect(engine.url.database)  # another process, reading the file
    query = "SELECT count(*) FROM access_log"
    try:
        uow = uow_factory()
        async with uow:
            await uow.journal.access(_access(bank.half, bank.coordinator))
            assert isinstance(uow.session.info[direct.RAW], sqlite3.Connection)
            assert other.execute(query).fetchone() == (0,)
            await uow.commit()
        assert other.execute(query).fetchone() == (1,)
    finally:
        other.close()


BOOKKEEPING_ROWS: dict[str, tuple[type[Any], dict[str, Any]]] = {
    "processed_activity": (ProcessedActivityRow, {"key": "c|1", "seen_at": NOW}),
    "conversation_ref": (
        ConversationRefRow,
        {"aad_object_id": "aad-1", "reference": "{}", "updated_at": NOW},
    ),
}


@pytest.mark.parametrize("table", list(BOOKKEEPING_ROWS))
async def test_a_bookkeeping_write_is_not_a_change(
    table: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert table in direct.BOOKKEEPING_TABLES
    model, values = BOOKKEEPING_ROWS[table]
    statement = Direct(insert(model))
    assert not statement.writes_bank
    async with sessions() as session:
        await direct.execute(session, statement, values)
        assert direct.WROTE not in session.info
        await session.commit()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(model)) == 1


async def test_a_write_to_a_bank_table_is_a_change_on_either_backend(
    bank: Bank, sessions: async_sessionmaker[AsyncSession]
) -> None:
    update_name = Direct(
        update(MediatorRow)
        .where(MediatorRow.id == _id(bank.dora))
        .execution_options(synchronize_session=False)
    )
    assert update_name.writes_bank
    async with sessions() as session:
        await direct.rows(session, cases._CASE_BY_ID, {"case_id": bank.half})
        assert direct.WROTE not in session.info  # a read is not a change
        assert await direct.execute(session, update_name, {"name": "Dora Dahlberg"}) == 1
        assert session.info[direct.WROTE] is True


# -- 4. unflushed ORM changes -------------------------------------------------------------------


@sqlite_only
async def test_a_direct_read_sees_orm_changes_not_yet_flushed(
    bank: Bank, uow_factory: UowFactory
) -> None:
    uow = uow_factory()
    async with uow:
        session = uow.session
        row = await session.get(MediatorRow, _id(bank.dora))
        assert row is not None
        row.name = "Dora Dahlberg"  # dirty
        session.add(  # new
            AwayPeriodRow(mediator_id=_id(bank.dora), start=date(2026, 8, 1), end=date(2026, 8, 9))
        )
        assert session.dirty and session.new
        found = await direct.rows(
            session, mediators._MEDIATOR_BY_ID, {"mediator_id": _id(bank.dora)}
        )
        assert [(r.name, r.away_start) for r in found] == [("Dora Dahlberg", date(2026, 8, 1))]
        assert not session.dirty and not session.new  # flushed by the session's execute

        (away,) = (
            await session.execute(
                select(AwayPeriodRow).where(AwayPeriodRow.mediator_id == _id(bank.dora))
            )
        ).scalars()
        await session.delete(away)  # deleted
        found = await direct.rows(
            session, mediators._MEDIATOR_BY_ID, {"mediator_id": _id(bank.dora)}
        )
        assert [(r.name, r.away_start) for r in found] == [("Dora Dahlberg", None)]


# -- 5. errors ----------------------------------------------------------------------------------


async def test_a_duplicate_primary_key_is_sqlalchemys_integrity_error(
    backend: str, bank: Bank, uow_factory: UowFactory
) -> None:
    statement = journal._INSERT_ACCESS
    uow = uow_factory()
    async with uow:
        await uow.journal.access(_access(bank.half, bank.coordinator))
        (taken,) = (await uow.session.execute(select(AccessLogRow.id))).scalars()
        values = {
            "id": taken,
            "case_id": bank.half,
            "viewer_id": _id(bank.anna),
            "at": NOW,
            "purpose": AccessPurpose.COORDINATION.value,
        }
        with pytest.raises(IntegrityError) as caught:
            await direct.execute(uow.session, statement, values)
        if backend == "sqlite":
            assert isinstance(caught.value.orig, sqlite3.IntegrityError)
            assert "UNIQUE constraint failed: access_log.id" in str(caught.value)


@sqlite_only
async def test_a_seat_holder_twice_is_an_integrity_error_and_then_a_concurrent_change(
    bank: Bank, uow_factory: UowFactory
) -> None:
    take = {"w_case_id": bank.half, "w_n": 2, "holder_id": _id(bank.bo), "taken_at": NOW}
    uow = uow_factory()
    async with uow:
        with pytest.raises(IntegrityError) as caught:
            await direct.execute(uow.session, cases._TAKE_EMPTY_SEAT, take)
        assert isinstance(caught.value.orig, sqlite3.IntegrityError)
        assert "seat.case_id, seat.holder_id" in str(caught.value.orig)

        # Through the repository, as a race that another save won would meet it.
        case = await uow.cases.get(bank.half)
        assert case is not None
        case.seats[1].holder_id, case.seats[1].taken_at = _id(bank.bo), NOW
        with pytest.raises(errors.ConcurrentChange, match="seat 2 of case 2026-002"):
            await uow.cases.save(case)
    async with uow:
        rows = await uow.session.execute(
            select(SeatRow.n, SeatRow.holder_id).where(SeatRow.case_id == bank.half)
        )
        assert sorted(tuple(r) for r in rows) == [(1, _id(bank.bo)), (2, None)]


async def test_a_naive_datetime_is_refused_as_the_session_refuses_it(
    bank: Bank, uow_factory: UowFactory
) -> None:
    # UtcDateTime's bind conversion refuses it; through the session that is a StatementError
    # (as test_storage_repositories.py expects of the ORM's writes).
    naive = datetime(2026, 3, 2, 9, 0)
    uow = uow_factory()
    async with uow:
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.journal.access(
                AccessEntry(bank.half, _id(bank.coordinator), naive, AccessPurpose.COORDINATION)
            )
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.mediators.packages_taken(_id(bank.anna), naive, naive + timedelta(days=1))


# -- 5b. a fixed statement's values without SQLAlchemy's expansion ---------------------------


def test_only_a_statement_with_an_in_list_is_expanded_by_sqlalchemy() -> None:
    dialect = SQLiteDialect_aiosqlite()
    assert cases._CASE_BY_ID._for(dialect, {}).plan is not None
    assert cases._SAVE_CASE._for(dialect, {"status": "open"}).plan is not None
    assert mediators._MEDIATORS_BY_IDS._for(dialect, {}).plan is None
    assert cases._MEETINGS_OF._for(dialect, {}).plan is None
    # ...and then only the first time for each length of its lists: the ids passed, and
    # the outcomes of a closed case, a list given in the statement itself.
    for statement in (mediators._MEDIATORS_BY_IDS, mediators._MEDIATOR_BY_AAD_OR_IDS):
        lists = statement._for(dialect, {}).lists or ()
        assert [key for key, _, _ in lists][-1] == "ids"
        assert len(lists) == 2


def test_a_statement_with_in_lists_gets_sqlalchemys_sql_and_values_for_every_length() -> None:
    statement = Direct(
        select(MediatorRow.id).where(
            MediatorRow.id.in_(bindparam("ids", expanding=True)),
            MediatorRow.active.is_(bindparam("active")),
            MediatorRow.name.in_(bindparam("names", expanding=True)),
            MediatorRow.role == "coordinator",
        )
    )
    compiled = statement._for(SQLiteDialect_aiosqlite(), {})
    assert [key for key, _, _ in compiled.lists or ()] == ["ids", "names"]
    calls = [
        {"ids": [1, 2, 3], "active": True, "names": ["a"]},
        {"ids": [4, 5, 6], "active": False, "names": ["b"]},  # learnt from the first
        {"ids": [], "active": True, "names": ["c", "d"]},
        {"ids": [], "active": True, "names": ["e", "f"]},
        {"ids": (7,), "active": True, "names": []},
        {"ids": (8,), "active": True, "names": []},
    ]
    for params in calls:
        assert compiled.sql_and_values(params) == compiled._expanded(params)
    assert set(compiled._by_lengths) == {(3, 1), (0, 2), (1, 0)}
    # A missing list or value goes SQLAlchemy's way, which refuses it.
    with pytest.raises(InvalidRequestError):
        compiled.sql_and_values({"ids": [1, 2, 3], "names": ["a"]})
    with pytest.raises(InvalidRequestError):
        compiled.sql_and_values({"active": True, "names": ["a"]})


def test_a_missing_value_is_refused_as_sqlalchemy_refuses_it() -> None:
    statement = Direct(select(MediatorRow.id).where(MediatorRow.id == bindparam("mediator_id")))
    compiled = statement._for(SQLiteDialect_aiosqlite(), {})
    assert compiled.plan is not None
    with pytest.raises(InvalidRequestError, match="A value is required for bind parameter"):
        compiled.sql_and_values({})
    assert compiled.sql_and_values({"mediator_id": 3})[1] == [3]


@sqlite_only
async def test_every_statement_a_bank_runs_gets_sqlalchemys_sql_and_values(
    uow_factory: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each call of a direct statement, while a bank is seeded, claimed, released and read,
    # is compared with what SQLAlchemy's own expansion makes of the same parameters.
    short_way = direct._Compiled.sql_and_values
    checked: list[str] = []

    def both_ways(compiled: Any, params: dict[str, Any]) -> tuple[str, list[Any]]:
        mine = short_way(compiled, params)
        assert mine == compiled._expanded(params)
        if compiled.plan is not None or compiled._by_lengths:
            checked.append(mine[0])
        return mine

    monkeypatch.setattr(direct._Compiled, "sql_and_values", both_ways)
    bank = await _seed(uow_factory())
    await _claim(uow_factory(), bank.anna, bank.half)
    await services.release_seat(
        services.ReleaseSeat(bank.anna.aad_object_id, bank.half),
        uow_factory(),
        RecordingNotifier(),
        FixedClock(NOW),
        POLICY,
    )
    uow = uow_factory()
    async with uow:
        await uow.journal.access(_access(bank.half, bank.coordinator))
        for read in READS.values():
            await direct.rows(uow.session, read.statement, read.params(bank))
        await uow.commit()
    kinds = {sql.split()[0] for sql in checked}
    assert kinds == {"SELECT", "INSERT", "UPDATE"}
    assert any(" IN (" in sql for sql in checked)
    assert len(set(checked)) >= 10


# -- 5c. a read of its own, outside any transaction -------------------------------------------


async def test_a_read_of_its_own_finds_what_the_session_finds(
    backend: str, bank: Bank, engine: AsyncEngine, cursor_statements: list[str]
) -> None:
    params = {"case_id": bank.half}
    found = await direct.first(engine, cases._CASE_BY_ID, params)
    if backend == "sqlite":
        assert cursor_statements == []  # no BEGIN, no SQLAlchemy execution
    async with AsyncSession(engine) as session:
        expected = (await session.execute(cases._CASE_BY_ID.statement, params)).first()
    assert found is not None and expected is not None
    assert _described(found) == _described(expected)
    assert await direct.first(engine, cases._CASE_BY_ID, {"case_id": 9_999}) is None


@sqlite_only
async def test_a_read_of_its_own_does_not_wait_for_another_processs_writer(
    bank: Bank, engine: AsyncEngine
) -> None:
    database = engine.url.database
    assert database is not None
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # the CLI importing mediators, say
        writer.execute("UPDATE mediator SET name = 'Bo Changed' WHERE id = ?", (_id(bank.bo),))
        statement = Direct(select(MediatorRow.name).where(MediatorRow.id == bindparam("id")))
        started = time.monotonic()
        found = await direct.first(engine, statement, {"id": _id(bank.bo)})
        assert time.monotonic() - started < 1.0  # a BEGIN IMMEDIATE would wait up to 10 s
        assert found is not None and found.name == "Bo Berg"  # not the uncommitted change
    finally:
        writer.close()


@sqlite_only
async def test_a_read_of_its_own_raises_sqlalchemys_error(engine: AsyncEngine) -> None:
    statement = Direct(select(literal_column("x")).select_from(table("no_such_table")))
    with pytest.raises(OperationalError, match="no such table"):
        await direct.first(engine, statement, {})


# -- 6. a click's redelivery record rides on the direct writes ----------------------------------


async def test_a_claim_records_its_click_with_the_direct_writes(
    bank: Bank, uow_factory: UowFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    store = BotStore(sessions)
    with delivering("c|claim", NOW) as click:
        result = await _claim(uow_factory(), bank.anna, bank.half)
    assert result.changed and click.checked and click.recorded and not click.duplicate
    assert await store.seen("c|claim")

    # The redelivery stops at its first transaction: no second claim event.
    with delivering("c|claim", NOW) as again, pytest.raises(Duplicate):
        await _claim(uow_factory(), bank.anna, bank.half)
    assert again.duplicate and not again.recorded
    uow = uow_factory()
    async with uow:
        events = await uow.journal.case_events(bank.half)
    claims = [e.actor_id for e in events if e.kind is CaseEventKind.CLAIMED]
    assert claims == [_id(bank.bo), _id(bank.anna)]


async def test_a_click_that_changes_nothing_records_nothing(
    bank: Bank, uow_factory: UowFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    store = BotStore(sessions)
    with delivering("c|again", NOW) as reclaim:
        result = await _claim(uow_factory(), bank.bo, bank.half)  # bo holds seat 1 already
    assert not result.changed and reclaim.checked and not reclaim.recorded

    with delivering("c|refused", NOW) as refused, pytest.raises(errors.IllegalTransition):
        await _claim(uow_factory(), bank.bo, bank.running)  # in progress: no claims
    assert refused.checked and not refused.recorded

    assert not await store.seen("c|again") and not await store.seen("c|refused")
