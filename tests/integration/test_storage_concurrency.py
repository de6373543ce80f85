"""Races through the real use cases: one winner for the last seat, double clicks are no-ops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import select

from mediation import errors, services
from mediation.journal import CaseEventKind
from mediation.model import Case, CaseStatus, Mediator, Role
from mediation.ports import PairComplete
from storage.models import SeatRow
from storage.uow import SqlUnitOfWork
from tests.clock import FixedClock
from tests.fakes.memory_uow import RecordingNotifier
from tests.integration.storage_seed import NOW, POLICY, add_case, add_coordinator, add_mediators
from tests.unit.factories import mediator

UowFactory = Callable[[], SqlUnitOfWork]
RACERS = 50
ROUNDS = 20  # a race that must never be lost, run often enough to happen


async def _claim(
    uow: SqlUnitOfWork, who: Mediator, case_id: int, notifier: RecordingNotifier
) -> services.CaseResult | errors.DomainError:
    try:
        return await services.claim_seat(
            services.ClaimSeat(who.aad_object_id, case_id), uow, notifier, FixedClock(NOW), POLICY
        )
    except (errors.NoFreeSeat, errors.SeatTaken) as refusal:
        return refusal


async def _holders(uow: SqlUnitOfWork, case_id: int) -> list[tuple[int, int | None]]:
    async with uow:
        rows = await uow.session.execute(
            select(SeatRow.n, SeatRow.holder_id)
            .where(SeatRow.case_id == case_id)
            .order_by(SeatRow.n)
        )
        return [(n, holder) for n, holder in rows]


async def test_fifty_mediators_race_for_the_last_seat(uow_factory: UowFactory) -> None:
    setup = uow_factory()
    coordinator = await add_coordinator(setup)
    first, *racers = await add_mediators(
        setup, *(mediator(f"Mediator {i:02d}") for i in range(RACERS + 1))
    )
    assert coordinator.id is not None
    case = await add_case(setup, coordinator.id)
    assert case.id is not None
    notifier = RecordingNotifier()
    opened = await _claim(setup, first, case.id, notifier)
    assert isinstance(opened, services.CaseResult) and opened.case.open_seats == 1

    results = await asyncio.gather(
        *(_claim(uow_factory(), who, case.id, notifier) for who in racers)
    )

    winners = [r for r in results if isinstance(r, services.CaseResult)]
    losers = [r for r in results if isinstance(r, errors.NoFreeSeat | errors.SeatTaken)]
    assert len(winners) == 1 and winners[0].changed
    assert len(losers) == RACERS - 1
    (winner,) = [who for who, r in zip(racers, results, strict=True) if r is winners[0]]
    assert await _holders(setup, case.id) == [(1, first.id), (2, winner.id)]
    async with setup:
        stored = await setup.cases.get(case.id)
        events = await setup.journal.case_events(case.id)
    assert stored is not None and stored.status is CaseStatus.PAIRED and stored.version == 2
    assert [e.actor_id for e in events if e.kind is CaseEventKind.CLAIMED] == [first.id, winner.id]
    assert [n for n in notifier.sent if isinstance(n, PairComplete)] == [
        PairComplete(case.id, case.code, (first.id, winner.id))  # type: ignore[arg-type]
    ]


async def test_fifty_double_clicks_claim_one_seat(uow_factory: UowFactory) -> None:
    setup = uow_factory()
    coordinator = await add_coordinator(setup)
    (clicker,) = await add_mediators(setup, mediator("Anna A"))
    assert coordinator.id is not None
    case = await add_case(setup, coordinator.id)
    assert case.id is not None
    notifier = RecordingNotifier()

    results = await asyncio.gather(
        *(_claim(uow_factory(), clicker, case.id, notifier) for _ in range(RACERS))
    )

    assert all(isinstance(r, services.CaseResult) for r in results), results
    changed = [r for r in results if isinstance(r, services.CaseResult) and r.changed]
    assert len(changed) == 1
    assert await _holders(setup, case.id) == [(1, clicker.id), (2, None)]
    async with setup:
        events = await setup.journal.case_events(case.id)
    assert [e.kind for e in events] == [CaseEventKind.CLAIMED]


async def _leave(
    uow: SqlUnitOfWork, who: Mediator, leaving: Mediator
) -> Mediator | errors.DomainError:
    """``who`` marks ``leaving`` not active; the refusal, if any, is returned."""
    assert leaving.id is not None
    try:
        return await services.update_mediator(
            services.UpdateMediator(who.aad_object_id, leaving.id, active=False),
            uow,
            FixedClock(NOW),
            POLICY,
        )
    except (errors.LastCoordinator, errors.NotActive) as refusal:
        return refusal


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("crosswise", [False, True], ids=["themselves", "each_other"])
async def test_two_coordinators_leaving_at_once_leave_one_active(
    uow_factory: UowFactory, crosswise: bool
) -> None:
    setup = uow_factory()
    first, second = await add_mediators(
        setup,
        mediator("Kaisa Koordinaattori", role=Role.COORDINATOR),
        mediator("Kalle Koordinaattori", role=Role.COORDINATOR),
    )
    for _ in range(ROUNDS):
        leaving = (second, first) if crosswise else (first, second)
        results = await asyncio.gather(
            _leave(uow_factory(), first, leaving[0]), _leave(uow_factory(), second, leaving[1])
        )
        # One leaves; the other is refused, never a database error: as the last coordinator,
        # or, made not active by the first, as one who has left.
        refused = "NotActive" if crosswise else "LastCoordinator"
        assert sorted(type(r).__name__ for r in results) == sorted(["Mediator", refused])
        async with setup:
            stayed = [c for c in await setup.mediators.coordinators() if c.active]
        assert len(stayed) == 1
        (gone,) = [c for c in (first, second) if c.id != stayed[0].id]
        assert gone.id is not None
        await services.update_mediator(
            services.UpdateMediator(stayed[0].aad_object_id, gone.id, active=True),
            setup,
            FixedClock(NOW),
            POLICY,
        )


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_locked_read_that_waited_shows_the_seats_the_other_change_left(
    uow_factory: UowFactory,
) -> None:
    """The case is locked and read in one statement; one that waited for another change of
    the case must not show the seats from before that change (READ COMMITTED re-reads only
    the locked row), or a refusal or a decision would rest on a mix of the two."""
    seed = uow_factory()
    coordinator = await add_coordinator(seed)
    assert coordinator.id is not None
    case = await add_case(seed, coordinator.id)
    assert case.id is not None
    (claimer,) = await add_mediators(seed, mediator("Ilona Istuja"))
    assert claimer.id is not None

    first, second = uow_factory(), uow_factory()
    waiting = asyncio.Event()

    async def read_behind_the_lock() -> Case | None:
        async with second:
            waiting.set()
            return await second.cases.get(case.id, for_update=True)

    async with first:
        held = await first.cases.get(case.id, for_update=True)
        assert held is not None
        reader = asyncio.create_task(read_behind_the_lock())
        await waiting.wait()
        await asyncio.sleep(0.3)  # the second read is now waiting for the lock
        assert not reader.done()
        held.take_seat(1, claimer.id, NOW)
        await first.cases.save(held)
        await first.commit()
    seen = await reader
    assert seen is not None
    assert seen.version == held.version
    assert [s.holder_id for s in seen.seats] == [s.holder_id for s in held.seats]
    assert claimer.id in seen.holder_ids()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("click", ["seat held already", "case paired", "language"])
async def test_a_claim_that_changes_nothing_does_not_wait_for_the_cases_lock(
    uow_factory: UowFactory, click: str
) -> None:
    """Most clicks on a popular card change nothing. Answered from a first look outside
    the lock, they do not queue behind a change of the case that holds its lock."""
    seed = uow_factory()
    coordinator = await add_coordinator(seed)
    assert coordinator.id is not None
    case = await add_case(seed, coordinator.id, language="sv" if click == "language" else "fi")
    assert case.id is not None
    one, two, clicker = await add_mediators(
        seed, mediator("Eka Istuja"), mediator("Toka Istuja"), mediator("Kolmas Klikkaaja")
    )
    notifier = RecordingNotifier()
    if click == "seat held already":
        assert isinstance(await _claim(seed, clicker, case.id, notifier), services.CaseResult)
    elif click == "case paired":
        for holder in (one, two):
            assert isinstance(await _claim(seed, holder, case.id, notifier), services.CaseResult)

    locker = uow_factory()
    async with locker:
        assert await locker.cases.get(case.id, for_update=True) is not None
        try:
            answer = await asyncio.wait_for(
                services.claim_seat(
                    services.ClaimSeat(clicker.aad_object_id, case.id),
                    uow_factory(),
                    notifier,
                    FixedClock(NOW),
                    POLICY,
                ),
                5,
            )
        except errors.DomainError as refusal:
            answer = refusal
    if click == "seat held already":
        assert isinstance(answer, services.CaseResult) and not answer.changed
    elif click == "case paired":
        assert isinstance(answer, errors.NoFreeSeat)
    else:
        assert isinstance(answer, errors.LanguageMismatch)
    assert answer.case is not None and answer.case.code == case.code
