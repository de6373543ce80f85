"""Feedback requests: when a case closes, each mediator's card and the client link.

Both come through the outbox: the coordinator's close queues them at once (``for_case``),
and this job's run every few minutes queues whatever a close did not (a crash between the
close's commit and the queueing). The outbox key (kind, mediator, case) makes the second
queueing add nothing, so each mediator gets each card once.
"""

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


async def for_case(ctx: JobContext, case_id: int) -> int:
    """Queue one case's requests now (its close was just committed) and wake the sender."""
    now = ctx.clock.now()
    uow = ctx.uow_factory()
    async with uow:
        case = await uow.cases.get(case_id)
        if case is None:
            return 0
        people = await uow.mediators.by_ids(list(case.holder_ids()))
    return await ctx.send(feedback_messages(now, ctx.policy, [case], people))
