"""Mid-term nudge: mediators with unused quota hear that families are waiting."""

from __future__ import annotations

from jobs.base import JobContext, quota_usages
from mediation.model import CaseStatus
from mediation.reminders import mid_term_messages

JOB_ID = "sopu.mid_term"


async def run(ctx: JobContext) -> int:
    today = ctx.bank.local_date(ctx.clock.now())
    uow = ctx.uow_factory()
    async with uow:
        waiting = len(await uow.cases.with_status([CaseStatus.OPEN]))
        if not waiting:
            return 0
        mediators = await uow.mediators.list(active_only=True)
        usage = await quota_usages(uow, ctx.bank, today, mediators)
    messages = mid_term_messages(
        today, ctx.bank, ctx.policy, ctx.days, mediators, lambda m: usage[m.id or 0], waiting
    )
    return await ctx.send(messages)
