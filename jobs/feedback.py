"""Feedback requests: when a case closes, each mediator's card and the client link."""

from __future__ import annotations

from jobs.base import JobContext
from mediation.model import CaseStatus
from mediation.reminders import feedback_messages

JOB_ID = "sopu.feedback"


async def run(ctx: JobContext) -> int:
    now = ctx.clock.now()
    uow = ctx.uow_factory()
    async with uow:
        closed = await uow.cases.with_status([CaseStatus.CLOSED])
        people = await uow.mediators.by_ids([h for c in closed for h in c.holder_ids()])
    return await ctx.send(feedback_messages(now, ctx.policy, closed, people))
