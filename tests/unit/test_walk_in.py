"""Walk-in shifts and phone hours: windows, the fair rota, the reminder the day before, swaps
between two workers, visits and the figures; use cases over the in-memory unit of work."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mediation import errors
from mediation.case_types import WALK_IN_SERVICE
from mediation.model import AwayPeriod, Mediator, Role
from mediation.outbox import MessageKind
from mediation.policy import BankPolicy
from mediation.services import walk_in as service
from mediation.walk_in import (
    Referral,
    Shift,
    ShiftKind,
    Visit,
    VisitKind,
    WalkInPolicy,
    Window,
    parse_windows,
    rota_order,
    walk_in_figures,
)
from tests.clock import FixedClock
from tests.fakes.memory_uow import MemoryUnitOfWork
from tests.unit.factories import mediator

ZONE = ZoneInfo("Europe/Helsinki")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 11:00 in Helsinki
THURSDAYS = [date(2026, 3, 5), date(2026, 3, 12), date(2026, 3, 19), date(2026, 3, 26)]


# -- windows --------------------------------------------------------------------------------


def test_windows_are_read_from_the_settings_spelling() -> None:
    assert parse_windows("wed:09:00-11:00; mon:9.00-11:00") == (
        Window(0, time(9), time(11)),
        Window(2, time(9), time(11)),
    )
    assert WalkInPolicy().walk_in == parse_windows("thu:08:00-12:00")
    assert parse_windows("thu:08:00-12:00")[0].code == "thu:08:00-12:00"
    for bad in ("thursday 8-12", "thu:12:00-08:00", "xyz:08:00-09:00", "thu:25:00-26:00"):
        with pytest.raises(ValueError):
            parse_windows(bad)
    with pytest.raises(ValueError, match="overlaps"):
        parse_windows("thu:08:00-12:00;thu:11:00-13:00")


# -- the rota -------------------------------------------------------------------------------


def shift(day: date, worker: int | None, kind: ShiftKind = ShiftKind.WALK_IN, n: int = 0) -> Shift:
    start = datetime.combine(day, time(8), ZONE)
    return Shift(kind, day, start, start + timedelta(hours=4), worker, n or None)


def test_the_fairest_worker_comes_first_and_never_twice_in_a_row() -> None:
    a, b, c = (mediator(n, id=i) for i, n in ((1, "Aino"), (2, "Bertta"), (3, "Cecilia")))
    history = [shift(date(2026, 2, 5), 1), shift(date(2026, 2, 12), 2), shift(date(2026, 2, 19), 1)]
    order = rota_order(ShiftKind.WALK_IN, THURSDAYS[0], [a, b, c], history, WalkInPolicy())
    # Cecilia has had none; Bertta one; Aino two and the last one.
    assert [p.name for p in order] == ["Cecilia", "Bertta", "Aino"]
    # Only Aino is free: she takes it, even after her own shift.
    b.away = (AwayPeriod(THURSDAYS[0], THURSDAYS[0]),)
    c.active = False
    assert rota_order(ShiftKind.WALK_IN, THURSDAYS[0], [a, b, c], history, WalkInPolicy()) == [a]


def test_bookers_staff_the_phone_hours_and_workers_the_walk_in() -> None:
    worker, booker = mediator("Aino", id=1), mediator("Sari Sihteeri", id=2, role=Role.BOOKER)
    day = THURSDAYS[0]
    assert rota_order(ShiftKind.WALK_IN, day, [worker, booker], [], WalkInPolicy()) == [worker]
    assert rota_order(ShiftKind.PHONE, day, [worker, booker], [], WalkInPolicy()) == [booker]


class Unit:
    """A family-law unit: a coordinator, three workers and the office secretary."""

    def __init__(self) -> None:
        self.uow = MemoryUnitOfWork()
        self.clock = FixedClock(MONDAY)
        self.closed: set[date] = set()
        self.deps = service.WalkInDeps(
            self.clock, BankPolicy(), WalkInPolicy(), lambda day: day in self.closed
        )
        self.people: dict[str, Mediator] = {}

    async def add(self, key: str, m: Mediator, *, walk_in: bool = True) -> None:
        """Someone of the unit; ``walk_in``: the registry records the walk-in duty."""
        async with self.uow:
            self.people[key] = added = await self.uow.mediators.add(m)
            if walk_in and not added.is_booker and added.id is not None:
                await self.uow.qualifications.set(added.id, frozenset({WALK_IN_SERVICE}))
            await self.uow.commit()

    def aad(self, key: str) -> str:
        return self.people[key].aad_object_id

    def id(self, key: str) -> int:
        found = self.people[key].id
        assert found is not None
        return found

    async def shifts(self, kind: ShiftKind = ShiftKind.WALK_IN) -> list[Shift]:
        async with self.uow:
            found = await self.uow.walk_in.shifts(date(2026, 1, 1), date(2026, 12, 31))
        return [s for s in found if s.kind is kind]

    def notes(self, kind: MessageKind) -> list[tuple[str, dict[str, object]]]:
        return [
            (m.key.recipient, dict(m.payload))
            for key, m in self.uow.store.outbox.items()
            if key.kind is kind
        ]

    def who(self, aad: str) -> str:
        return next(k for k, p in self.people.items() if p.aad_object_id == aad)


@pytest.fixture
async def unit() -> Unit:
    u = Unit()
    await u.add("coord", mediator("Kaisa Koordinaattori", role=Role.COORDINATOR))
    await u.add("aino", mediator("Aino Aalto"))
    await u.add("bertta", mediator("Bertta Berg"))
    await u.add("cecilia", mediator("Cecilia Cederberg"))
    await u.add("sari", mediator("Sari Sihteeri", role=Role.BOOKER))
    return u


async def test_the_rota_is_filled_ahead_fairly_once(unit: Unit) -> None:
    unit.closed.add(THURSDAYS[2])  # a public holiday: no walk-in that day
    away = unit.people["aino"]
    away.away = (AwayPeriod(THURSDAYS[0], THURSDAYS[1]),)
    async with unit.uow:
        await unit.uow.mediators.save(away)
        await unit.uow.commit()
    added = await service.fill(unit.uow, unit.deps)
    walk_ins = await unit.shifts()
    assert [s.day for s in walk_ins] == [THURSDAYS[0], THURSDAYS[1], THURSDAYS[3]]
    workers = [s.worker_id for s in walk_ins]
    assert unit.id("aino") not in workers[:2]  # away on those days
    assert len(set(workers)) == 3  # four people, three shifts: nobody twice
    assert unit.id("sari") not in workers
    assert walk_ins[0].starts_at == datetime(2026, 3, 5, 8, 0, tzinfo=ZONE)
    phones = await unit.shifts(ShiftKind.PHONE)
    # Monday's phone hour had ended by now (11:00); Wednesdays and Mondays after it are filled.
    assert phones[0].day == date(2026, 3, 4) and len(phones) == 8
    assert {s.worker_id for s in phones} == {unit.id("sari")}
    assert added == len(walk_ins) + len(phones)
    assert await service.fill(unit.uow, unit.deps) == 0


async def test_a_shift_nobody_is_free_for_waits_for_a_later_run(unit: Unit) -> None:
    sari = unit.people["sari"]
    sari.away = (AwayPeriod(date(2026, 3, 4), date(2026, 3, 4)),)
    async with unit.uow:
        await unit.uow.mediators.save(sari)
        await unit.uow.commit()
    await service.fill(unit.uow, unit.deps)
    first = (await unit.shifts(ShiftKind.PHONE))[0]
    assert first.day == date(2026, 3, 4) and first.worker_id is None
    sari.away = ()
    async with unit.uow:
        await unit.uow.mediators.save(sari)
        await unit.uow.commit()
    assert await service.fill(unit.uow, unit.deps) == 1
    assert (await unit.shifts(ShiftKind.PHONE))[0].worker_id == unit.id("sari")


async def test_the_worker_is_reminded_the_day_before_once(unit: Unit) -> None:
    await service.fill(unit.uow, unit.deps)
    first = (await unit.shifts())[0]
    assert await service.remind(unit.uow, unit.deps) == 0  # Monday: too early
    unit.clock.set(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))  # Wednesday morning
    assert await service.remind(unit.uow, unit.deps) == 2  # the walk-in and today's phone hour
    assert await service.remind(unit.uow, unit.deps) == 0
    (note,) = [n for n in unit.notes(MessageKind.SHIFT_REMINDER) if n[1]["shift_id"] == first.id]
    assert unit.who(note[0]) == next(k for k in unit.people if unit.id(k) == first.worker_id)
    assert note[1] == {
        "note": "reminder",
        "shift_id": first.id,
        "kind": "walk_in",
        "starts_at": first.starts_at.isoformat(),
        "ends_at": first.ends_at.isoformat(),
    }


# -- swaps ----------------------------------------------------------------------------------


async def holder(unit: Unit, n: int = 0) -> tuple[Shift, str]:
    walk_ins = await unit.shifts()
    s = walk_ins[n]
    return s, next(k for k in unit.people if unit.id(k) == s.worker_id)


async def test_a_shift_is_swapped_between_two_workers_with_nobody_approving(unit: Unit) -> None:
    await service.fill(unit.uow, unit.deps)
    s, offerer = await holder(unit)
    colleague = next(k for k in ("aino", "bertta", "cecilia") if k != offerer)
    # Someone away that day cannot be offered it; nor can the secretary.
    away = unit.people[colleague]
    away.away = (AwayPeriod(s.day, s.day),)
    async with unit.uow:
        await unit.uow.mediators.save(away)
        await unit.uow.commit()
    assert s.id is not None
    with pytest.raises(errors.MediatorAway):
        await service.offer(unit.aad(offerer), s.id, unit.id(colleague), None, unit.uow, unit.deps)
    with pytest.raises(errors.ShiftRefused, match="does not staff"):
        await service.offer(unit.aad(offerer), s.id, unit.id("sari"), None, unit.uow, unit.deps)
    away.away = ()
    async with unit.uow:
        await unit.uow.mediators.save(away)
        await unit.uow.commit()
    assert await service.offer(
        unit.aad(offerer), s.id, unit.id(colleague), None, unit.uow, unit.deps
    )
    assert not await service.offer(
        unit.aad(offerer), s.id, unit.id(colleague), None, unit.uow, unit.deps
    )
    (offered,) = unit.notes(MessageKind.SHIFT)
    assert unit.who(offered[0]) == colleague and offered[1]["note"] == "offered"
    swap_id = int(str(offered[1]["swap_id"]))
    # Only the colleague asked answers; the coordinator has no say.
    with pytest.raises(errors.NotFound):
        await service.answer(unit.aad("coord"), swap_id, True, unit.uow, unit.deps)
    assert await service.answer(unit.aad(colleague), swap_id, True, unit.uow, unit.deps)
    assert not await service.answer(unit.aad(colleague), swap_id, True, unit.uow, unit.deps)
    assert (await unit.shifts())[0].worker_id == unit.id(colleague)
    told = [unit.who(r) for r, p in unit.notes(MessageKind.SHIFT) if p["note"] == "accepted"]
    assert told == [offerer]
    # A stale answer says why.
    with pytest.raises(errors.ShiftRefused) as refused:
        await service.answer(unit.aad(colleague), swap_id, False, unit.uow, unit.deps)
    assert refused.value.key == "error.shift.swap_accepted"


async def test_an_exchange_gives_each_the_others_shift(unit: Unit) -> None:
    await service.fill(unit.uow, unit.deps)
    first, a = await holder(unit, 0)
    second, b = await holder(unit, 1)
    assert first.id is not None and second.id is not None
    await service.offer(unit.aad(a), first.id, unit.id(b), second.id, unit.uow, unit.deps)
    (offered,) = unit.notes(MessageKind.SHIFT)
    swap_id = int(str(offered[1]["swap_id"]))
    view = await service.rota(unit.aad(b), unit.uow, unit.deps)
    (line,) = view.offers_to_me
    assert line.in_return is not None and line.in_return.id == second.id
    await service.answer(unit.aad(b), swap_id, True, unit.uow, unit.deps)
    now = await unit.shifts()
    assert (now[0].worker_id, now[1].worker_id) == (unit.id(b), unit.id(a))


async def test_a_stale_or_passed_offer_is_refused_with_the_reason(unit: Unit) -> None:
    await service.fill(unit.uow, unit.deps)
    s, offerer = await holder(unit)
    colleague = next(k for k in ("aino", "bertta", "cecilia") if k != offerer)
    other = next(k for k in ("aino", "bertta", "cecilia") if k not in (offerer, colleague))
    assert s.id is not None
    await service.offer(unit.aad(offerer), s.id, unit.id(colleague), None, unit.uow, unit.deps)
    with pytest.raises(errors.ShiftRefused, match="offered already"):
        await service.offer(unit.aad(offerer), s.id, unit.id(other), None, unit.uow, unit.deps)
    swap_id = int(str(unit.notes(MessageKind.SHIFT)[0][1]["swap_id"]))
    # The coordinator re-assigns the shift meanwhile: the offer is withdrawn, both told.
    assert await service.assign(unit.aad("coord"), s.id, unit.id(other), unit.uow, unit.deps)
    assert not await service.assign(unit.aad("coord"), s.id, unit.id(other), unit.uow, unit.deps)
    notes = {(unit.who(r), p["note"]) for r, p in unit.notes(MessageKind.SHIFT)}
    assert {(other, "assigned"), (offerer, "unassigned")} <= notes
    with pytest.raises(errors.ShiftRefused) as refused:
        await service.answer(unit.aad(colleague), swap_id, True, unit.uow, unit.deps)
    assert refused.value.key == "error.shift.swap_withdrawn"
    # Once begun, a shift is neither offered nor re-assigned.
    unit.clock.set(s.starts_at + timedelta(minutes=5))
    with pytest.raises(errors.ShiftRefused, match="begun"):
        await service.offer(unit.aad(other), s.id, unit.id(colleague), None, unit.uow, unit.deps)
    with pytest.raises(errors.ShiftRefused, match="begun"):
        await service.assign(unit.aad("coord"), s.id, unit.id(colleague), unit.uow, unit.deps)
    with pytest.raises(errors.NotAllowed):
        await service.assign(unit.aad(other), s.id, unit.id(colleague), unit.uow, unit.deps)


# -- visits ---------------------------------------------------------------------------------


def visit(unit: Unit, key: str, s: Shift, **kw: object) -> service.RecordVisit:
    assert s.id is not None
    fields: dict[str, object] = {
        "kind": VisitKind.ADVICE,
        "minutes": 30,
        "referral": Referral.NO,
        "form_id": "",
    }
    return service.RecordVisit(unit.aad(key), s.id, **{**fields, **kw})  # type: ignore[arg-type]


async def test_visits_are_recorded_by_the_shifts_worker_during_and_after_it(unit: Unit) -> None:
    await service.fill(unit.uow, unit.deps)
    s, worker = await holder(unit)
    other = next(k for k in ("aino", "bertta", "cecilia") if k != worker)
    with pytest.raises(errors.ShiftRefused, match="not begun"):
        await service.record_visit(visit(unit, worker, s), unit.uow, unit.deps)
    unit.clock.set(s.starts_at + timedelta(minutes=20))
    with pytest.raises(errors.NotFound):
        await service.record_visit(visit(unit, other, s), unit.uow, unit.deps)
    with pytest.raises(errors.ShiftRefused, match="minutes"):
        await service.record_visit(visit(unit, worker, s, minutes=500), unit.uow, unit.deps)
    done = await service.record_visit(visit(unit, worker, s, form_id="f1"), unit.uow, unit.deps)
    again = await service.record_visit(visit(unit, worker, s, form_id="f1"), unit.uow, unit.deps)
    assert done.new and not again.new and len(again.shift.visits) == 1
    # Referred to mediation: the coordinators hear of it (only they register cases).
    referred = await service.record_visit(
        visit(unit, worker, s, kind=VisitKind.AGREEMENT, referral=Referral.MEDIATION),
        unit.uow,
        unit.deps,
    )
    assert referred.coordinators_told and not referred.to_intake
    (note,) = unit.notes(MessageKind.VISIT_REFERRAL)
    assert unit.who(note[0]) == "coord"
    assert set(note[1]) == {"note", "shift_id", "day", "by"}  # ids and a date, nobody's name
    # Three days after the shift the list closes.
    unit.clock.set(s.ends_at + timedelta(days=3, minutes=1))
    with pytest.raises(errors.ShiftRefused, match="until 3 days"):
        await service.record_visit(visit(unit, worker, s), unit.uow, unit.deps)


async def test_a_coordinator_referring_a_visit_opens_the_intake_themselves(unit: Unit) -> None:
    await service.fill(unit.uow, unit.deps)
    s, _ = await holder(unit)
    assert s.id is not None
    await service.assign(unit.aad("coord"), s.id, unit.id("coord"), unit.uow, unit.deps)
    unit.clock.set(s.starts_at + timedelta(minutes=20))
    done = await service.record_visit(
        visit(unit, "coord", s, referral=Referral.MEDIATION), unit.uow, unit.deps
    )
    assert done.to_intake and not done.coordinators_told
    assert not unit.notes(MessageKind.VISIT_REFERRAL)


def test_the_figures_count_visits_per_shift_bookings_referrals_and_the_rota() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    shifts = [
        shift(date(2026, 3, 5), 1, n=1),
        shift(date(2026, 3, 12), 2, n=2),
        shift(date(2026, 3, 9), 3, ShiftKind.PHONE, n=3),
        shift(date(2025, 12, 4), 1, n=4),  # last year
    ]

    def v(shift_id: int, kind: VisitKind, referral: Referral, booked: bool = False) -> Visit:
        return Visit(shift_id, kind, 30, referral, booked, 1, now)

    visits = [
        v(1, VisitKind.ADVICE, Referral.NO),
        v(1, VisitKind.AGREEMENT, Referral.MEDIATION),
        v(1, VisitKind.PATERNITY, Referral.NO, booked=True),
        v(2, VisitKind.ADVICE, Referral.ELSEWHERE),
        v(4, VisitKind.ADVICE, Referral.NO),
    ]
    names = {1: "Aino", 2: "Bertta", 3: "Sari"}
    f = walk_in_figures(shifts, visits, names, date(2026, 1, 1), date(2026, 12, 31), now)
    assert (f.shifts, f.visits, f.minutes) == (2, 4, 120)
    assert f.by_kind == {"advice": 2, "agreement": 1, "paternity": 1, "other": 0}
    assert f.per_shift(f.visits) == 2.0
    assert f.share_without_booking == 75
    assert f.referrals == {"mediation": 1, "elsewhere": 1}
    assert f.per_worker == (("Aino", 1, 0), ("Bertta", 1, 0), ("Sari", 0, 1))


async def test_the_figures_are_the_coordinators(unit: Unit) -> None:
    with pytest.raises(errors.NotAllowed):
        await service.figures(unit.aad("aino"), 2026, unit.uow, unit.deps)
    figures = await service.figures(unit.aad("coord"), 2026, unit.uow, unit.deps)
    assert figures.visits == 0 and figures.share_without_booking is None


async def test_the_rota_view_shows_each_person_their_shifts_and_offers(unit: Unit) -> None:
    await service.fill(unit.uow, unit.deps)
    s, worker = await holder(unit)
    view = await service.rota(unit.aad(worker), unit.uow, unit.deps)
    mine = [line for line in view.shifts if line.mine]
    assert mine and mine[0].id == s.id and not view.coordinator
    assert s.id is not None
    shown = await service.show(unit.aad(worker), s.id, unit.uow, unit.deps)
    assert shown.may_offer and not shown.may_record and not shown.assignable
    assert worker not in {p.name for p in shown.colleagues}
    assert "Sari Sihteeri" not in {p.name for p in shown.colleagues}
    coordinator = await service.show(unit.aad("coord"), s.id, unit.uow, unit.deps)
    assert coordinator.assignable and not coordinator.may_offer
    with pytest.raises(errors.NotFound):
        await service.show(unit.aad("sari"), s.id, unit.uow, unit.deps)


async def test_only_those_with_the_walk_in_duty_are_on_its_rota(unit: Unit) -> None:
    await unit.add("visitor", mediator("Ville Vierailija"), walk_in=False)
    await service.fill(unit.uow, unit.deps)
    workers = {s.worker_id for s in await unit.shifts()}
    assert workers and unit.id("visitor") not in workers
