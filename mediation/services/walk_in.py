"""The walk-in service and phone hours, as use cases: the rota filled ahead, the reminder the
day before, swaps between workers, a coordinator's re-assignment, visits and the figures
(the rules are in mediation/walk_in.py).

Each use case commits once. What it tells people is written to the outbox in the same
transaction, under a key that makes each note unique: a job run twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mediation import errors
from mediation.case_types import WALK_IN_SERVICE
from mediation.model import Mediator
from mediation.outbox import MessageKind, NewMessage, OutboxKey
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.services.common import actor, require_coordinator
from mediation.walk_in import (
    Referral,
    Shift,
    ShiftKind,
    Swap,
    SwapState,
    Visit,
    VisitKind,
    WalkInFigures,
    WalkInPolicy,
    check_offer,
    fill_rota,
    may_staff,
    reminder_due,
    rota_order,
    shifts_due,
    walk_in_figures,
)
from mediation.walk_in import accept as accept_swap
from mediation.walk_in import decline as decline_swap
from mediation.walk_in import withdraw as withdraw_swap
from mediation.walk_in_views import Person, ShiftLine, ShiftsView, ShiftView, SwapLine, VisitLine


@dataclass(frozen=True)
class WalkInDeps:
    """What the walk-in use cases need besides the unit of work."""

    clock: Clock
    policy: BankPolicy
    hours: WalkInPolicy
    closed: Callable[[date], bool] = lambda day: False  # public holidays: no shifts


def _today(d: WalkInDeps) -> date:
    return d.policy.local_date(d.clock.now())


def _window(d: WalkInDeps) -> tuple[date, date]:
    """The days the rota shows: the last few (visits may still be recorded) and the weeks
    ahead that the rota is filled for."""
    today = _today(d)
    return today - timedelta(days=d.hours.record_days + 1), today + timedelta(
        weeks=d.hours.weeks_ahead
    )


# -- reading --------------------------------------------------------------------------------


async def rota(actor_aad: str, uow: UnitOfWork, d: WalkInDeps) -> ShiftsView:
    """The shifts of the coming weeks, both kinds, with the offers the actor is part of."""
    now = d.clock.now()
    first, last = _window(d)
    async with uow:
        me = await actor(uow, actor_aad, booker=True)
        assert me.id is not None
        shifts = [s for s in await uow.walk_in.shifts(first, last) if not s.passed(now)]
        swaps = await uow.walk_in.swaps(person_id=me.id)
        extra = {s.shift_id for s in swaps} | {s.return_shift_id for s in swaps}
        known = {s.id: s for s in shifts}
        for shift_id in extra - set(known) - {None}:
            assert shift_id is not None
            found = await uow.walk_in.shift(shift_id)
            if found is not None:
                known[shift_id] = found
        people = await _people(uow, [*known.values()], swaps)
    lines = {sid: _line(s, people, me) for sid, s in known.items() if sid is not None}
    return ShiftsView(
        viewer=_person(me),
        coordinator=me.is_coordinator,
        shifts=tuple(lines[s.id] for s in shifts if s.id is not None),
        offers_to_me=tuple(_swap_line(w, lines, people) for w in swaps if w.to_id == me.id),
        my_offers=tuple(_swap_line(w, lines, people) for w in swaps if w.from_id == me.id),
    )


async def show(actor_aad: str, shift_id: int, uow: UnitOfWork, d: WalkInDeps) -> ShiftView:
    """One shift for its worker or a coordinator: its visits, and what they may do now."""
    async with uow:
        me = await actor(uow, actor_aad, booker=True)
        shift = await _shift(uow, shift_id, me)
        return await _view(uow, shift, me, d)


# -- the rota -------------------------------------------------------------------------------


async def fill(uow: UnitOfWork, d: WalkInDeps) -> int:
    """Fill the shifts of the coming weeks from the fair rota (for the scheduler); a shift
    kept already keeps its worker. Returns how many shifts were added or staffed."""
    today = _today(d)
    last = today + timedelta(weeks=d.hours.weeks_ahead)
    span = timedelta(weeks=d.hours.fairness_weeks)
    async with uow:
        kept = await uow.walk_in.shifts(today - span, last + span)
        due = [
            s
            for kind in ShiftKind
            for s in shifts_due(d.hours, kind, today, last, d.policy.zone, d.closed)
            if s.starts_at > d.clock.now()  # one under way is not staffed any more
        ]
        changed = fill_rota(due, kept, await _staff(uow), d.hours)
        for shift in changed:
            if shift.id is None:
                await uow.walk_in.add_shift(shift)
            else:
                await uow.walk_in.save_shift(shift)
        await uow.commit()
    return len(changed)


async def remind(uow: UnitOfWork, d: WalkInDeps) -> int:
    """Each worker is reminded of their shift the day before; one note per shift and day
    and worker, so a second run adds nothing. Returns how many were new."""
    now, today = d.clock.now(), _today(d)
    async with uow:
        shifts = await uow.walk_in.shifts(today, today + timedelta(days=1))
        due = [s for s in shifts if reminder_due(s, today, now)]
        people = await uow.mediators.by_ids([s.worker_id for s in due if s.worker_id])
        messages = []
        for s in due:
            worker = people.get(s.worker_id or 0)
            if worker is None or not worker.active or worker.away_on(s.day) is not None:
                continue
            assert s.id is not None
            messages.append(
                _note(
                    MessageKind.SHIFT_REMINDER,
                    worker,
                    f"shift:{s.id}",
                    s.day.isoformat(),
                    note="reminder",
                    **_about(s),
                )
            )
        added = await _send(uow, messages, now)
        await uow.commit()
    return added


async def assign(
    actor_aad: str, shift_id: int, worker_id: int, uow: UnitOfWork, d: WalkInDeps
) -> bool:
    """A coordinator gives a shift to someone else; the same worker again: False. Open
    offers of the shift are withdrawn; the new worker and the one before are told."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        require_coordinator(me, "re-assigning a shift")
        shift = await _shift(uow, shift_id, me, for_update=True)
        if shift.starts_at <= now:
            raise errors.ShiftRefused("passed", "the shift has already begun or passed")
        person = await uow.mediators.get(worker_id)
        if person is None:
            raise errors.InvalidInput("worker_id", "unknown choice")
        if not may_staff(shift.kind, person) or not await _on_rota(uow, person):
            raise errors.ShiftRefused(
                "not_in_rota", f"{person.name} does not staff these shifts", name=person.name
            )
        away = person.away_on(shift.day)
        if away is not None:
            raise errors.MediatorAway(person.name, away.end.isoformat())
        if shift.worker_id == worker_id:
            return False
        before = await uow.mediators.get(shift.worker_id) if shift.worker_id else None
        shift.worker_id = worker_id
        await uow.walk_in.save_shift(shift)
        for open_swap in await uow.walk_in.swaps(shift_ids=[shift_id]):
            open_swap.state, open_swap.answered_at = SwapState.WITHDRAWN, now
            await uow.walk_in.save_swap(open_swap)
        period, about = f"assigned:{now.isoformat()}", _about(shift)
        subject = f"shift:{shift_id}"
        notes = [_note(MessageKind.SHIFT, person, subject, period, note="assigned", **about)]
        if before is not None:
            notes.append(
                _note(MessageKind.SHIFT, before, subject, period, note="unassigned", **about)
            )
        await _send(uow, notes, now)
        await uow.commit()
        return True


# -- swaps ----------------------------------------------------------------------------------


async def offer(
    actor_aad: str,
    shift_id: int,
    to_id: int,
    return_shift_id: int | None,
    uow: UnitOfWork,
    d: WalkInDeps,
) -> bool:
    """The shift's worker offers it to a colleague (with one of theirs in return, or not);
    the colleague is told. The same offer again: False."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad, booker=True)
        shift = await _shift(uow, shift_id, me, for_update=True)
        colleague = await uow.mediators.get(to_id)
        if colleague is None:
            raise errors.InvalidInput("to_id", "unknown choice")
        back = None
        if return_shift_id is not None:
            back = await uow.walk_in.shift(return_shift_id, for_update=True)
            if back is None:
                raise errors.InvalidInput("return_shift_id", "unknown choice")
        for open_swap in await uow.walk_in.swaps(shift_ids=[shift_id]):
            if (open_swap.to_id, open_swap.return_shift_id) == (to_id, return_shift_id):
                return False  # the same offer twice: a double click
            raise errors.ShiftRefused("offer_open", "the shift is offered already")
        if not await _on_rota(uow, colleague):
            raise errors.ShiftRefused(
                "not_in_rota", f"{colleague.name} does not staff these shifts", name=colleague.name
            )
        check_offer(shift, me, colleague, back, now)
        assert me.id is not None and shift.id is not None
        swap = await uow.walk_in.add_swap(Swap(shift.id, me.id, to_id, now, return_shift_id))
        await _send(uow, [_swap_note(colleague, swap, shift, "offered", me)], now)
        await uow.commit()
        return True


async def answer(
    actor_aad: str, swap_id: int, accept: bool, uow: UnitOfWork, d: WalkInDeps
) -> bool:
    """The colleague accepts (the shifts change hands) or declines; nobody else approves.
    The offerer is told. The same answer again: False."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad, booker=True)
        swap = await _swap(uow, swap_id, me)
        wanted = SwapState.ACCEPTED if accept else SwapState.DECLINED
        if swap.state is wanted and swap.to_id == me.id:
            return False
        offerer = await uow.mediators.get(swap.from_id)
        shift = await uow.walk_in.shift(swap.shift_id, for_update=True)
        assert offerer is not None and shift is not None
        if accept:
            back = None
            if swap.return_shift_id is not None:
                back = await uow.walk_in.shift(swap.return_shift_id, for_update=True)
            # The registry may have dropped a walk-in duty since the offer was made.
            takers = [me] if back is None else [me, offerer]
            for person in takers:
                if swap.to_id == me.id and swap.open and not await _on_rota(uow, person):
                    raise errors.ShiftRefused(
                        "not_in_rota",
                        f"{person.name} does not staff these shifts",
                        name=person.name,
                    )
            accept_swap(swap, shift, back, offerer, me, now)
            await uow.walk_in.save_shift(shift)
            if back is not None:
                await uow.walk_in.save_shift(back)
        else:
            assert me.id is not None
            decline_swap(swap, me.id, now)
        await uow.walk_in.save_swap(swap)
        await _send(uow, [_swap_note(offerer, swap, shift, wanted.value, me)], now)
        await uow.commit()
        return True


async def withdraw(actor_aad: str, swap_id: int, uow: UnitOfWork, d: WalkInDeps) -> bool:
    """The offerer takes the offer back; the colleague is told. Withdrawn already: False."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad, booker=True)
        swap = await _swap(uow, swap_id, me)
        if swap.state is SwapState.WITHDRAWN and swap.from_id == me.id:
            return False
        assert me.id is not None
        withdraw_swap(swap, me.id, now)
        await uow.walk_in.save_swap(swap)
        colleague = await uow.mediators.get(swap.to_id)
        shift = await uow.walk_in.shift(swap.shift_id)
        if colleague is not None and shift is not None:
            await _send(uow, [_swap_note(colleague, swap, shift, "withdrawn", me)], now)
        await uow.commit()
        return True


# -- visits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordVisit:
    actor: str
    shift_id: int
    kind: VisitKind
    minutes: int
    referral: Referral
    booked: bool = False
    form_id: str = ""  # the record button's nonce: the same form twice records one visit


@dataclass(frozen=True)
class Recorded:
    """What recording a visit did: the shift as it now stands, and who hears of a referral."""

    shift: ShiftView
    new: bool  # False: the same form again, nothing recorded
    to_intake: bool  # referred to mediation by a coordinator: they open the intake form
    coordinators_told: bool  # referred to mediation by a worker: the coordinators are told


async def record_visit(cmd: RecordVisit, uow: UnitOfWork, d: WalkInDeps) -> Recorded:
    """The shift's worker records a visit; no family identity is asked or kept. A visit
    referred to mediation goes to the bank's intake: a coordinator opens the intake form
    at once, anyone else's referral is a note to the coordinators (who register cases)."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, cmd.actor)
        shift = await _shift(uow, cmd.shift_id, me)
        assert me.id is not None and shift.id is not None
        shift.check_may_record(me.id, now, d.hours)
        visit = Visit(shift.id, cmd.kind, cmd.minutes, cmd.referral, cmd.booked, me.id, now)
        stored = await uow.walk_in.add_visit(visit, cmd.form_id)
        referred = stored is not None and cmd.referral is Referral.MEDIATION
        told = referred and not me.is_coordinator
        if told:
            assert stored is not None
            coordinators = [c for c in await uow.mediators.coordinators() if c.active]
            await _send(
                uow,
                [
                    _note(
                        MessageKind.VISIT_REFERRAL,
                        c,
                        f"visit:{stored.id}",
                        "mediation",
                        note="referred",
                        shift_id=shift.id,
                        day=shift.day.isoformat(),
                        by=me.id,
                    )
                    for c in coordinators
                ],
                now,
            )
        view = await _view(uow, shift, me, d)
        await uow.commit()
        return Recorded(view, stored is not None, referred and me.is_coordinator, told)


async def remove_visit(
    actor_aad: str, shift_id: int, visit_id: int, uow: UnitOfWork, d: WalkInDeps
) -> bool:
    """The worker takes back a visit recorded by mistake, while visits may be recorded;
    gone already: False."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        shift = await _shift(uow, shift_id, me)
        assert me.id is not None
        shift.check_may_record(me.id, now, d.hours)
        visit = await uow.walk_in.visit(visit_id)
        if visit is None:
            return False
        if visit.shift_id != shift_id:
            raise errors.InvalidInput("visit_id", "unknown choice")
        await uow.walk_in.remove_visit(visit_id)
        await uow.commit()
        return True


async def figures(actor_aad: str, year: int, uow: UnitOfWork, d: WalkInDeps) -> WalkInFigures:
    """A year's walk-in service and rota, as the unit reports them (coordinators only)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    async with uow:
        me = await actor(uow, actor_aad)
        require_coordinator(me, "viewing the statistics")
        shifts = await uow.walk_in.shifts(first, last)
        visits = await uow.walk_in.visits([s.id for s in shifts if s.id is not None])
        people = await uow.mediators.by_ids(sorted({s.worker_id for s in shifts if s.worker_id}))
    names = {pid: p.name for pid, p in people.items()}
    return walk_in_figures(shifts, visits, names, first, last, d.clock.now())


# -- helpers --------------------------------------------------------------------------------


async def _shift(
    uow: UnitOfWork, shift_id: int, me: Mediator, *, for_update: bool = False
) -> Shift:
    """The shift, if it is the actor's or the actor is a coordinator; anyone else hears it
    does not exist."""
    shift = await uow.walk_in.shift(shift_id, for_update=for_update)
    if shift is None or (shift.worker_id != me.id and not me.is_coordinator):
        raise errors.NotFound(f"no shift {shift_id} for this person")
    return shift


async def _swap(uow: UnitOfWork, swap_id: int, me: Mediator) -> Swap:
    swap = await uow.walk_in.swap(swap_id, for_update=True)
    if swap is None or me.id not in (swap.from_id, swap.to_id):
        raise errors.NotFound(f"no swap {swap_id} for this person")
    return swap


async def _people(
    uow: UnitOfWork, shifts: Iterable[Shift], swaps: Iterable[Swap] = ()
) -> dict[int, Mediator]:
    ids = {s.worker_id for s in shifts if s.worker_id} | {
        p for w in swaps for p in (w.from_id, w.to_id)
    }
    return await uow.mediators.by_ids(sorted(i for i in ids if i is not None))


def _person(m: Mediator) -> Person:
    assert m.id is not None
    return Person(m.id, m.name)


def _line(shift: Shift, people: dict[int, Mediator], me: Mediator) -> ShiftLine:
    assert shift.id is not None
    worker = people.get(shift.worker_id) if shift.worker_id else None
    return ShiftLine(
        shift.id,
        shift.kind,
        shift.day,
        shift.starts_at,
        shift.ends_at,
        _person(worker) if worker is not None else None,
        shift.worker_id == me.id,
    )


def _swap_line(swap: Swap, lines: dict[int, ShiftLine], people: dict[int, Mediator]) -> SwapLine:
    assert swap.id is not None

    def named(pid: int) -> Person:
        found = people.get(pid)
        return Person(pid, found.name if found is not None else "?")

    back = lines.get(swap.return_shift_id) if swap.return_shift_id is not None else None
    return SwapLine(
        swap.id, lines[swap.shift_id], named(swap.from_id), named(swap.to_id), back, swap.state
    )


async def _view(uow: UnitOfWork, shift: Shift, me: Mediator, d: WalkInDeps) -> ShiftView:
    """The shift for its worker or a coordinator."""
    now = d.clock.now()
    assert shift.id is not None and me.id is not None
    first, last = _window(d)
    everyone = await uow.mediators.list(active_only=True)
    staff = await _staff(uow, everyone)
    nearby = await uow.walk_in.shifts(first, last)
    swaps = await uow.walk_in.swaps(shift_ids=[shift.id])
    people = {p.id: p for p in everyone if p.id is not None}
    people |= await _people(uow, [shift, *nearby], swaps)
    lines = {s.id: _line(s, people, me) for s in [*nearby, shift] if s.id is not None}
    visits = await uow.walk_in.visits([shift.id]) if shift.kind is ShiftKind.WALK_IN else []
    mine = shift.worker_id == me.id
    may_record = False
    if mine and shift.kind is ShiftKind.WALK_IN:
        try:
            shift.check_may_record(me.id, now, d.hours)
            may_record = True
        except errors.DomainError:
            pass
    may_offer = mine and not shift.starts_at <= now
    colleagues: tuple[Person, ...] = ()
    in_return: tuple[ShiftLine, ...] = ()
    if may_offer:
        colleagues = tuple(
            _person(p)
            for p in sorted(staff, key=lambda p: p.name.casefold())
            if p.id != me.id and may_staff(shift.kind, p) and p.away_on(shift.day) is None
        )
        free = {c.id for c in colleagues}
        in_return = tuple(
            lines[s.id]
            for s in nearby
            if s.id is not None
            and s.kind is shift.kind
            and s.worker_id in free
            and s.starts_at > now
            and me.away_on(s.day) is None
        )
    assignable: tuple[Person, ...] = ()
    if me.is_coordinator and shift.starts_at > now:
        order = rota_order(shift.kind, shift.day, staff, nearby, d.hours)
        assignable = tuple(_person(p) for p in order if p.id != shift.worker_id)
    open_swap = next((w for w in swaps if w.open), None)
    return ShiftView(
        viewer=_person(me),
        shift=lines[shift.id],
        visits=tuple(
            VisitLine(v.id or 0, v.kind, v.minutes, v.referral, v.booked, v.recorded_at)
            for v in visits
        ),
        may_record=may_record,
        may_offer=may_offer and open_swap is None,
        colleagues=colleagues,
        in_return=in_return,
        open_offer=_swap_line(open_swap, lines, people) if open_swap is not None else None,
        assignable=assignable,
    )


def _note(
    kind: MessageKind, person: Mediator, subject: str, period: str, /, **payload: object
) -> NewMessage | None:
    """A note to one person, built into a card when sent; ids and dates only."""
    if not person.aad_object_id:
        return None
    return NewMessage(OutboxKey(kind, person.aad_object_id, subject, period), payload)


def _about(shift: Shift) -> dict[str, object]:
    """What a note says of its shift: its id, kind and times (no one's name)."""
    return {
        "shift_id": shift.id,
        "kind": shift.kind.value,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
    }


def _swap_note(
    person: Mediator, swap: Swap, shift: Shift, what: str, by: Mediator
) -> NewMessage | None:
    """A note of an offer made, answered or withdrawn; ``by`` is who did it."""
    assert swap.id is not None
    return _note(
        MessageKind.SHIFT,
        person,
        f"swap:{swap.id}",
        what,
        note=what,
        swap_id=swap.id,
        by=by.id,
        **_about(shift),
    )


async def _send(uow: UnitOfWork, notes: Sequence[NewMessage | None], now: datetime) -> int:
    messages = [n for n in notes if n is not None]
    return await uow.outbox.add(messages, now) if messages else 0


async def _staff(uow: UnitOfWork, everyone: Sequence[Mediator] | None = None) -> list[Mediator]:
    """Who may be on a rota: the bookers (phone hours) and the active people the registry
    records with the walk-in duty (its ``qualifications`` column), not the whole network."""
    people = list(everyone) if everyone is not None else await uow.mediators.list(active_only=True)
    duties = await uow.qualifications.of([p.id for p in people if p.id is not None])
    return [
        p
        for p in people
        if p.active and (p.is_booker or WALK_IN_SERVICE in duties.get(p.id or 0, frozenset()))
    ]


async def _on_rota(uow: UnitOfWork, person: Mediator) -> bool:
    return bool(await _staff(uow, [person]))
