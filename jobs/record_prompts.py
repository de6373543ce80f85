"""Record-the-meeting prompts: after a meeting's end, until the pair has recorded it."""

from __future__ import annotations

from jobs.base import JobContext
from mediation.calendar import meetings_to_record
from mediation.reminders import record_prompt_messages

JOB_ID = "sopu.record_prompts"


async def run(ctx: JobContext) -> int:
    now = ctx.clock.now()
    meetings = await meetings_to_record(ctx.meetings, ctx.clock)
    if not meetings:
        return 0
    uow = ctx.uow_factory()
    async with uow:
        people = await uow.mediators.by_ids([p for m in meetings for p in m.mediator_ids])
    messages = record_prompt_messages(now, ctx.bank, ctx.policy, ctx.days, meetings, people)
    return await ctx.send(messages)
