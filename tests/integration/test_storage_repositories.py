"""The SQL repositories against SQLite and PostgreSQL: round trips and query semantics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import StatementError

from mediation.errors import ConcurrentChange
from mediation.journal import (
    AccessEntry,
    AccessPurpose,
    CaseEvent,
    CaseEventKind,
    MediatorEvent,
)
from mediation.model import (
    MEDIATION,
    AwayPeriod,
    Case,
    CaseStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Outcome,
    Role,
)
from storage.models import CaseRow, SeatRow
from storage.repositories import SqlJournal
from storage.uow import SqlUnitOfWork
from tests.integration.storage_seed import (
    FAMILY,
    NOW,
    POLICY,
    add_case,
    add_coordinator,
    add_mediators,
)
from tests.unit.factories import intake, mediator

UowFactory = Callable[[], SqlUnitOfWork]


async def test_mediator_round_trip(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    person = mediator("Ville Väisänen", languages="fi sv", experienced=False)
    person.aad_object_id = person.aad_object_id.upper()
    person.away = (AwayPeriod(date(2026, 4, 1), date(2026, 4, 30)),)
    (stored,) = await add_mediators(uow, person)
    assert stored.id is not None

    async with uow:
        loaded = await uow.mediators.by_aad(person.aad_object_id.upper())
    assert loaded is not None
    assert loaded.aad_object_id == person.aad_object_id.lower()
    assert (loaded.name, loaded.email, loaded.employer) == (
        "Ville Väisänen",
        "ville@example.org",
        "Keski-Uusimaa",
    )
    assert loaded.languages == frozenset({"fi", "sv"})
    assert loaded.role is Role.MEDIATOR and not loaded.experienced_mark and loaded.active
    assert loaded.away == (AwayPeriod(date(2026, 4, 1), date(2026, 4, 30)),)
    assert loaded.completed_cases == 0

    loaded.languages = frozenset({"sv"})
    loaded.active = False
    loaded.experienced_mark = True
    loaded.away = (
        AwayPeriod(date(2026, 5, 1), date(2026, 5, 2)),
        AwayPeriod(date(2026, 6, 1), date(2026, 6, 30)),
    )
    async with uow:
        await uow.mediators.save(loaded)
        await uow.commit()
    async with uow:
        again = await uow.mediators.get(stored.id, for_update=True)
    assert again is not None
    assert again.languages == frozenset({"sv"})
    assert not again.active and again.experienced_mark
    assert [p.start for p in again.away] == [date(2026, 5, 1), date(2026, 6, 1)]


async def test_mediator_queries(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    anna, bo, cecilia = await add_mediators(
        uow, mediator("Anna A"), mediator("Bo B", active=False), mediator("Cecilia C")
    )
    assert None not in (coordinator.id, anna.id, bo.id, cecilia.id)
    async with uow:
        everyone = await uow.mediators.list()
        active = await uow.mediators.list(active_only=True)
        coordinators = await uow.mediators.coordinators()
        some = await uow.mediators.by_ids([anna.id, cecilia.id, anna.id, 999])  # type: ignore[list-item]
        nobody = await uow.mediators.by_ids([])
        missing = await uow.mediators.get(999)
        stranger = await uow.mediators.by_aad("00000000-0000-0000-0000-000000000000")
    assert [m.name for m in everyone] == ["Anna A", "Bo B", "Cecilia C", "Kaisa Koordinaattori"]
    assert [m.name for m in active] == ["Anna A", "Cecilia C", "Kaisa Koordinaattori"]
    assert [m.id for m in coordinators] == [coordinator.id]
    assert sorted(some) == sorted([anna.id, cecilia.id])  # type: ignore[type-var]
    assert some[anna.id].name == "Anna A"  # type: ignore[index]
    assert nobody == {} and missing is None and stranger is None


async def test_the_familys_excluded_days_are_kept(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    wanted = replace(intake(), excluded_days=("mon", "fri"))
    async with uow:
        stored = await uow.cases.add(
            Case.new("2026-002", wanted, coordinator.id, NOW, POLICY), FAMILY
        )
        await uow.commit()
    assert stored.id is not None
    async with uow:
        case = await uow.cases.get(stored.id)
    assert case is not None and case.intake == wanted


async def test_case_round_trip_with_seats_family_and_meetings(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    added = await add_case(uow, coordinator.id, code="2026-001")
    assert added.id is not None and added.version == 0

    async with uow:
        case = await uow.cases.get(added.id)
        family = await uow.cases.family(added.id)
        nothing = await uow.cases.get(added.id + 1)
    assert case is not None and nothing is None
    assert case.code == "2026-001" and case.type is MEDIATION
    assert case.intake == intake()
    assert case.created_at == NOW and case.created_at.tzinfo is not None
    assert case.created_by == coordinator.id
    assert [(s.n, s.role, s.holder_id) for s in case.seats] == [
        (1, "mediator", None),
        (2, "mediator", None),
    ]
    assert case.status is CaseStatus.OPEN and case.outcome is None and case.closed_at is None
    assert case.package_size == 5 and not case.safety_concern_open
    assert family == FAMILY

    start = datetime(2026, 3, 10, 8, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
    (first,) = await add_mediators(uow, mediator("Anna A"))
    assert first.id is not None
    async with uow:
        case = await uow.cases.get(added.id, for_update=True)
        assert case is not None
        case.take_seat(2, first.id, NOW)
        case.meetings.append(
            Meeting(MeetingKind.INDIVIDUAL, start, start + timedelta(hours=1), parent_no=1)
        )
        case.meetings.append(
            Meeting(
                MeetingKind.INDIVIDUAL,
                start + timedelta(days=1),
                start + timedelta(days=1, hours=1),
                parent_no=2,
            )
        )
        await uow.cases.save(case)
        assert case.version == 1 and all(m.id is not None for m in case.meetings)
        await uow.commit()

    async with uow:
        case = await uow.cases.get(added.id)
        assert case is not None
        assert case.version == 1
        assert [s.holder_id for s in case.seats] == [None, first.id]
        assert case.seats[1].taken_at == NOW
        assert [m.parent_no for m in case.meetings] == [1, 2]
        assert case.meetings[0].starts_at == start
        assert case.meetings[0].starts_at.utcoffset() == timedelta(0)
        case.meetings[0].status = MeetingStatus.HELD
        case.meetings[0].held_minutes = 55
        await uow.cases.save(case)
        await uow.commit()

    async with uow:
        case = await uow.cases.get(added.id)
    assert case is not None and case.version == 2
    held = case.meetings[0]
    assert (held.status, held.held_minutes) == (MeetingStatus.HELD, 55)
    assert case.meetings[1].status is MeetingStatus.BOOKED


async def test_family_is_gone_once_erased(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    case = await add_case(uow, coordinator.id)
    assert case.id is not None
    async with uow:
        await uow.cases.erase_family(case.id)
        await uow.commit()
    async with uow:
        assert await uow.cases.family(case.id) is None
        assert await uow.cases.get(case.id) is not None


async def test_cases_by_status_and_by_mediator(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    (anna,) = await add_mediators(uow, mediator("Anna A"))
    assert coordinator.id is not None and anna.id is not None
    later = await add_case(uow, coordinator.id, code="2026-002", at=NOW + timedelta(hours=1))
    await add_case(uow, coordinator.id, code="2026-001")
    cancelled = await add_case(uow, coordinator.id, code="2026-003", at=NOW + timedelta(hours=2))
    async with uow:
        for c in (later, cancelled):
            assert c.id is not None
            loaded = await uow.cases.get(c.id)
            assert loaded is not None
            loaded.take_seat(1, anna.id, NOW)
            if c is cancelled:
                loaded.cancel(NOW)
            await uow.cases.save(loaded)
        await uow.commit()
    async with uow:
        open_ = await uow.cases.with_status([CaseStatus.OPEN])
        both = await uow.cases.with_status([CaseStatus.OPEN, CaseStatus.CANCELLED])
        none = await uow.cases.with_status([])
        annas = await uow.cases.for_mediator(anna.id)
        coordinators = await uow.cases.for_mediator(coordinator.id)
    assert [c.code for c in open_] == ["2026-001", "2026-002"]
    assert [c.code for c in both] == ["2026-001", "2026-002", "2026-003"]
    assert none == []
    assert [c.code for c in annas] == ["2026-002", "2026-003"]
    assert coordinators == []


async def test_journal_round_trip(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    case = await add_case(uow, coordinator.id)
    assert case.id is not None
    async with uow:
        await uow.journal.case_event(
            CaseEvent(
                case.id,
                CaseEventKind.CLAIMED,
                coordinator.id,
                NOW + timedelta(minutes=1),
                {"seat": 1},
            )
        )
        await uow.journal.case_event(CaseEvent(case.id, CaseEventKind.CREATED, None, NOW))
        await uow.journal.access(
            AccessEntry(case.id, coordinator.id, NOW, AccessPurpose.COORDINATION)
        )
        await uow.journal.mediator_event(
            MediatorEvent(coordinator.id, None, NOW, {"away": ["2026-04-01..2026-04-30"]})
        )
        await uow.commit()
    async with uow:
        events = await uow.journal.case_events(case.id)
        accesses = await uow.journal.accesses(case.id)
        changes = await SqlJournal(uow.session).mediator_events(coordinator.id)
    assert events == [
        CaseEvent(case.id, CaseEventKind.CREATED, None, NOW, {}),
        CaseEvent(
            case.id, CaseEventKind.CLAIMED, coordinator.id, NOW + timedelta(minutes=1), {"seat": 1}
        ),
    ]
    assert isinstance(events[0].kind, CaseEventKind)
    assert accesses == [AccessEntry(case.id, coordinator.id, NOW, AccessPurpose.COORDINATION)]
    assert isinstance(accesses[0].purpose, AccessPurpose)
    assert changes == [
        MediatorEvent(coordinator.id, None, NOW, {"away": ["2026-04-01..2026-04-30"]})
    ]


async def _seat_on(uow: SqlUnitOfWork, case: Case, mediator_id: int, n: int, at: datetime) -> Case:
    assert case.id is not None
    async with uow:
        loaded = await uow.cases.get(case.id)
        assert loaded is not None
        loaded.take_seat(n, mediator_id, at)
        await uow.cases.save(loaded)
        await uow.commit()
    return loaded


async def test_completed_cases_count_closed_cases_with_a_completing_outcome(
    uow_factory: UowFactory,
) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    anna, bo = await add_mediators(uow, mediator("Anna A"), mediator("Bo B"))
    assert coordinator.id is not None and anna.id is not None and bo.id is not None
    fates: list[Outcome | str | None] = [
        Outcome.AGREEMENT,
        Outcome.NO_AGREEMENT,
        Outcome.NOT_SUITABLE,
        Outcome.INTERRUPTED,
        "cancelled",
        None,  # still running
    ]
    for fate in fates:
        case = await add_case(uow, coordinator.id)
        await _seat_on(uow, case, anna.id, 1, NOW)
        case = await _seat_on(uow, case, bo.id, 2, NOW)
        async with uow:
            assert case.id is not None
            loaded = await uow.cases.get(case.id)
            assert loaded is not None
            if isinstance(fate, Outcome):
                loaded.close(fate, NOW)
            elif fate == "cancelled":
                loaded.cancel(NOW)
            await uow.cases.save(loaded)
            await uow.commit()
    async with uow:
        one = await uow.mediators.get(anna.id)
        by_aad = await uow.mediators.by_aad(bo.aad_object_id)
        listed = {m.id: m.completed_cases for m in await uow.mediators.list()}
        by_ids = await uow.mediators.by_ids([anna.id, coordinator.id])
    assert one is not None and one.completed_cases == 2
    assert by_aad is not None and by_aad.completed_cases == 2
    assert listed == {coordinator.id: 0, anna.id: 2, bo.id: 2}
    assert by_ids[anna.id].completed_cases == 2 and by_ids[coordinator.id].completed_cases == 0
    assert one.is_experienced(POLICY)
    async with uow:
        me, holders = await uow.mediators.by_aad_and_ids(anna.aad_object_id.upper(), [bo.id])
        nobody, none = await uow.mediators.by_aad_and_ids("no-such-aad", [])
    assert me is not None and me.id == anna.id and me.completed_cases == 2
    assert list(holders) == [bo.id] and holders[bo.id].completed_cases == 2
    assert nobody is None and none == {}


async def test_packages_taken_counts_held_seats_taken_in_the_range(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    anna, bo = await add_mediators(uow, mediator("Anna A"), mediator("Bo B"))
    assert coordinator.id is not None and anna.id is not None and bo.id is not None
    lo, hi = POLICY.bounds_utc(date(2026, 1, 1), date(2026, 7, 1))  # spring 2026, local time

    async def taken(who: int = anna.id) -> int:
        async with uow:
            return await uow.mediators.packages_taken(who, lo, hi)

    assert await taken() == 0
    at_start = await add_case(uow, coordinator.id)
    await _seat_on(uow, at_start, anna.id, 1, lo)
    at_end = await add_case(uow, coordinator.id)
    await _seat_on(uow, at_end, anna.id, 1, hi)  # the next term's first moment
    just_before = await add_case(uow, coordinator.id)
    await _seat_on(uow, just_before, anna.id, 2, lo - timedelta(microseconds=1))
    assert await taken() == 1

    inside = await add_case(uow, coordinator.id)
    inside = await _seat_on(uow, inside, anna.id, 1, NOW)
    cancelled = await add_case(uow, coordinator.id)
    cancelled = await _seat_on(uow, cancelled, anna.id, 1, NOW)
    await _seat_on(uow, await add_case(uow, coordinator.id), bo.id, 1, NOW)
    assert await taken() == 3
    assert await taken(bo.id) == 1
    async with uow:  # everyone's count at once, as the term reminders ask
        assert await uow.mediators.packages_by_mediator(lo, hi) == {anna.id: 3, bo.id: 1}
    async with uow:  # a term and its year in one statement, as the quota check asks
        year = POLICY.bounds_utc(date(2026, 1, 1), date(2027, 1, 1))
        assert await uow.mediators.packages_taken_in(anna.id, [(lo, hi), year]) == [3, 4]

    async with uow:
        assert inside.id is not None and cancelled.id is not None
        released = await uow.cases.get(inside.id)
        gone = await uow.cases.get(cancelled.id)
        assert released is not None and gone is not None
        released.vacate_seat(1)
        gone.cancel(NOW)
        await uow.cases.save(released)
        await uow.cases.save(gone)
        await uow.commit()
    assert await taken() == 1
    async with uow:
        assert await uow.mediators.packages_by_mediator(lo, hi) == {anna.id: 1, bo.id: 1}


async def test_the_workload_counts_the_cases_two_mediators_have_shared(
    uow_factory: UowFactory,
) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    anna, bo, cia = await add_mediators(
        uow, mediator("Anna A"), mediator("Bo B"), mediator("Cia C")
    )
    assert coordinator.id is not None and anna.id and bo.id and cia.id
    lo, hi = POLICY.bounds_utc(date(2026, 1, 1), date(2026, 7, 1))
    async with uow:
        assert await uow.mediators.workload(lo, hi) == ({}, {})
    for first, second in ((bo.id, anna.id), (anna.id, bo.id), (cia.id, anna.id)):
        case = await _seat_on(uow, await add_case(uow, coordinator.id), first, 1, NOW)
        await _seat_on(uow, case, second, 2, NOW)
    await _seat_on(uow, await add_case(uow, coordinator.id), bo.id, 1, NOW)  # alone: no pair
    async with uow:  # the lower id first, whichever seat each holds
        loads, pairs = await uow.mediators.workload(lo, hi)
    assert pairs == {(anna.id, bo.id): 2, (anna.id, cia.id): 1}
    assert loads == {anna.id: 3, bo.id: 3, cia.id: 1}  # as packages_by_mediator counts


async def test_next_code_follows_the_highest_code_of_the_year(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    async with uow:
        assert await uow.cases.next_code(2026) == "2026-001"
    for code in ("2026-001", "2026-002", "2025-017"):
        await add_case(uow, coordinator.id, code=code)
    async with uow:
        assert await uow.cases.next_code(2026) == "2026-003"
        assert await uow.cases.next_code(2025) == "2025-018"
        assert await uow.cases.next_code(2027) == "2027-001"
    await add_case(uow, coordinator.id, code="2026-999")
    await add_case(uow, coordinator.id, code="2026-1000")
    async with uow:
        assert await uow.cases.next_code(2026) == "2026-1001"


async def test_a_taken_code_is_a_concurrent_change(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    await add_case(uow, coordinator.id, code="2026-001")
    with pytest.raises(ConcurrentChange):
        await add_case(uow, coordinator.id, code="2026-001")
    async with uow:
        assert await uow.cases.next_code(2026) == "2026-002"


async def test_save_refuses_a_case_changed_since_it_was_read(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    anna, bo = await add_mediators(uow, mediator("Anna A"), mediator("Bo B"))
    assert coordinator.id is not None and anna.id is not None and bo.id is not None
    added = await add_case(uow, coordinator.id)
    assert added.id is not None

    async with uow:
        case = await uow.cases.get(added.id)
        assert case is not None
        # Someone else's write, as it would look had it landed between our read and write.
        await uow.session.execute(
            update(CaseRow).where(CaseRow.id == added.id).values(version=CaseRow.version + 1)
        )
        case.take_seat(1, anna.id, NOW)
        with pytest.raises(ConcurrentChange):
            await uow.cases.save(case)

    async with uow:
        case = await uow.cases.get(added.id)
        assert case is not None
        await uow.session.execute(
            update(SeatRow)
            .where(SeatRow.case_id == added.id, SeatRow.n == 1)
            .values(holder_id=bo.id)
        )
        case.take_seat(1, anna.id, NOW)
        with pytest.raises(ConcurrentChange):
            await uow.cases.save(case)

    # The losing attempts left nothing behind, and the same unit of work goes on working.
    async with uow:
        case = await uow.cases.get(added.id)
        assert case is not None and case.version == 0
        assert [s.holder_id for s in case.seats] == [None, None]
        case.take_seat(1, anna.id, NOW)
        await uow.cases.save(case)
        await uow.commit()


async def test_a_seat_holder_never_sits_twice_on_a_case(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    (anna,) = await add_mediators(uow, mediator("Anna A"))
    assert coordinator.id is not None and anna.id is not None
    added = await add_case(uow, coordinator.id)
    assert added.id is not None
    async with uow:
        case = await uow.cases.get(added.id)
        assert case is not None
        await uow.session.execute(
            update(SeatRow)
            .where(SeatRow.case_id == added.id, SeatRow.n == 2)
            .values(holder_id=anna.id)
        )
        case.take_seat(1, anna.id, NOW)  # this copy still thinks seat 2 is free
        with pytest.raises(ConcurrentChange):
            await uow.cases.save(case)


async def test_two_units_of_work_racing_on_one_case(uow_factory: UowFactory, backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite's BEGIN IMMEDIATE never lets two write transactions overlap")
    first, second = uow_factory(), uow_factory()
    coordinator = await add_coordinator(first)
    anna, bo = await add_mediators(first, mediator("Anna A"), mediator("Bo B"))
    assert coordinator.id is not None and anna.id is not None and bo.id is not None
    added = await add_case(first, coordinator.id)
    assert added.id is not None

    async with first, second:
        mine = await first.cases.get(added.id)
        theirs = await second.cases.get(added.id)
        assert mine is not None and theirs is not None
        mine.take_seat(1, anna.id, NOW)
        await first.cases.save(mine)
        await first.commit()
        theirs.take_seat(1, bo.id, NOW)
        with pytest.raises(ConcurrentChange):
            await second.cases.save(theirs)

    async with first:
        case = await first.cases.get(added.id)
    assert case is not None and [s.holder_id for s in case.seats] == [anna.id, None]


async def test_leaving_without_commit_rolls_back(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    async with uow:
        await uow.mediators.add(mediator("Anna A"))
    async with uow:
        assert await uow.mediators.list() == []
        with pytest.raises(RuntimeError):
            async with uow:
                pass
    with pytest.raises(RuntimeError):
        uow.session  # noqa: B018


async def test_moments_are_aware_utc_and_naive_ones_are_refused(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    helsinki = datetime(2026, 6, 30, 23, 30, tzinfo=ZoneInfo("Europe/Helsinki"))
    case = await add_case(uow, coordinator.id, at=helsinki)
    async with uow:
        assert case.id is not None
        loaded = await uow.cases.get(case.id)
        newest = await uow.session.scalar(select(func.max(CaseRow.created_at)))
    assert loaded is not None
    assert loaded.created_at == helsinki and loaded.created_at.tzinfo is UTC
    assert newest == helsinki
    with pytest.raises(StatementError, match="naive datetime"):
        await add_case(uow, coordinator.id, at=datetime(2026, 1, 1, 12, 0))
    async with uow:
        assert len(await uow.cases.with_status([CaseStatus.OPEN])) == 1
