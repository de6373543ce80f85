"""Contact requests' retention: what never became a case is erased after a set time.

A request linked to a case follows its case: once the retention purge has erased the
family's data, the request's name and contact details go too.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from jobs.base import JobContext
from mediation.model import CaseStatus

log = logging.getLogger(__name__)

JOB_ID = "sopu.request_retention"


async def run(ctx: JobContext) -> int:
    if ctx.requests is None:
        return 0
    cutoff = ctx.clock.now() - timedelta(days=ctx.front_door.retention_days)
    erased = await ctx.requests.erase_unlinked(cutoff)
    uow = ctx.uow_factory()
    async with uow:
        ended = await uow.cases.with_status([CaseStatus.CLOSED, CaseStatus.CANCELLED])
        purged = [c.id for c in ended if c.id is not None and await uow.cases.family(c.id) is None]
    erased += await ctx.requests.forget_details_of_cases(purged)
    if erased:
        log.info("request retention: erased %d contact requests' details", erased)
    return erased
