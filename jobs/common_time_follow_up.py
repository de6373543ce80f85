"""The common time's follow-up: the responsible worker is reminded as the plan's next
contact nears, until a follow-up meeting is booked (mediation/common_time.py)."""

from __future__ import annotations

from jobs.base import JobContext
from mediation.services.common_time import follow_up_reminders

JOB_ID = "sopu.common_time_follow_up"


async def run(ctx: JobContext) -> int:
    """One reminder per plan and next contact date; a second run adds nothing."""
    now = ctx.clock.now()
    added = await follow_up_reminders(ctx.uow_factory(), ctx.bank.local_date(now), now)
    if added:
        ctx.wake()
    return added
