"""Meeting reminders: both mediators hear of a booked meeting the day before."""

from __future__ import annotations

from jobs.base import JobContext
from mediation.model import CaseStatus
from mediation.reminders import meeting_reminder_messages

JOB_ID = "sopu.meeting_reminders"
WITH_MEETINGS = (CaseStatus.PAIRED, CaseStatus.IN_PROGRESS, CaseStatus.FOLLOW_UP)


async def run(ctx: JobContext) -> int:
    now = ctx.clock.now()
    uow = ctx.uow_factory()
    async with uow:
        cases = [c for c in await uow.cases.with_status(WITH_MEETINGS) if c.meetings]
        people = await uow.mediators.by_ids([h for c in cases for h in c.holder_ids()])
    messages = meeting_reminder_messages(now, ctx.bank, ctx.policy, ctx.days, cases, people)
    return await ctx.send(messages)
