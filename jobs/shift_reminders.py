"""The worker of a walk-in shift or a phone hour is reminded the day before."""

from __future__ import annotations

from jobs.base import JobContext
from jobs.walk_in_rota import walk_in_deps
from mediation.services.walk_in import remind

JOB_ID = "sopu.shift_reminders"


async def run(ctx: JobContext) -> int:
    """One reminder per shift, day and worker; a second run adds nothing."""
    added = await remind(ctx.uow_factory(), walk_in_deps(ctx))
    if added:
        ctx.wake()
    return added
