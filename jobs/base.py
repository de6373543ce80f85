"""What every job is given: the database, the outbox, the clock and the settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import holidays

from mediation.calendar import MeetingFinder
from mediation.model import Mediator
from mediation.outbox import NewMessage, Outbox
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.reminders import ReminderPolicy, WorkingDays
from mediation.requests import FrontDoorPolicy, RequestStore
from mediation.rules import QuotaUsage
from mediation.scheduling import SchedulerMemory
from mediation.walk_in import WalkInPolicy


def finnish_holidays() -> Callable[[date], bool]:
    """Finland's public holidays, Midsummer Eve and Christmas Eve included."""
    calendar = holidays.country_holidays("FI")
    return lambda day: day in calendar


@dataclass
class JobContext:
    uow_factory: Callable[[], UnitOfWork]
    outbox: Outbox
    store: SchedulerMemory
    clock: Clock
    bank: BankPolicy
    policy: ReminderPolicy
    meetings: MeetingFinder  # booked meetings that ended and are not recorded
    wake: Callable[[], None] = lambda: None
    # Plain async functions of the calendar's sync (renewal, delta rounds), when present.
    graph_tasks: Mapping[str, Callable[[], Awaitable[object]]] = field(default_factory=dict)
    # Pushes the calendar changes that did not get through (mediation.calendar.push_pending).
    push_calendar: Callable[[], Awaitable[int]] | None = None
    # The families' contact requests, when the contact form is served.
    requests: RequestStore | None = None
    front_door: FrontDoorPolicy = field(default_factory=FrontDoorPolicy)
    # The walk-in shifts' and phone hours' windows: the settings' (bot/jobs_runtime.py), none
    # in a context made without them.
    walk_in: WalkInPolicy = field(default_factory=lambda: WalkInPolicy(walk_in=(), phone=()))
    days: WorkingDays = field(init=False)

    def __post_init__(self) -> None:
        self.days = WorkingDays(self.policy.skip_holidays, finnish_holidays())

    async def send(self, messages: Sequence[NewMessage]) -> int:
        """Add messages to the outbox (new keys only) and wake the sender."""
        if not messages:
            return 0
        added = await self.outbox.add(messages, self.clock.now())
        if added:
            self.wake()
        return added


async def quota_usages(
    uow: UnitOfWork, bank: BankPolicy, today: date, mediators: Sequence[Mediator]
) -> dict[int, QuotaUsage]:
    """Every mediator's quota use in the term and the year of ``today``, in two queries."""
    term = bank.term_of(today)
    in_term = await uow.mediators.packages_by_mediator(*bank.bounds_utc(term.start, term.end))
    in_year = await uow.mediators.packages_by_mediator(
        *bank.bounds_utc(*bank.year_bounds(term.year))
    )
    return {
        m.id: QuotaUsage(
            term=term,
            term_used=in_term.get(m.id, 0),
            term_limit=bank.term_quota(term),
            year_used=in_year.get(m.id, 0),
            year_limit=bank.year_quota,
        )
        for m in mediators
        if m.id is not None
    }
