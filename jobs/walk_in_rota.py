"""The walk-in shifts and phone hours of the coming weeks, filled from the fair rota
(mediation/walk_in.py); no shift on a public holiday."""

from __future__ import annotations

from jobs.base import JobContext
from mediation.services.walk_in import WalkInDeps, fill

JOB_ID = "sopu.walk_in_rota"


def walk_in_deps(ctx: JobContext) -> WalkInDeps:
    return WalkInDeps(ctx.clock, ctx.bank, ctx.walk_in, ctx.days.is_holiday)


async def run(ctx: JobContext) -> int:
    """One shift per window and day; a second run adds nothing and keeps who staffs what."""
    return await fill(ctx.uow_factory(), walk_in_deps(ctx))
