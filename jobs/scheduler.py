"""The scheduler: APScheduler 3.11 in the one replica that holds the leader lock.

Every job has a fixed id and is added with ``replace_existing=True``, ``coalesce=True``
and a ``misfire_grace_time``. APScheduler's job store lives in memory (it must never be
shared), so what a restart must not forget is kept in the database instead: each job's
last completed slot (``job_run``). When a replica becomes the leader, every job whose
latest slot was missed runs once, at once. A job may run twice without harm: what it
sends goes through the outbox's unique keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs import (
    calendar_push,
    common_time_follow_up,
    contact_requests,
    escalation,
    feedback,
    follow_up,
    graph_sync,
    joint_meetings,
    meeting_reminders,
    mid_term,
    record_prompts,
    request_retention,
    retention,
    shift_reminders,
    term_start,
    walk_in_rota,
)
from jobs.base import JobContext
from mediation.scheduling import SchedulerLock

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class JobSpec:
    id: str
    run: Callable[[JobContext], Awaitable[int]]
    every_minutes: int | None = None  # None: once a day at the jobs' time


JOBS: tuple[JobSpec, ...] = (
    JobSpec(term_start.JOB_ID, term_start.run),
    JobSpec(mid_term.JOB_ID, mid_term.run),
    JobSpec(escalation.JOB_ID, escalation.run),
    JobSpec(meeting_reminders.JOB_ID, meeting_reminders.run),
    JobSpec(record_prompts.JOB_ID, record_prompts.run, every_minutes=30),
    JobSpec(follow_up.JOB_ID, follow_up.run),
    JobSpec(feedback.JOB_ID, feedback.run, every_minutes=5),
    JobSpec(joint_meetings.JOB_ID, joint_meetings.run),
    JobSpec(retention.JOB_ID, retention.run),
    JobSpec(contact_requests.JOB_ID, contact_requests.run, every_minutes=15),
    JobSpec(request_retention.JOB_ID, request_retention.run),
    JobSpec(common_time_follow_up.JOB_ID, common_time_follow_up.run),
    # The rota is filled weeks ahead: tomorrow's shift is there before its reminder.
    JobSpec(walk_in_rota.JOB_ID, walk_in_rota.run),
    JobSpec(shift_reminders.JOB_ID, shift_reminders.run),
)
GRAPH_JOBS: tuple[JobSpec, ...] = (
    JobSpec(graph_sync.RENEW_ID, graph_sync.renew, every_minutes=60),
    JobSpec(graph_sync.DELTA_ID, graph_sync.delta, every_minutes=15),
)
CALENDAR_PUSH = JobSpec(calendar_push.JOB_ID, calendar_push.run, every_minutes=10)


def jobs_for(ctx: JobContext) -> tuple[JobSpec, ...]:
    calendar = (CALENDAR_PUSH,) if ctx.push_calendar is not None else ()
    return JOBS + calendar + tuple(j for j in GRAPH_JOBS if j.id in ctx.graph_tasks)


def latest_slot(spec: JobSpec, now: datetime, ctx: JobContext, at: str) -> datetime:
    """The newest moment at or before ``now`` when the job was due to run."""
    if spec.every_minutes is not None:
        step = spec.every_minutes * 60
        return datetime.fromtimestamp(now.timestamp() // step * step, tz=now.tzinfo)
    hour, minute = (int(p) for p in at.split(":"))
    local = now.astimezone(ctx.bank.zone)
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
        slot = slot.replace(hour=hour, minute=minute)  # across a DST change
    return slot


async def run_job(ctx: JobContext, spec: JobSpec, at: str = "09:00") -> int:
    """Run one job now and remember its slot as done; a failure is logged, not raised."""
    now = ctx.clock.now()
    slot = latest_slot(spec, now, ctx, at)
    try:
        count = await spec.run(ctx)
    except Exception:
        log.exception("job %s failed", spec.id)
        return 0
    await ctx.store.record_run(spec.id, slot, ctx.clock.now())
    if count:
        log.info("job %s: %d new", spec.id, count)
    return count


async def catch_up(ctx: JobContext, at: str = "09:00") -> list[str]:
    """Run, once each, the jobs whose latest slot passed while no scheduler ran them."""
    ran = []
    now = ctx.clock.now()
    for spec in jobs_for(ctx):
        last = await ctx.store.last_slot(spec.id)
        if last is None or last < latest_slot(spec, now, ctx, at):
            await run_job(ctx, spec, at)
            ran.append(spec.id)
    return ran


def build_scheduler(ctx: JobContext, at: str = "09:00") -> AsyncIOScheduler:
    """An AsyncIOScheduler with every job, not yet started."""
    scheduler = AsyncIOScheduler(
        timezone=ctx.bank.zone,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
    hour, minute = (int(p) for p in at.split(":"))
    for spec in jobs_for(ctx):
        trigger = (
            IntervalTrigger(minutes=spec.every_minutes, timezone=ctx.bank.zone)
            if spec.every_minutes is not None
            else CronTrigger(hour=hour, minute=minute, timezone=ctx.bank.zone)
        )
        scheduler.add_job(
            run_job,
            trigger,
            args=(ctx, spec, at),
            id=spec.id,
            name=spec.id,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
            max_instances=1,
        )
    return scheduler


class SchedulerService:
    """Runs for the app's lifetime: leads when it holds the lock, stands by otherwise.

    While leading it runs the APScheduler jobs and ``background`` (the outbox's sender, so
    that one replica paces the whole tenant). If the lock's connection breaks, it stops
    both at once; another replica takes over on its next election round.
    """

    def __init__(
        self,
        ctx: JobContext,
        lock: SchedulerLock,
        background: Callable[[], Coroutine[Any, Any, None]] | None = None,
        *,
        at: str = "09:00",
        election_seconds: float = 15.0,
    ) -> None:
        self.ctx = ctx
        self.lock = lock
        self.background = background
        self.at = at
        self.election_seconds = election_seconds
        self.scheduler: AsyncIOScheduler | None = None
        self._tasks: list[asyncio.Task[object]] = []
        self.leading = asyncio.Event()

    async def run(self) -> None:
        try:
            while True:
                if await self.lock.try_acquire():
                    if self.scheduler is None:
                        await self._lead()
                elif self.scheduler is not None:
                    log.error("scheduler lock lost: this replica stops running jobs")
                    await self._stand_down()
                await asyncio.sleep(self.election_seconds)
        finally:
            await self._stand_down()
            await self.lock.release()

    async def _lead(self) -> None:
        self.scheduler = build_scheduler(self.ctx, self.at)
        self.scheduler.start()
        if self.background is not None:
            self._tasks.append(asyncio.create_task(self.background()))
        self._tasks.append(asyncio.create_task(catch_up(self.ctx, self.at)))
        self.leading.set()
        log.info("scheduler started with %d jobs", len(self.scheduler.get_jobs()))

    async def _stand_down(self) -> None:
        self.leading.clear()
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await task
                except Exception:
                    log.exception("a scheduler task failed while stopping")
