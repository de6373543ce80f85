"""Unclaimed cases: a case open for N days goes to the coordinators, again at 2N."""

from __future__ import annotations

from jobs.base import JobContext
from mediation.model import CaseStatus
from mediation.reminders import escalation_messages

JOB_ID = "sopu.escalation"


async def run(ctx: JobContext) -> int:
    today = ctx.bank.local_date(ctx.clock.now())
    uow = ctx.uow_factory()
    async with uow:
        open_cases = await uow.cases.with_status([CaseStatus.OPEN])
        if not open_cases:
            return 0
        coordinators = await uow.mediators.coordinators()
    messages = escalation_messages(today, ctx.bank, ctx.policy, ctx.days, open_cases, coordinators)
    return await ctx.send(messages)
