"""Seats: a mediator claims or releases one, a coordinator assigns one."""

from __future__ import annotations

from dataclasses import dataclass

from mediation import errors, rules
from mediation.journal import CaseEvent, CaseEventKind
from mediation.model import Case, CaseStatus, ReleaseReason
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
    actor,
    actor_and_case,
    load_case,
    only,
    quota_usage,
    read_summary,
    require_coordinator,
    retrying,
    send,
)
from mediation.views import summarize


@dataclass(frozen=True)
class ClaimSeat:
    actor: str
    case_id: int
    seat: int | None = None  # None: the first free seat


async def claim_seat(
    cmd: ClaimSeat, uow: UnitOfWork, notifier: Notifier, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """A mediator takes a seat; claiming a seat you hold already changes nothing."""

    async def attempt() -> CaseResult:
        now = clock.now()
        today = policy.local_date(now)
        async with uow:
            me, case, holders = await actor_and_case(uow, cmd.actor, cmd.case_id, for_update=True)
            assert me.id is not None and case.id is not None
            held = case.seat_of(me.id)
            if held is not None:
                return CaseResult(summarize(case, holders, policy, today), False, seat=held.n)
            try:
                if case.status is not CaseStatus.OPEN:
                    if case.status is CaseStatus.PAIRED:
                        raise errors.NoFreeSeat(case.code)
                    raise errors.IllegalTransition("claim a seat on", case.status.value)
                seat = case.seat(cmd.seat) if cmd.seat is not None else case.first_free_seat()
                if seat is None:
                    raise errors.NoFreeSeat(case.code)
                locked = await uow.mediators.get(me.id, for_update=True) or me
                usage = await quota_usage(uow, locked, now, policy)
                rules.check_can_claim(case, seat, locked, holders, usage, policy, today)
                case.take_seat(seat.n, me.id, now)
            except errors.DomainError as refusal:
                refusal.case = summarize(case, holders, policy, today)
                raise
            await uow.cases.save(case)
            await uow.journal.case_event(
                CaseEvent(case.id, CaseEventKind.CLAIMED, me.id, now, {"seat": seat.n})
            )
            await uow.commit()
            people = {**holders, me.id: locked}
            summary = summarize(case, people, policy, today)
            notes: list[Notification] = [CaseChanged(case.id, summary)]
            if case.full:
                pair = tuple(case.holder_ids())
                notes.append(PairComplete(case.id, case.code, pair, summary, only(people, pair)))
            return CaseResult(summary, True, tuple(notes), seat=seat.n)

    result = await retrying(uow, attempt)
    await send(notifier, result.notifications)
    return result


@dataclass(frozen=True)
class ReleaseSeat:
    actor: str
    case_id: int
    reason: ReleaseReason = ReleaseReason.WITHDRAW
    seat: int | None = None  # a coordinator names the seat to empty


async def release_seat(
    cmd: ReleaseSeat, uow: UnitOfWork, notifier: Notifier, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """A holder gives up their seat (or a coordinator empties one); access ends at once."""

    async def attempt() -> CaseResult:
        now = clock.now()
        today = policy.local_date(now)
        async with uow:
            me, case, holders = await actor_and_case(uow, cmd.actor, cmd.case_id, for_update=True)
            assert me.id is not None and case.id is not None
            own = case.seat_of(me.id)
            reason = cmd.reason
            try:
                if own is not None and (cmd.seat is None or cmd.seat == own.n):
                    n = own.n
                elif cmd.seat is not None and me.is_coordinator:
                    n, reason = cmd.seat, ReleaseReason.COORDINATOR
                    if case.seat(n).free:
                        return CaseResult(summarize(case, holders, policy, today), changed=False)
                else:
                    # A repeated click after one's own release is not an error.
                    if await _released_before(uow, case.id, me.id):
                        return CaseResult(summarize(case, holders, policy, today), changed=False)
                    raise errors.NotSeatHolder(case.code)
                former = case.vacate_seat(n)
            except errors.DomainError as refusal:
                refusal.case = summarize(case, holders, policy, today)
                raise
            await uow.cases.save(case)
            await uow.journal.case_event(
                CaseEvent(
                    case.id,
                    CaseEventKind.RELEASED,
                    me.id,
                    now,
                    {"seat": n, "mediator_id": former, "reason": reason.value},
                )
            )
            coordinators = {c.id: c for c in await uow.mediators.coordinators() if c.id}
            await uow.commit()
            summary = summarize(case, holders, policy, today)
            people = {**only(holders, (former,)), **coordinators}
            notes: tuple[Notification, ...] = (
                CaseChanged(case.id, summary),
                SeatReleased(
                    case.id, case.code, former, reason.value, tuple(coordinators), summary, people
                ),
            )
            return CaseResult(summary, True, notes)

    result = await retrying(uow, attempt)
    await send(notifier, result.notifications)
    return result


async def _released_before(uow: UnitOfWork, case_id: int, mediator_id: int) -> bool:
    events = await uow.journal.case_events(case_id)
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


async def assign_seat(
    cmd: AssignSeat, uow: UnitOfWork, notifier: Notifier, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """A coordinator puts a mediator in a seat, replacing its holder if there is one.

    The pairing, language and availability rules hold for coordinators too; only the quota
    may be overridden, with a reason that goes to the audit trail.
    """

    async def attempt() -> CaseResult:
        now = clock.now()
        async with uow:
            me = await actor(uow, cmd.actor)
            require_coordinator(me, "assigning a seat")
            case = await load_case(uow, cmd.case_id, for_update=True)
            target = await uow.mediators.get(cmd.mediator_id, for_update=True)
            if target is None:
                raise errors.MediatorNotFound(cmd.mediator_id)
            assert me.id is not None and case.id is not None and target.id is not None
            held = case.seat_of(target.id)
            if held is not None:
                return CaseResult(await read_summary(uow, case, policy, now), False, seat=held.n)
            seat = case.seat(cmd.seat) if cmd.seat is not None else case.first_free_seat()
            if seat is None:
                raise errors.NoFreeSeat(case.code)
            if not case.status.active:
                raise errors.IllegalTransition("assign a seat of", case.status.value)
            holders = await uow.mediators.by_ids(case.holder_ids())
            others = {k: v for k, v in holders.items() if k != seat.holder_id}
            probe = _with_seat_emptied(case, seat.n)
            rules.check_available(target, policy.local_date(now))
            rules.check_language(target, case)
            rules.check_pairing(probe, probe.seat(seat.n), target, others, policy)
            over = rules.quota_problem(await quota_usage(uow, target, now, policy))
            reason = cmd.override_reason.strip()
            if over is not None and not reason:
                raise errors.OverrideReasonRequired(
                    over.params["scope"], over.params["used"], over.params["limit"]
                )
            was_open = case.status is CaseStatus.OPEN
            former = case.replace_holder(seat.n, target.id, now)
            await uow.cases.save(case)
            detail: dict[str, object] = {"seat": seat.n, "mediator_id": target.id}
            if former is not None:
                detail["replaced"] = former
            await uow.journal.case_event(
                CaseEvent(case.id, CaseEventKind.ASSIGNED, me.id, now, detail)
            )
            if over is not None:
                await uow.journal.case_event(
                    CaseEvent(
                        case.id,
                        CaseEventKind.OVERRIDDEN,
                        me.id,
                        now,
                        {"mediator_id": target.id, "reason": reason, "quota": str(over)},
                    )
                )
            coordinators = {c.id: c for c in await uow.mediators.coordinators() if c.id}
            await uow.commit()
            people = {**holders, target.id: target}
            summary = summarize(case, people, policy, policy.local_date(now))
            notes: list[Notification] = [CaseChanged(case.id, summary)]
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
            return CaseResult(summary, True, tuple(notes), seat=seat.n)

    result = await retrying(uow, attempt)
    await send(notifier, result.notifications)
    return result


def _with_seat_emptied(case: Case, n: int) -> Case:
    probe = case.copy()
    seat = probe.seat(n)
    seat.holder_id, seat.taken_at = None, None
    return probe
