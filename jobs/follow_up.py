"""Follow-up reminder: before the follow-up meeting is due, if it is not booked."""

from __future__ import annotations

from datetime import datetime

from jobs.base import JobContext
from mediation.journal import CaseEventKind
from mediation.model import Case, CaseStatus
from mediation.reminders import follow_up_messages

JOB_ID = "sopu.follow_up"


async def run(ctx: JobContext) -> int:
    now = ctx.clock.now()
    uow = ctx.uow_factory()
    async with uow:
        cases = await uow.cases.with_status([CaseStatus.FOLLOW_UP])
        agreed: list[tuple[Case, datetime]] = []
        for case in cases:
            assert case.id is not None
            events = await uow.journal.case_events(case.id)
            moved = [e.at for e in events if e.kind is CaseEventKind.FOLLOW_UP]
            if moved:
                agreed.append((case, moved[-1]))
        people = await uow.mediators.by_ids([h for c in cases for h in c.holder_ids()])
    messages = follow_up_messages(now, ctx.bank, ctx.policy, ctx.days, agreed, people)
    return await ctx.send(messages)
