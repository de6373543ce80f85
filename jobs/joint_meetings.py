"""The bank's joint meetings: every mediator is reminded a week before, with the agenda."""

from __future__ import annotations

from datetime import date

from jobs.base import JobContext
from mediation.reminders import joint_meeting_messages

JOB_ID = "sopu.joint_meetings"


async def run(ctx: JobContext) -> int:
    today = ctx.bank.local_date(ctx.clock.now())
    agendas = await ctx.store.agendas(date(today.year, 1, 1), date(today.year + 2, 1, 1))
    uow = ctx.uow_factory()
    async with uow:
        mediators = await uow.mediators.list(active_only=True)
    return await ctx.send(joint_meeting_messages(today, ctx.policy, ctx.days, mediators, agendas))
