"""What the bank's use cases share: the result of a case action, retries, who acts, reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn, TypeVar

from mediation import errors
from mediation.model import Case, Mediator
from mediation.policy import BankPolicy
from mediation.ports import Notification, Notifier, UnitOfWork
from mediation.rules import QuotaUsage
from mediation.views import CaseSummary, summarize

T = TypeVar("T")
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class CaseResult:
    """What a case action did: the case as it now stands and whether anything changed."""

    case: CaseSummary
    changed: bool
    notifications: tuple[Notification, ...] = ()
    seat: int | None = None  # the seat the action was about, where there is one


async def retrying(uow: UnitOfWork, attempt: Callable[[], Awaitable[T]]) -> T:
    for n in range(MAX_ATTEMPTS):
        try:
            return await attempt()
        except errors.ConcurrentChange:
            if n == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def actor(uow: UnitOfWork, aad_object_id: str, *, booker: bool = False) -> Mediator:
    """The registry entry of the user acting, or a refusal naming the coordinators.

    A booker is refused here too, unless the use case is one of booking (``booker``).
    """
    me = await uow.mediators.by_aad(aad_object_id.lower()) if aad_object_id else None
    if me is None:
        await not_in_registry(uow)
    if not me.active:
        await not_active(uow)
    if me.is_booker and not booker:
        raise errors.BookerNotAllowed()
    return me


async def not_in_registry(uow: UnitOfWork) -> NoReturn:
    coordinators = await uow.mediators.coordinators()
    raise errors.NotInRegistry([c.name for c in coordinators if c.active])


async def not_active(uow: UnitOfWork) -> NoReturn:
    """Someone marked not active acts as one who has left: nothing, not even reading."""
    coordinators = await uow.mediators.coordinators()
    raise errors.NotActive([c.name for c in coordinators if c.active])


async def actor_and_case(
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
        await not_in_registry(uow)
    if not me.active:
        await not_active(uow)
    if me.is_booker:
        raise errors.BookerNotAllowed()
    if case is None:
        raise errors.CaseNotFound(case_id)
    return me, case, holders


def require_coordinator(me: Mediator, action: str) -> None:
    if not me.is_coordinator:
        raise errors.NotAllowed(action, "only a coordinator may do this")


async def load_case(uow: UnitOfWork, case_id: int, *, for_update: bool = False) -> Case:
    case = await uow.cases.get(case_id, for_update=for_update)
    if case is None:
        raise errors.CaseNotFound(case_id)
    return case


def only(people: Mapping[int, Mediator], ids: Iterable[int]) -> dict[int, Mediator]:
    return {i: people[i] for i in ids if i in people}


async def read_summary(
    uow: UnitOfWork, case: Case, policy: BankPolicy, now: datetime
) -> CaseSummary:
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


async def send(notifier: Notifier, notes: Sequence[Notification]) -> None:
    for note in notes:
        await notifier.notify(note)
