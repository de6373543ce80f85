"""The bank's use cases: each takes its ports as arguments and commits once.

A use case loads what it needs inside one unit of work, lets the model and the rules
decide, writes the audit trail, commits, and only then notifies people. If someone else
changed the same case meanwhile, the whole decision is taken again on fresh data, so the
loser of a race gets the rule that now refuses them ("seat 2 is already taken").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn, TypeVar

from mediation import errors, rules
from mediation.intake import parse_intake
from mediation.journal import AccessEntry, AccessPurpose, CaseEvent, CaseEventKind, MediatorEvent
from mediation.model import (
    LANGUAGES,
    AwayPeriod,
    Case,
    CaseStatus,
    Mediator,
    Outcome,
    ReleaseReason,
    Role,
)
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
from mediation.registry import RegistryRow
from mediation.rules import QuotaUsage
from mediation.views import CaseDetails, CaseSummary, summarize

T = TypeVar("T")
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class CaseResult:
    """What a case action did: the case as it now stands and whether anything changed."""

    case: CaseSummary
    changed: bool
    notifications: tuple[Notification, ...] = ()
    seat: int | None = None  # the seat the action was about, where there is one


async def _retrying(uow: UnitOfWork, attempt: Callable[[], Awaitable[T]]) -> T:
    for n in range(MAX_ATTEMPTS):
        try:
            return await attempt()
        except errors.ConcurrentChange:
            if n == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def actor(uow: UnitOfWork, aad_object_id: str) -> Mediator:
    """The registry entry of the user acting, or a refusal naming the coordinators."""
    me = await uow.mediators.by_aad(aad_object_id.lower()) if aad_object_id else None
    if me is None:
        await _not_in_registry(uow)
    return me


async def _not_in_registry(uow: UnitOfWork) -> NoReturn:
    coordinators = await uow.mediators.coordinators()
    raise errors.NotInRegistry([c.name for c in coordinators if c.active])


async def _actor_and_case(
    uow: UnitOfWork, aad_object_id: str, case_id: int, *, for_update: bool = False
) -> tuple[Mediator, Case, dict[int, Mediator]]:
    """The user acting, the case and its seat holders, in two reads; refusals as actor()'s."""
    case = await uow.cases.get(case_id, for_update=for_update)
    holder_ids = case.holder_ids() if case else []
    if aad_object_id:
        me, holders = await uow.mediators.by_aad_and_ids(aad_object_id.lower(), holder_ids)
    else:
        me, holders = None, {}
    if me is None:
        await _not_in_registry(uow)
    if case is None:
        raise errors.CaseNotFound(case_id)
    return me, case, holders


def _require_coordinator(me: Mediator, action: str) -> None:
    if not me.is_coordinator:
        raise errors.NotAllowed(action, "only a coordinator may do this")


async def _case(uow: UnitOfWork, case_id: int, *, for_update: bool = False) -> Case:
    case = await uow.cases.get(case_id, for_update=for_update)
    if case is None:
        raise errors.CaseNotFound(case_id)
    return case


def _only(people: Mapping[int, Mediator], ids: Iterable[int]) -> dict[int, Mediator]:
    return {i: people[i] for i in ids if i in people}


async def _summary(uow: UnitOfWork, case: Case, policy: BankPolicy, now: datetime) -> CaseSummary:
    holders = await uow.mediators.by_ids(case.holder_ids())
    return summarize(case, holders, policy, policy.local_date(now))


async def quota_usage(
    uow: UnitOfWork, mediator: Mediator, now: datetime, policy: BankPolicy
) -> QuotaUsage:
    """Packages the mediator holds in the term of ``now`` and in its year."""
    if mediator.id is None:
        raise ValueError("mediator not stored")
    term = policy.term_of(now)
    t_lo, t_hi = policy.bounds_utc(term.start, term.end)
    y_lo, y_hi = policy.bounds_utc(*policy.year_bounds(term.year))
    term_used, year_used = await uow.mediators.packages_taken_in(
        mediator.id, [(t_lo, t_hi), (y_lo, y_hi)]
    )
    return QuotaUsage(
        term=term,
        term_used=term_used,
        term_limit=policy.term_quota(term),
        year_used=year_used,
        year_limit=policy.year_quota,
    )


async def _send(notifier: Notifier, notes: Sequence[Notification]) -> None:
    for note in notes:
        await notifier.notify(note)


# -- intake ----------------------------------------------------------------------------


async def may_register(actor_aad: str, uow: UnitOfWork) -> Mediator:
    """The coordinator about to register a family, or the refusal, before any form is read."""
    async with uow:
        me = await actor(uow, actor_aad)
        _require_coordinator(me, "registering a family")
        return me


@dataclass(frozen=True)
class RegisterCase:
    actor: str
    form: dict[str, object]


async def register_case(
    cmd: RegisterCase, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> CaseSummary:
    """A coordinator registers a family as an open case (not yet posted anywhere)."""
    now = clock.now()
    async with uow:
        me = await actor(uow, cmd.actor)
        _require_coordinator(me, "registering a family")
        intake, family = parse_intake(cmd.form, policy.local_date(now))
        assert me.id is not None
        code = await uow.cases.next_code(policy.local_date(now).year)
        case = await uow.cases.add(Case.new(code, intake, me.id, now, policy), family)
        assert case.id is not None
        await uow.journal.case_event(CaseEvent(case.id, CaseEventKind.CREATED, me.id, now))
        await uow.commit()
        return summarize(case, {}, policy, policy.local_date(now))


# -- seats -------------------------------------------------------------------------------


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
            me, case, holders = await _actor_and_case(uow, cmd.actor, cmd.case_id, for_update=True)
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
                notes.append(PairComplete(case.id, case.code, pair, summary, _only(people, pair)))
            return CaseResult(summary, True, tuple(notes), seat=seat.n)

    result = await _retrying(uow, attempt)
    await _send(notifier, result.notifications)
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
            me, case, holders = await _actor_and_case(uow, cmd.actor, cmd.case_id, for_update=True)
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
            people = {**_only(holders, (former,)), **coordinators}
            notes: tuple[Notification, ...] = (
                CaseChanged(case.id, summary),
                SeatReleased(
                    case.id, case.code, former, reason.value, tuple(coordinators), summary, people
                ),
            )
            return CaseResult(summary, True, notes)

    result = await _retrying(uow, attempt)
    await _send(notifier, result.notifications)
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
            _require_coordinator(me, "assigning a seat")
            case = await _case(uow, cmd.case_id, for_update=True)
            target = await uow.mediators.get(cmd.mediator_id, for_update=True)
            if target is None:
                raise errors.MediatorNotFound(cmd.mediator_id)
            assert me.id is not None and case.id is not None and target.id is not None
            held = case.seat_of(target.id)
            if held is not None:
                return CaseResult(await _summary(uow, case, policy, now), False, seat=held.n)
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
                notes.append(PairComplete(case.id, case.code, pair, summary, _only(people, pair)))
            if former is not None:
                notes.append(
                    SeatReleased(
                        case.id,
                        case.code,
                        former,
                        ReleaseReason.COORDINATOR.value,
                        tuple(coordinators),
                        summary,
                        {**_only(people, (former,)), **coordinators},
                    )
                )
            return CaseResult(summary, True, tuple(notes), seat=seat.n)

    result = await _retrying(uow, attempt)
    await _send(notifier, result.notifications)
    return result


def _with_seat_emptied(case: Case, n: int) -> Case:
    probe = case.copy()
    seat = probe.seat(n)
    seat.holder_id, seat.taken_at = None, None
    return probe


# -- closing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CloseCase:
    actor: str
    case_id: int
    outcome: Outcome


async def close_case(
    cmd: CloseCase, uow: UnitOfWork, notifier: Notifier, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """A coordinator closes a case with its outcome; closing it again changes nothing."""
    return await _coordinator_change(
        cmd.actor,
        cmd.case_id,
        "closing a case",
        already=lambda c: c.status is CaseStatus.CLOSED and c.outcome is cmd.outcome,
        change=lambda c, now: c.close(cmd.outcome, now),
        event=(CaseEventKind.CLOSED, {"outcome": cmd.outcome.value}),
        ports=(uow, notifier, clock, policy),
    )


@dataclass(frozen=True)
class CancelCase:
    actor: str
    case_id: int
    reason: str = ""


async def cancel_case(
    cmd: CancelCase, uow: UnitOfWork, notifier: Notifier, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """A coordinator cancels a case that has not closed; cancelling twice changes nothing."""
    return await _coordinator_change(
        cmd.actor,
        cmd.case_id,
        "cancelling a case",
        already=lambda c: c.status is CaseStatus.CANCELLED,
        change=lambda c, now: c.cancel(now),
        event=(CaseEventKind.CANCELLED, {"reason": cmd.reason[:500]}),
        ports=(uow, notifier, clock, policy),
    )


async def _coordinator_change(
    actor_aad: str,
    case_id: int,
    action: str,
    *,
    already: Callable[[Case], bool],
    change: Callable[[Case, datetime], None],
    event: tuple[CaseEventKind, dict[str, object]],
    ports: tuple[UnitOfWork, Notifier | None, Clock, BankPolicy],
) -> CaseResult:
    """A coordinator's change of a whole case: checked, journalled, idempotent."""
    uow, notifier, clock, policy = ports

    async def attempt() -> CaseResult:
        now = clock.now()
        async with uow:
            me = await actor(uow, actor_aad)
            _require_coordinator(me, action)
            case = await _case(uow, case_id, for_update=True)
            assert me.id is not None and case.id is not None
            if already(case):
                return CaseResult(await _summary(uow, case, policy, now), changed=False)
            change(case, now)
            await uow.cases.save(case)
            kind, detail = event
            await uow.journal.case_event(CaseEvent(case.id, kind, me.id, now, detail))
            await uow.commit()
            summary = await _summary(uow, case, policy, now)
            return CaseResult(summary, True, (CaseChanged(case.id, summary),))

    result = await _retrying(uow, attempt)
    if notifier is not None:
        await _send(notifier, result.notifications)
    return result


@dataclass(frozen=True)
class CaseStep:
    actor: str
    case_id: int


async def start_case(
    cmd: CaseStep, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """The pair's first meeting is booked: the case is in progress."""
    return await _step(cmd, uow, clock, policy, CaseEventKind.STARTED, Case.start)


async def begin_follow_up(
    cmd: CaseStep, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """The agreement is made and only the follow-up meeting remains."""
    return await _step(cmd, uow, clock, policy, CaseEventKind.FOLLOW_UP, Case.begin_follow_up)


async def clear_safety_concern(
    cmd: CaseStep, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> CaseResult:
    """A coordinator clears a safety concern, which lets joint meetings be booked."""
    return await _coordinator_change(
        cmd.actor,
        cmd.case_id,
        "clearing a safety concern",
        already=lambda c: not c.safety_concern_open,
        change=lambda c, now: c.clear_safety_concern(),
        event=(CaseEventKind.SAFETY_CLEARED, {}),
        ports=(uow, None, clock, policy),
    )


async def _step(
    cmd: CaseStep,
    uow: UnitOfWork,
    clock: Clock,
    policy: BankPolicy,
    kind: CaseEventKind,
    transition: Callable[[Case], None],
) -> CaseResult:
    async def attempt() -> CaseResult:
        now = clock.now()
        async with uow:
            me = await actor(uow, cmd.actor)
            case = await _case(uow, cmd.case_id, for_update=True)
            assert me.id is not None and case.id is not None
            if case.seat_of(me.id) is None and not me.is_coordinator:
                raise errors.NotSeatHolder(case.code)
            transition(case)
            await uow.cases.save(case)
            await uow.journal.case_event(CaseEvent(case.id, kind, me.id, now))
            await uow.commit()
            summary = await _summary(uow, case, policy, now)
            return CaseResult(summary, True, (CaseChanged(case.id, summary),))

    return await _retrying(uow, attempt)


# -- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewDetails:
    actor: str
    case_id: int


async def view_details(
    cmd: ViewDetails, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> CaseDetails:
    """The family's details for a seat holder or a coordinator; every view is logged."""
    now = clock.now()
    async with uow:
        me = await actor(uow, cmd.actor)
        case = await _case(uow, cmd.case_id)
        assert me.id is not None and case.id is not None
        if case.seat_of(me.id) is not None:
            purpose = AccessPurpose.SEAT_HOLDER
        elif me.is_coordinator:
            purpose = AccessPurpose.COORDINATION
        else:
            raise errors.NotAllowed(
                "viewing the family's details", "only the pair and coordinators"
            )
        family = await uow.cases.family(case.id)
        if family is None:
            # Purged after the retention period: nothing identifying is left to show.
            raise errors.NotFound(f"the family's details of case {case.code} have been erased")
        await uow.journal.access(AccessEntry(case.id, me.id, now, purpose))
        await uow.commit()
        return CaseDetails(
            summary=await _summary(uow, case, policy, now),
            family=family,
            referral_source=case.intake.referral_source,
            safety_concern_open=case.safety_concern_open,
            package_size=case.package_size,
            excluded_days=case.intake.excluded_days,
        )


async def case_summary(
    actor_aad: str, case_id: int, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> CaseSummary:
    """The anonymous case card's data, for any registered user."""
    now = clock.now()
    async with uow:
        _me, case, holders = await _actor_and_case(uow, actor_aad, case_id)
        return summarize(case, holders, policy, policy.local_date(now))


async def summary_of(
    uow: UnitOfWork, case_id: int, clock: Clock, policy: BankPolicy
) -> CaseSummary:
    """The anonymous case card's data for the bot's own re-rendering (no user acting)."""
    now = clock.now()
    async with uow:
        case = await _case(uow, case_id)
        return await _summary(uow, case, policy, now)


async def my_cases(
    actor_aad: str, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> list[CaseSummary]:
    """The active cases where the user holds a seat (all active ones for a coordinator)."""
    now = clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        assert me.id is not None
        cases = await uow.cases.for_mediator(me.id)
        return [await _summary(uow, c, policy, now) for c in cases if c.status.active]


async def open_cases(uow: UnitOfWork, clock: Clock, policy: BankPolicy) -> list[CaseSummary]:
    now = clock.now()
    async with uow:
        cases = await uow.cases.with_status([CaseStatus.OPEN])
        return [await _summary(uow, c, policy, now) for c in cases]


@dataclass(frozen=True)
class QuotaReport:
    mediator: Mediator
    usage: QuotaUsage
    waiting_cases: int
    experienced: bool


async def my_quota(
    actor_aad: str, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> QuotaReport:
    now = clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        usage = await quota_usage(uow, me, now, policy)
        waiting = len(await uow.cases.with_status([CaseStatus.OPEN]))
        return QuotaReport(me, usage, waiting, me.is_experienced(policy))


# -- the registry ------------------------------------------------------------------------


async def list_registry(actor_aad: str, uow: UnitOfWork) -> list[Mediator]:
    async with uow:
        me = await actor(uow, actor_aad)
        _require_coordinator(me, "viewing the registry")
        return await uow.mediators.list()


@dataclass(frozen=True)
class UpdateMediator:
    actor: str
    mediator_id: int
    experienced: bool | None = None
    active: bool | None = None
    languages: frozenset[str] | None = None
    add_away: AwayPeriod | None = None
    clear_away: bool = False


async def update_mediator(
    cmd: UpdateMediator, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> Mediator:
    """Coordinators keep the registry; mediators may mark only their own away periods."""
    now = clock.now()
    async with uow:
        me = await actor(uow, cmd.actor)
        target = await uow.mediators.get(cmd.mediator_id, for_update=True)
        if target is None:
            raise errors.MediatorNotFound(cmd.mediator_id)
        assert me.id is not None and target.id is not None
        registry_change = (
            cmd.experienced is not None or cmd.active is not None or cmd.languages is not None
        )
        if registry_change or target.id != me.id:
            _require_coordinator(me, "changing the registry")
        change: dict[str, object] = {}
        if cmd.experienced is not None and cmd.experienced != target.experienced_mark:
            target.experienced_mark = cmd.experienced
            change["experienced"] = cmd.experienced
        if cmd.active is not None and cmd.active != target.active:
            target.active = cmd.active
            change["active"] = cmd.active
        if cmd.languages is not None:
            langs = frozenset(cmd.languages)
            if not langs or not langs <= set(LANGUAGES) - {"other"}:
                raise errors.InvalidInput("languages", "choose fi and/or sv")
            if langs != target.languages:
                target.languages = langs
                change["languages"] = sorted(langs)
        today = policy.local_date(now)
        if cmd.clear_away and target.away:
            target.away = ()
            change["away"] = []
        if cmd.add_away is not None:
            if cmd.add_away.end < today:
                raise errors.InvalidInput("away", "the period is already over")
            kept = tuple(p for p in target.away if p.end >= today and p != cmd.add_away)
            target.away = tuple(sorted((*kept, cmd.add_away), key=lambda p: p.start))
            change["away"] = [f"{p.start}..{p.end}" for p in target.away]
        if change:
            await uow.mediators.save(target)
            await uow.journal.mediator_event(MediatorEvent(target.id, me.id, now, change))
            await uow.commit()
        return target


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


async def import_registry(
    rows: Sequence[RegistryRow], uow: UnitOfWork, clock: Clock
) -> ImportReport:
    """Create or update mediators from parsed registry rows, all in one transaction."""
    now = clock.now()
    report = ImportReport()
    async with uow:
        for row in rows:
            known = await uow.mediators.by_aad(row.aad_object_id)
            wanted = Mediator(
                aad_object_id=row.aad_object_id,
                name=row.name,
                email=row.email,
                employer=row.employer,
                languages=row.languages,
                role=row.role,
                experienced_mark=row.experienced,
                active=row.active,
            )
            if known is None:
                added = await uow.mediators.add(wanted)
                assert added.id is not None
                await uow.journal.mediator_event(
                    MediatorEvent(added.id, None, now, {"imported": row.line})
                )
                report.created.append(row.name)
                continue
            change = _registry_diff(known, wanted)
            if not change:
                report.unchanged.append(row.name)
                continue
            for key in change:
                setattr(known, key, getattr(wanted, key))
            await uow.mediators.save(known)
            assert known.id is not None
            await uow.journal.mediator_event(
                MediatorEvent(known.id, None, now, {k: str(v) for k, v in change.items()})
            )
            report.updated.append(row.name)
        await uow.commit()
    return report


_REGISTRY_FIELDS = ("name", "email", "employer", "languages", "role", "experienced_mark", "active")


def _registry_diff(known: Mediator, wanted: Mediator) -> dict[str, object]:
    return {
        f: getattr(wanted, f) for f in _REGISTRY_FIELDS if getattr(known, f) != getattr(wanted, f)
    }


__all__ = [
    "AssignSeat",
    "CancelCase",
    "CaseResult",
    "CaseStep",
    "ClaimSeat",
    "CloseCase",
    "ImportReport",
    "QuotaReport",
    "RegisterCase",
    "ReleaseSeat",
    "Role",
    "UpdateMediator",
    "ViewDetails",
]
