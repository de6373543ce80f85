"""Seats: a mediator claims or releases one, a coordinator assigns one.

The three share one scaffold (``_change_seat``): read the user and the case under the
case's lock, let the use case's rules decide, and either answer with the case unchanged
or save, journal, commit and then tell people. Each use case supplies only its rules.

A use case may also give a first look: the same rules' refusals and repeats, read without
the lock and outside a transaction. Most clicks on a case card change nothing (a seat
already held, a case already paired, a family's language the mediator does not speak);
answered from that look, they neither queue for a popular case's lock nor pay a
transaction's round trips. A click the look lets through is decided again under the lock,
on fresh data, so the look can only spare work, never decide a change. Where one
transaction at a time has the whole database (``UnitOfWork.reads_past_locks``), there is
no lock to read past and the look is skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from mediation import errors, notices, rules
from mediation.case_types import Fill
from mediation.journal import CaseEvent, CaseEventKind
from mediation.model import Case, CaseStatus, Mediator, ReleaseReason, Seat
from mediation.organisations import check_in_network
from mediation.policy import BankPolicy
from mediation.ports import (
    CaseChanged,
    Clock,
    Notification,
    Notifier,
    PairComplete,
    SeatReleased,
    UnitOfWork,
)
from mediation.services.common import (
    CaseResult,
    actor_and_case,
    only,
    quota_usage,
    require_coordinator,
    retrying,
    send,
)
from mediation.views import CaseSummary, summarize

Coordinators = dict[int, Mediator]
T = TypeVar("T")


@dataclass(frozen=True)
class _Scene:
    """What a seat change reads under the case's lock before its rules decide."""

    uow: UnitOfWork
    me: Mediator
    case: Case
    holders: dict[int, Mediator]
    policy: BankPolicy
    now: datetime

    @property
    def me_id(self) -> int:
        assert self.me.id is not None
        return self.me.id

    @property
    def today(self) -> date:
        return self.policy.local_date(self.now)


@dataclass(frozen=True)
class _Kept:
    """The action asks for what already holds (a repeated click): nothing to change."""

    seat: int | None = None


@dataclass(frozen=True)
class _Moved:
    """A seat change the rules allowed and made on the case: what to journal, whom to tell."""

    seat: int
    events: Sequence[tuple[CaseEventKind, dict[str, object]]]
    people: Mapping[int, Mediator]  # everyone the fresh summary may name
    # Extra notices besides CaseChanged, built once committed from the fresh summary.
    tell: Callable[[CaseSummary, Coordinators], Sequence[Notification]] = lambda s, c: ()
    tells_coordinators: bool = False


Look = Callable[[_Scene], Awaitable[_Kept | None]]


async def _change_seat(
    actor_aad: str,
    case_id: int,
    decide: Callable[[_Scene], Awaitable[_Kept | _Moved]],
    ports: tuple[UnitOfWork, Notifier, Clock, BankPolicy],
    look: Look | None = None,
) -> CaseResult:
    """One seat change: decided on fresh data, retried on a race, refusals show the case.

    ``look`` answers what it can without the lock: a refusal (raised), a repeat (_Kept),
    or None for "decide under the lock".
    """
    uow, notifier, clock, policy = ports

    async def scene_of(unit: UnitOfWork, now: datetime, *, locked: bool) -> _Scene:
        me, case, holders = await actor_and_case(unit, actor_aad, case_id, for_update=locked)
        assert case.id is not None
        return _Scene(unit, me, case, holders, policy, now)

    async def judged(scene: _Scene, rules_of: Callable[[_Scene], Awaitable[T]]) -> T:
        try:
            return await rules_of(scene)
        except errors.DomainError as refusal:
            refusal.case = summarize(scene.case, scene.holders, policy, scene.today)
            raise

    def unchanged(scene: _Scene, kept: _Kept) -> CaseResult:
        summary = summarize(scene.case, scene.holders, policy, scene.today)
        return CaseResult(summary, False, seat=kept.seat)

    async def attempt() -> CaseResult:
        now = clock.now()
        if look is not None and uow.reads_past_locks:
            async with uow.reading() as reader:
                glance = await scene_of(reader, now, locked=False)
                seen = await judged(glance, look)
                if seen is not None:
                    return unchanged(glance, seen)
        async with uow:
            scene = await scene_of(uow, now, locked=True)
            case = scene.case
            assert case.id is not None
            decision = await judged(scene, decide)
            if isinstance(decision, _Kept):
                return unchanged(scene, decision)
            await uow.cases.save(case)
            for kind, detail in decision.events:
                await uow.journal.case_event(CaseEvent(case.id, kind, scene.me_id, now, detail))
            coordinators: Coordinators = {}
            if decision.tells_coordinators:
                coordinators = {c.id: c for c in await uow.mediators.coordinators() if c.id}
            summary = summarize(case, decision.people, policy, scene.today)
            notes = (CaseChanged(case.id, summary), *decision.tell(summary, coordinators))
            await notices.record(uow, notes, now)  # committed with the change, or not at all
            await uow.commit()
            return CaseResult(summary, True, notes, seat=decision.seat)

    result = await retrying(uow, attempt)
    await send(notifier, result.notifications)
    return result


@dataclass(frozen=True)
class ClaimSeat:
    actor: str
    case_id: int
    seat: int | None = None  # None: the first free seat
    shown: rules.CardSnapshot | None = None  # what the clicked card showed


async def claim_seat(
    cmd: ClaimSeat, uow: UnitOfWork, notifier: Notifier, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """A mediator takes a seat; claiming a seat you hold already changes nothing."""

    def open_seat(at: _Scene) -> _Kept | Seat:
        """The seat this claim would take, a repeat, or the case's own refusal."""
        case = at.case
        held = case.seat_of(at.me_id)
        if held is not None:
            return _Kept(held.n)
        if case.status is not CaseStatus.OPEN:
            if case.status is CaseStatus.PAIRED:
                raise errors.NoFreeSeat(case.code)
            raise errors.IllegalTransition("claim a seat on", case.status.value)
        seat = case.seat(cmd.seat) if cmd.seat is not None else case.first_free_seat()
        if seat is None:
            raise errors.NoFreeSeat(case.code)
        return seat

    async def check_mediator(at: _Scene, me: Mediator, seat: Seat) -> None:
        """The claim's rules for the mediator, all but the quota and training."""
        # A member of an organisation that has left the network takes no new seats.
        check_in_network(me, await at.uow.organisations.by_name(me.employer), at.today)
        rules.check_can_claim(at.case, seat, me, at.holders, policy, at.today)

    async def look(at: _Scene) -> _Kept | None:
        seat = open_seat(at)
        if isinstance(seat, _Kept):
            return seat
        await check_mediator(at, at.me, seat)
        return None

    async def decide(at: _Scene) -> _Kept | _Moved:
        case, me_id = at.case, at.me_id
        seat = open_seat(at)
        if isinstance(seat, _Kept):
            return seat
        locked = await at.uow.mediators.get(me_id, for_update=True) or at.me
        await check_mediator(at, locked, seat)
        usage = await quota_usage(at.uow, locked, at.now, policy)
        rules.check_quota(usage)
        await _check_qualified(at.uow, case, seat, locked)
        rules.check_card_current(cmd.shown, case, seat.n)
        case.take_seat(seat.n, me_id, at.now)
        people = {**at.holders, me_id: locked}

        def tell(summary: CaseSummary, _: Coordinators) -> list[Notification]:
            if not case.full:
                return []
            pair = tuple(case.holder_ids())
            assert case.id is not None
            return [PairComplete(case.id, case.code, pair, summary, only(people, pair))]

        claimed: dict[str, object] = {"seat": seat.n}
        return _Moved(seat.n, [(CaseEventKind.CLAIMED, claimed)], people, tell)

    ports = (uow, notifier, clock, policy)
    return await _change_seat(cmd.actor, cmd.case_id, decide, ports, look)


@dataclass(frozen=True)
class ReleaseSeat:
    actor: str
    case_id: int
    reason: ReleaseReason = ReleaseReason.WITHDRAW
    seat: int | None = None  # a coordinator names the seat to empty
    shown: rules.CardSnapshot | None = None  # what the clicked card showed


async def release_seat(
    cmd: ReleaseSeat, uow: UnitOfWork, notifier: Notifier, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """A holder gives up their seat (or a coordinator empties one); access ends at once."""

    async def decide(at: _Scene) -> _Kept | _Moved:
        case, me = at.case, at.me
        own = case.seat_of(at.me_id)
        reason = cmd.reason
        if own is not None and (cmd.seat is None or cmd.seat == own.n):
            n = own.n
        elif cmd.seat is not None and me.is_coordinator:
            n, reason = cmd.seat, ReleaseReason.COORDINATOR
            if case.seat(n).free:
                return _Kept()
        elif await _released_before(at.uow, case, at.me_id):
            return _Kept()  # a repeated click after one's own release is not an error
        else:
            raise errors.NotSeatHolder(case.code)
        rules.check_card_current(cmd.shown, case, n)
        former = case.vacate_seat(n)

        def tell(summary: CaseSummary, coordinators: Coordinators) -> list[Notification]:
            assert case.id is not None
            people = {**only(at.holders, (former,)), **coordinators}
            return [
                SeatReleased(
                    case.id, case.code, former, reason.value, tuple(coordinators), summary, people
                )
            ]

        released: dict[str, object] = {"seat": n, "mediator_id": former, "reason": reason.value}
        event = (CaseEventKind.RELEASED, released)
        return _Moved(n, [event], at.holders, tell, tells_coordinators=True)

    return await _change_seat(cmd.actor, cmd.case_id, decide, (uow, notifier, clock, policy))


async def _released_before(uow: UnitOfWork, case: Case, mediator_id: int) -> bool:
    assert case.id is not None
    events = await uow.journal.case_events(case.id)
    return any(
        e.kind is CaseEventKind.RELEASED and e.detail.get("mediator_id") == mediator_id
        for e in events
    )


@dataclass(frozen=True)
class AssignSeat:
    actor: str
    case_id: int
    mediator_id: int
    seat: int | None = None  # None: the first free seat
    override_reason: str = ""
    shown: rules.CardSnapshot | None = None  # what the clicked card showed


async def assign_seat(
    cmd: AssignSeat, uow: UnitOfWork, notifier: Notifier, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """A coordinator puts a mediator in a seat, replacing its holder if there is one.

    The pairing, language and availability rules hold for coordinators too; only the quota
    may be overridden, with a reason that goes to the audit trail.
    """

    async def decide(at: _Scene) -> _Kept | _Moved:
        case = at.case
        require_coordinator(at.me, "assigning a seat")
        target = await at.uow.mediators.get(cmd.mediator_id, for_update=True)
        if target is None:
            raise errors.MediatorNotFound(cmd.mediator_id)
        assert target.id is not None
        held = case.seat_of(target.id)
        if held is not None:
            return _Kept(held.n)
        seat = case.seat(cmd.seat) if cmd.seat is not None else case.first_free_seat()
        if seat is None:
            raise errors.NoFreeSeat(case.code)
        if not case.status.active:
            raise errors.IllegalTransition("assign a seat of", case.status.value)
        others = {k: v for k, v in at.holders.items() if k != seat.holder_id}
        probe = _with_seat_emptied(case, seat.n)
        rules.check_holds_seats(target)
        rules.check_fill(case, seat, Fill.ASSIGN)
        rules.check_available(target, at.today)
        check_in_network(target, await at.uow.organisations.by_name(target.employer), at.today)
        await _check_qualified(at.uow, case, seat, target)
        rules.check_language(target, case)
        rules.check_pairing(probe, probe.seat(seat.n), target, others, policy)
        over = rules.quota_problem(await quota_usage(at.uow, target, at.now, policy))
        reason = cmd.override_reason.strip()
        if over is not None and not reason:
            raise errors.OverrideReasonRequired(
                over.params["scope"], over.params["used"], over.params["limit"]
            )
        rules.check_card_current(cmd.shown, case, seat.n)
        was_open = case.status is CaseStatus.OPEN
        former = case.replace_holder(seat.n, target.id, at.now)
        people = {**at.holders, target.id: target}

        def tell(summary: CaseSummary, coordinators: Coordinators) -> list[Notification]:
            assert case.id is not None
            notes: list[Notification] = []
            if was_open and case.status is CaseStatus.PAIRED:
                pair = tuple(case.holder_ids())
                notes.append(PairComplete(case.id, case.code, pair, summary, only(people, pair)))
            if former is not None:
                notes.append(
                    SeatReleased(
                        case.id,
                        case.code,
                        former,
                        ReleaseReason.COORDINATOR.value,
                        tuple(coordinators),
                        summary,
                        {**only(people, (former,)), **coordinators},
                    )
                )
            return notes

        assigned: dict[str, object] = {"seat": seat.n, "mediator_id": target.id}
        if former is not None:
            assigned["replaced"] = former
        events = [(CaseEventKind.ASSIGNED, assigned)]
        if over is not None:
            overridden: dict[str, object] = {
                "mediator_id": target.id,
                "reason": reason,
                "quota": str(over),
            }
            events.append((CaseEventKind.OVERRIDDEN, overridden))
        return _Moved(seat.n, events, people, tell, tells_coordinators=True)

    return await _change_seat(cmd.actor, cmd.case_id, decide, (uow, notifier, clock, policy))


async def _check_qualified(uow: UnitOfWork, case: Case, seat: Seat, person: Mediator) -> None:
    """A seat whose type asks for qualifications takes only a person who has them."""
    spec = case.type.seat_spec(seat.role)
    if spec.qualifications and person.id is not None:
        held = (await uow.qualifications.of([person.id]))[person.id]
        rules.check_qualified(spec, person.name, held)


def _with_seat_emptied(case: Case, n: int) -> Case:
    probe = case.copy()
    seat = probe.seat(n)
    seat.holder_id, seat.taken_at = None, None
    return probe
