"""Retention purge: a family's identifying data is erased a set time after the case ended.

The case, its seats, meetings and events stay for the statistics; the purge is written to
the case's audit trail.
"""

from __future__ import annotations

import logging

from jobs.base import JobContext
from mediation.journal import CaseEvent, CaseEventKind
from mediation.model import CaseStatus
from mediation.reminders import due_for_purge
from mediation.services import common_time

log = logging.getLogger(__name__)

JOB_ID = "sopu.retention"


async def run(ctx: JobContext) -> int:
    now = ctx.clock.now()
    uow = ctx.uow_factory()
    purged = 0
    async with uow:
        ended = await uow.cases.with_status([CaseStatus.CLOSED, CaseStatus.CANCELLED])
        for case in due_for_purge(now, ctx.policy, ended):
            assert case.id is not None
            if await uow.cases.family(case.id) is None:
                continue  # purged before
            await uow.cases.erase_family(case.id)
            await uow.journal.case_event(
                CaseEvent(
                    case.id,
                    CaseEventKind.PURGED,
                    None,
                    now,
                    {"retention_days": ctx.policy.retention_days},
                )
            )
            purged += 1
        await uow.commit()
    if purged:
        log.info("retention: erased the family data of %d cases", purged)
    erased = await common_time.erase_ended(ctx.uow_factory(), now, ctx.policy.retention_days)
    if erased:
        log.info("retention: erased the texts of %d common times", erased)
    return purged + erased
