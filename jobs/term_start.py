"""Term start: each active mediator gets their quota for the new term."""

from __future__ import annotations

from jobs.base import JobContext, quota_usages
from mediation.model import CaseStatus
from mediation.reminders import term_start_messages

JOB_ID = "sopu.term_start"


async def run(ctx: JobContext) -> int:
    today = ctx.bank.local_date(ctx.clock.now())
    uow = ctx.uow_factory()
    async with uow:
        mediators = await uow.mediators.list(active_only=True)
        usage = await quota_usages(uow, ctx.bank, today, mediators)
        waiting = len(await uow.cases.with_status([CaseStatus.OPEN]))
    messages = term_start_messages(
        today, ctx.bank, ctx.policy, ctx.days, mediators, lambda m: usage[m.id or 0], waiting
    )
    return await ctx.send(messages)
