"""The jobs' runtime of one running Sopu: the outbox's sender and the scheduler service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.deps import CalendarService, JobServices
from bot.postman import Postman
from bot.sender import Sender, SenderWake
from bot.settings import Settings
from jobs.base import JobContext
from jobs.scheduler import SchedulerService
from mediation.calendar import push_pending
from mediation.ports import Clock
from mediation.requests import RequestStore
from mediation.services import common_time, consultations
from mediation.services.common_time import CommonTimeDeps
from mediation.services.consultations import ConsultationDeps
from storage.calendar import SqlMeetingFinder
from storage.jobs import JobStore
from storage.leader import LeaderLock
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

# A sender that stopped for an unforeseen reason is started again after this long.
RESTART_SECONDS = 2.0


@dataclass
class JobsRuntime:
    """The outbox's sender and the scheduler service; nothing runs until ``start``.

    Every replica runs a sender (two never take the same message: the outbox's claim
    skips rows another holds); only the replica holding the leader lock runs the jobs.
    """

    services: JobServices
    sender: Sender
    service: SchedulerService
    tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)

    def start(self, *, scheduler: bool) -> None:
        self.tasks.append(asyncio.create_task(self._keep_sending()))
        if scheduler:
            self.tasks.append(asyncio.create_task(self.service.run()))

    async def _keep_sending(self) -> None:
        """Run the sender for the process's life: a sender that stops is started again.

        The sender rides out the database's failures itself; this is for what nobody
        foresaw, since a replica that no longer sends would hold up no one visibly.
        """
        while True:
            try:
                await self.sender.run()
            except Exception as exc:
                log.error("the sender stopped (%s); starting it again", type(exc).__name__)
            await asyncio.sleep(RESTART_SECONDS)

    async def stop(self) -> None:
        tasks, self.tasks = self.tasks, []
        for task in reversed(tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def push_calendars(
    uow_factory: Callable[[], SqlUnitOfWork],
    calendar: CalendarService,
    common: CommonTimeDeps | None,
    consult: ConsultationDeps | None = None,
) -> int:
    """The calendar changes that did not get through: the pairs' meetings, the common
    times', the consultations' client meetings."""
    done = await push_pending(uow_factory(), calendar.deps)
    if consult is not None:
        done += await consultations.push_calendar(uow_factory(), consult)
    if common is not None:
        done += await common_time.push_calendar(uow_factory(), common)
    return done


def build_jobs(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], SqlUnitOfWork],
    clock: Clock,
    postman: Postman,
    calendar: CalendarService,
    wake: SenderWake,
    requests: RequestStore | None = None,
    common: CommonTimeDeps | None = None,
    consult: ConsultationDeps | None = None,
) -> JobsRuntime:
    """Everything the jobs need, wired."""
    outbox, store = postman.outbox, JobStore(sessions)
    sender = Sender(outbox, postman, clock, settings.send_limits, wake=wake)
    ctx = JobContext(
        uow_factory=uow_factory,
        outbox=outbox,
        store=store,
        clock=clock,
        bank=settings.policy,
        policy=settings.reminders,
        meetings=SqlMeetingFinder(sessions),
        wake=sender.wake,
        graph_tasks=dict(calendar.graph_tasks),
        push_calendar=lambda: push_calendars(uow_factory, calendar, common, consult),
        requests=requests,
        front_door=settings.front_door,
        walk_in=settings.walk_in,
    )
    service = SchedulerService(
        ctx,
        LeaderLock(engine),
        at=settings.jobs_time,
        election_seconds=settings.election_seconds,
    )
    jobs = JobServices(outbox, store, settings.reminders, sender.wake, ctx)
    return JobsRuntime(jobs, sender, service)
