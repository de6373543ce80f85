"""Graph calendar sync: subscription renewal and the periodic delta round (the fallback).

The calendar adapter exposes them as plain async functions; the app hands them to the
job context under these names when the calendar is Microsoft Graph.
"""

from __future__ import annotations

from jobs.base import JobContext

RENEW_ID = "sopu.graph_renew"
DELTA_ID = "sopu.graph_delta"


async def renew(ctx: JobContext) -> int:
    task = ctx.graph_tasks.get(RENEW_ID)
    if task is not None:
        await task()
    return 0


async def delta(ctx: JobContext) -> int:
    task = ctx.graph_tasks.get(DELTA_ID)
    if task is not None:
        await task()
    return 0
