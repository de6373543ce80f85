"""Record-the-meeting prompts: after a meeting's end, until the pair has recorded it."""

from __future__ import annotations

from jobs.base import JobContext
from jobs.meeting_reminders import WITH_MEETINGS
from mediation.reminders import record_prompt_messages

JOB_ID = "sopu.record_prompts"


async def run(ctx: JobContext) -> int:
    now = ctx.clock.now()
    uow = ctx.uow_factory()
    async with uow:
        cases = [c for c in await uow.cases.with_status(WITH_MEETINGS) if c.meetings]
        people = await uow.mediators.by_ids([h for c in cases for h in c.holder_ids()])
    messages = record_prompt_messages(now, ctx.bank, ctx.policy, ctx.days, cases, people)
    return await ctx.send(messages)
