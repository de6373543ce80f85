"""Calendar retries: meetings saved while the calendar was down reach it later."""

from __future__ import annotations

from jobs.base import JobContext

JOB_ID = "sopu.calendar_push"


async def run(ctx: JobContext) -> int:
    """Push every pending booking, move or cancellation (``mediation.calendar.push_pending``).

    Nothing is sent to Teams, so the count is not of new outbox messages: it is logged as
    the changes that went through.
    """
    if ctx.push_calendar is None:
        return 0
    return await ctx.push_calendar()
