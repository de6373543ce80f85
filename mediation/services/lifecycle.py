"""A case's life: registered at intake, started, followed up, closed or cancelled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mediation import errors, notices, rules
from mediation.intake import parse_intake
from mediation.journal import CaseEvent, CaseEventKind
from mediation.model import Case, CaseStatus, Mediator, Outcome
from mediation.policy import BankPolicy
from mediation.ports import CaseChanged, Clock, Notifier, UnitOfWork
from mediation.requests import ContactRequest, StaleRequest, link_case
from mediation.services.common import (
    CaseResult,
    actor,
    load_case,
    read_summary,
    require_coordinator,
    retrying,
    send,
)
from mediation.views import CaseSummary, summarize


async def may_register(actor_aad: str, uow: UnitOfWork) -> Mediator:
    """The coordinator about to register a family, or the refusal, before any form is read."""
    async with uow:
        me = await actor(uow, actor_aad)
        require_coordinator(me, "registering a family")
        return me


@dataclass(frozen=True)
class RegisterCase:
    actor: str
    form: dict[str, object]
    # The contact request the case is made from, as the coordinator's form was opened on it.
    request: ContactRequest | None = None


async def register_case(
    cmd: RegisterCase, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> CaseSummary:
    """A coordinator registers a family as an open case (not yet posted anywhere)."""
    now = clock.now()
    async with uow:
        me = await actor(uow, cmd.actor)
        require_coordinator(me, "registering a family")
        intake, family = parse_intake(cmd.form, policy.local_date(now), policy.areas)
        assert me.id is not None
        code = await uow.cases.next_code(policy.local_date(now).year)
        case = await uow.cases.add(Case.new(code, intake, me.id, now, policy), family)
        assert case.id is not None
        await uow.journal.case_event(CaseEvent(case.id, CaseEventKind.CREATED, me.id, now))
        if cmd.request is not None:
            # Linked in the case's own transaction: a family's request makes one case, even
            # when two coordinators save its intake at the same moment.
            linked = link_case(cmd.request, case.id)
            if not await uow.requests.save(linked, cmd.request.version):
                raise StaleRequest(cmd.request)
        # The case's thread in the bank channel is posted from the outbox: the case and its
        # post are committed together, so no registered case is left unposted.
        await uow.outbox.add([notices.case_posted(case.id)], now)
        await uow.commit()
        return summarize(case, {}, policy, policy.local_date(now))


@dataclass(frozen=True)
class CloseCase:
    actor: str
    case_id: int
    outcome: Outcome
    shown: rules.CardSnapshot | None = None  # what the clicked card showed


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
        shown=cmd.shown,
    )


@dataclass(frozen=True)
class CancelCase:
    actor: str
    case_id: int
    reason: str = ""
    shown: rules.CardSnapshot | None = None  # what the clicked card showed


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
        shown=cmd.shown,
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
    shown: rules.CardSnapshot | None = None,
) -> CaseResult:
    """A coordinator's change of a whole case: checked, journalled, idempotent.

    A card that showed the case in another status than it now has changes nothing.
    """
    uow, notifier, clock, policy = ports

    async def attempt() -> CaseResult:
        now = clock.now()
        async with uow:
            me = await actor(uow, actor_aad)
            require_coordinator(me, action)
            case = await load_case(uow, case_id, for_update=True)
            assert me.id is not None and case.id is not None
            if already(case):
                return CaseResult(await read_summary(uow, case, policy, now), changed=False)
            try:
                rules.check_card_current(shown, case)
                change(case, now)
            except errors.DomainError as refusal:
                refusal.case = await read_summary(uow, case, policy, now)
                raise
            await uow.cases.save(case)
            kind, detail = event
            await uow.journal.case_event(CaseEvent(case.id, kind, me.id, now, detail))
            summary = await read_summary(uow, case, policy, now)
            notes = (CaseChanged(case.id, summary),)
            await notices.record(uow, notes, now)
            await uow.commit()
            return CaseResult(summary, True, notes)

    result = await retrying(uow, attempt)
    if notifier is not None:
        await send(notifier, result.notifications)
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
            case = await load_case(uow, cmd.case_id, for_update=True)
            assert me.id is not None and case.id is not None
            if case.seat_of(me.id) is None and not me.is_coordinator:
                raise errors.NotSeatHolder(case.code)
            transition(case)
            await uow.cases.save(case)
            await uow.journal.case_event(CaseEvent(case.id, kind, me.id, now))
            summary = await read_summary(uow, case, policy, now)
            notes = (CaseChanged(case.id, summary),)
            await notices.record(uow, notes, now)
            await uow.commit()
            return CaseResult(summary, True, notes)

    return await retrying(uow, attempt)
