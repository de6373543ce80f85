"""Contact requests: each new one goes to the coordinators; a family left uncalled is escalated."""

from __future__ import annotations

from jobs.base import JobContext
from mediation.request_queue import announce_messages, escalation_messages
from mediation.requests import ContactRequest, in_taken_grace

JOB_ID = "sopu.contact_requests"


async def announce(ctx: JobContext, request: ContactRequest) -> int:
    """The coordinators' cards of one new request, queued at once by the contact page."""
    uow = ctx.uow_factory()
    async with uow:
        coordinators = await uow.mediators.coordinators()
    return await ctx.send(
        announce_messages(request, coordinators, ctx.bank.local_date(request.created_at))
    )


async def run(ctx: JobContext) -> int:
    if ctx.requests is None:
        return 0
    waiting = await ctx.requests.queue()
    if not waiting:
        return 0
    uow = ctx.uow_factory()
    async with uow:
        coordinators = await uow.mediators.coordinators()
    now = ctx.clock.now()
    today = ctx.bank.local_date(now)
    found = [m for r in waiting for m in announce_messages(r, coordinators, today)]
    found += escalation_messages(
        today,
        [r for r in waiting if not in_taken_grace(r, now, ctx.front_door)],
        coordinators,
        ctx.front_door,
        ctx.days.is_holiday,
        ctx.bank.local_date,
    )
    return await ctx.send(found)
