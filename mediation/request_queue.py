"""The coordinators' queue of contact requests: its use cases and the messages it sends.

Every action is checked against the registry (a coordinator only) and against the card it
came from (the request's version): a replayed or stale click changes nothing and gets the
request as it now is. A change is stored only if nobody else changed the request meanwhile,
so of two coordinators taking one request at the same instant exactly one wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from mediation import errors
from mediation import requests as rq
from mediation.model import CaseStatus, Mediator
from mediation.outbox import MessageKind, NewMessage, OutboxKey
from mediation.ports import Clock, UnitOfWork
from mediation.reminders import reachable
from mediation.requests import ContactRequest, FrontDoorPolicy, RequestStatus, RequestStore
from mediation.services.common import actor

# The names of what a coordinator may do with a request, as the card's buttons send them.
TAKE = "take"
TAKE_OVER = "take_over"  # from another coordinator, who is told
ATTEMPT = "attempt"
SUITABLE = "suitable"
NOT_SUITABLE = "not_suitable"
NO_ANSWER = "no_answer"
SAME_FAMILY = "same_family"
ACTIONS = (TAKE, TAKE_OVER, ATTEMPT, SUITABLE, NOT_SUITABLE, NO_ANSWER, SAME_FAMILY)
# A request joins only a case that is still going on.
ACTIVE_CASES = (CaseStatus.OPEN, CaseStatus.PAIRED, CaseStatus.IN_PROGRESS, CaseStatus.FOLLOW_UP)


@dataclass(frozen=True)
class RequestAction:
    actor: str  # the clicker's Entra object id
    request_id: int
    action: str
    shown_version: int | None  # the version the clicked card showed
    reason: str = ""
    referred_to: str = ""
    case_id: int | None = None  # the family's case, for SAME_FAMILY


@dataclass(frozen=True)
class RequestResult:
    request: ContactRequest
    changed: bool
    by: int | None = None  # the coordinator who acted


async def coordinator(actor_aad: str, uow: UnitOfWork) -> Mediator:
    """The registered coordinator behind ``actor_aad``, read from the registry, or the refusal."""
    async with uow:
        me = await actor(uow, actor_aad)
    if not me.is_coordinator:
        raise rq.CoordinatorsOnly()
    return me


async def load_request(store: RequestStore, request_id: int) -> ContactRequest:
    found = await store.get(request_id)
    if found is None:
        raise rq.RequestNotFound(request_id)
    return found


async def act_on_request(
    cmd: RequestAction,
    uow: UnitOfWork,
    store: RequestStore,
    clock: Clock,
    policy: FrontDoorPolicy,
) -> RequestResult:
    """A coordinator takes, calls or judges a request, on the card's version of it."""
    me = await coordinator(cmd.actor, uow)
    assert me.id is not None
    request = await load_request(store, cmd.request_id)
    now = clock.now()
    if cmd.action in (TAKE, TAKE_OVER) and request.taken_by == me.id and request.status.in_queue:
        return RequestResult(request, False, me.id)  # a double click on "I'll call" or "Take over"
    rq.check_request_current(request, cmd.shown_version)
    if cmd.action == TAKE:
        changed = rq.take(request, me.id, now)
    elif cmd.action == TAKE_OVER:
        return await _take_over(request, me, uow, store, now)
    elif cmd.action == ATTEMPT:
        changed = rq.record_attempt(request, me.id, now)
    elif cmd.action == SUITABLE:
        changed = rq.judge_suitable(request, me.id, now)
    elif cmd.action == NOT_SUITABLE:
        changed = rq.judge_not_suitable(request, me.id, now, cmd.reason, cmd.referred_to)
    elif cmd.action == NO_ANSWER:
        changed = rq.close_no_answer(request, me.id, now, policy)
    elif cmd.action == SAME_FAMILY:
        case_id = await _active_case(uow, cmd.case_id)
        changed = rq.same_family(request, me.id, now, case_id)
    else:
        raise ValueError(f"no such request action: {cmd.action}")
    if changed == request:
        return RequestResult(request, False, me.id)
    if not await store.save(changed, request.version):
        raise rq.StaleRequest(await load_request(store, cmd.request_id))
    return RequestResult(await load_request(store, cmd.request_id), True, me.id)


async def _take_over(
    request: ContactRequest, me: Mediator, uow: UnitOfWork, store: RequestStore, now: datetime
) -> RequestResult:
    """The request becomes ``me``'s; the coordinator who held it is told, in one transaction."""
    assert me.id is not None
    changed = rq.take_over(request, me.id, now)
    if changed == request:
        return RequestResult(request, False, me.id)
    async with uow:
        if not await uow.requests.save(changed, request.version):
            raise rq.StaleRequest(await load_request(store, request.id))
        before = await uow.mediators.get(request.taken_by) if request.taken_by else None
        # The note shows the family's request: only to a coordinator still in the bank.
        if before is not None and before.aad_object_id and before.active and before.is_coordinator:
            await uow.outbox.add([taken_over_message(changed, before, me)], now)
        await uow.commit()
    return RequestResult(await load_request(store, request.id), True, me.id)


async def _active_case(uow: UnitOfWork, case_id: int | None) -> int:
    """The id of a case still going on, or the form's problem."""
    async with uow:
        case = await uow.cases.get(case_id) if case_id is not None else None
    if case is None or case.id is None or case.status not in ACTIVE_CASES:
        raise errors.InvalidForm({"case_id": errors.InvalidInput("case_id", "unknown choice")})
    return case.id


async def begin_case(
    actor_aad: str, request_id: int, uow: UnitOfWork, store: RequestStore
) -> ContactRequest:
    """The suitable request a coordinator is about to make a case of, or the refusal."""
    await coordinator(actor_aad, uow)
    request = await load_request(store, request_id)
    rq.require_suitable(request)
    return request


async def queue(actor_aad: str, uow: UnitOfWork, store: RequestStore) -> list[ContactRequest]:
    """The queue, for coordinators only: urgent first, then oldest first."""
    await coordinator(actor_aad, uow)
    waiting = await store.queue()
    return sorted(waiting, key=lambda r: (not r.form.urgent, r.created_at, r.id))


# -- messages to the coordinators ------------------------------------------------------------


def _recipients(coordinators: Iterable[Mediator], today: date, everyone: bool) -> list[Mediator]:
    """Coordinators who are reachable today; all active ones when none is, or when urgent."""
    active = [c for c in coordinators if c.is_coordinator and c.active and c.aad_object_id]
    present = [c for c in active if reachable(c, today)]
    return active if everyone or not present else present


def _message(
    kind: MessageKind, person: Mediator, request: ContactRequest, period: str
) -> NewMessage:
    # The payload names the request only: the card reads the family's answers when it is sent.
    key = OutboxKey(kind, person.aad_object_id.lower(), f"request:{request.id}", period)
    return NewMessage(key, {"request_id": request.id, "urgent": request.form.urgent})


def announce_messages(
    request: ContactRequest, coordinators: Iterable[Mediator], today: date
) -> list[NewMessage]:
    """A new request goes to the coordinators at once; an urgent one even to those away."""
    if request.status is not RequestStatus.NEW:
        return []
    people = _recipients(coordinators, today, everyone=request.form.urgent)
    return [_message(MessageKind.CONTACT_REQUEST, p, request, "new") for p in people]


def taken_over_message(request: ContactRequest, before: Mediator, me: Mediator) -> NewMessage:
    """To the coordinator who held the request: who took it over (ids only, as every payload)."""
    key = OutboxKey(
        MessageKind.REQUEST_TAKEN_OVER,
        before.aad_object_id.lower(),
        f"request:{request.id}",
        f"v{request.version}",
    )
    return NewMessage(key, {"request_id": request.id, "urgent": request.form.urgent, "by": me.id})


def escalation_messages(
    today: date,
    requests: Sequence[ContactRequest],
    coordinators: Sequence[Mediator],
    policy: FrontDoorPolicy,
    is_holiday: Callable[[date], bool],
    local_date: Callable[[datetime], date],
) -> list[NewMessage]:
    """A family waits for a call, whether nobody has taken the request or its taker has recorded
    no call: urgent requests are escalated at once, others after N working days; a request
    taken, or taken over, is escalated again for its new taker."""
    found: list[NewMessage] = []
    for request in requests:
        if not rq.is_overdue(request, today, policy, is_holiday, local_date):
            continue
        period = "urgent" if request.form.urgent else f"wd{policy.escalate_after_working_days}"
        if request.status is RequestStatus.TAKEN:
            period = f"taken{request.taken_by}-{period}"
        people = _recipients(coordinators, today, everyone=True)
        found += [_message(MessageKind.REQUEST_ESCALATION, p, request, period) for p in people]
    return found
