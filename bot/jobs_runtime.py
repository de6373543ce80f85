"""The jobs' runtime of one running Sopu: the outbox's sender and the scheduler service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.deps import CalendarService, JobServices
from bot.framework.connector import BotConnector
from bot.outbox_cards import MessageRenderer
from bot.sender import ConnectorTransport, Sender
from bot.settings import Settings
from jobs.base import JobContext
from jobs.scheduler import SchedulerService
from mediation.calendar import push_pending
from mediation.ports import Clock
from mediation.requests import RequestStore
from storage.botstore import BotStore
from storage.calendar import SqlMeetingFinder
from storage.jobs import JobStore
from storage.leader import LeaderLock
from storage.outbox import SqlOutbox
from storage.uow import SqlUnitOfWork


@dataclass
class JobsRuntime:
    """The outbox's sender and the scheduler service; nothing runs until ``start``."""

    services: JobServices
    sender: Sender
    service: SchedulerService
    task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> None:
        self.task = asyncio.create_task(self.service.run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None


def build_jobs(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], SqlUnitOfWork],
    clock: Clock,
    connector: BotConnector,
    renderer: MessageRenderer,
    calendar: CalendarService,
    requests: RequestStore | None = None,
) -> JobsRuntime:
    """Everything the jobs need, wired."""
    outbox, store = SqlOutbox(sessions), JobStore(sessions)
    sender = Sender(
        outbox,
        BotStore(sessions),
        ConnectorTransport(connector),
        renderer,
        clock,
        settings.send_limits,
    )
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
        push_calendar=lambda: push_pending(uow_factory(), calendar.deps),
        requests=requests,
        front_door=settings.front_door,
    )
    service = SchedulerService(
        ctx,
        LeaderLock(engine),
        sender.run,
        at=settings.jobs_time,
        election_seconds=settings.election_seconds,
    )
    jobs = JobServices(outbox, store, settings.reminders, sender.wake, ctx)
    return JobsRuntime(jobs, sender, service)
