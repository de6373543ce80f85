"""The retention purge of common times, on SQLite and PostgreSQL: the texts about a family
are overwritten a set time after the common time ended; what the statistics count stays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.case_types import Step
from mediation.common_time import (
    COMMON_TIME_KIND,
    Answer,
    EventState,
    Invitation,
    JointPlan,
    Meeting,
    Place,
    PlanAction,
    Status,
    common_time_figures,
)
from mediation.policy import BankPolicy
from mediation.services import common_time as ct
from storage.models_common_time import CommonTimeRow, ConsentExceptionRow, PlanActionRow
from storage.uow import SqlUnitOfWork
from tests.integration.storage_seed import add_mediators
from tests.integration.test_common_time_races import NOW, deps
from tests.unit.factories import mediator

SECRET = "Isä juo, lapsi pelkää iltaisin"


async def test_an_ended_common_time_keeps_its_figures_and_loses_its_texts(
    uow_factory: Callable[[], SqlUnitOfWork], sessions: async_sessionmaker[AsyncSession]
) -> None:
    d = deps(sessions)
    convener, worker = await add_mediators(
        uow_factory(), mediator("Cecilia Kokoon"), mediator("Dan Dahl")
    )
    assert convener.id is not None and worker.id is not None
    view = await ct.convene(
        ct.Convene(
            convener.aad_object_id,
            "Kerava",
            frozenset({"family_work"}),
            frozenset(),
            justification=SECRET,
        ),
        uow_factory(),
        d,
    )
    # The rest of its life, straight into the store: held, a plan, followed up, closed.
    uow = uow_factory()
    async with uow:
        stored = await uow.common_times.get(view.id)
        assert stored is not None
        stored.invitations.append(Invitation(worker.id, "family_work", NOW, Answer.ACCEPTED, NOW))
        start = NOW + timedelta(days=2)
        stored.meetings.append(
            Meeting(COMMON_TIME_KIND, start, start + timedelta(minutes=90), "Huone 1", True,
                    calendar=EventState.SYNCED)
        )  # fmt: skip
        stored.responsible_ids = (worker.id,)
        stored.plan = JointPlan(
            SECRET,
            (PlanAction(Place.ELSEWHERE, SECRET, "Perheneuvola", True),),
            SECRET,
            SECRET,
            date(2026, 4, 1),
        )
        stored.status, stored.ended_at = Status.CLOSED, NOW + timedelta(days=40)
        await uow.common_times.save(stored)
        await uow.commit()
    before = await _figures(uow_factory)

    kept = NOW + timedelta(days=40 + 729)
    assert await ct.erase_ended(uow_factory(), kept, 730) == 0
    later = NOW + timedelta(days=40 + 731)
    assert await ct.erase_ended(uow_factory(), later, 730) == 1
    assert await ct.erase_ended(uow_factory(), later, 730) == 0

    async with sessions() as session:
        texts = [
            *(
                await session.execute(
                    select(
                        CommonTimeRow.plan_matters,
                        CommonTimeRow.plan_follow_up_how,
                        CommonTimeRow.plan_family_reaches_worker,
                    )
                )
            ).all(),
            *(await session.execute(select(PlanActionRow.what))).all(),
            *(await session.execute(select(ConsentExceptionRow.justification))).all(),
        ]
    assert texts and all(SECRET not in str(row) for row in texts)
    assert await _figures(uow_factory) == before
    uow = uow_factory()
    async with uow:
        erased = await uow.common_times.get(view.id)
        journal = await uow.common_times.journal(view.id)
    assert erased is not None and erased.purged_at == later and erased.followed_up()
    assert [e.kind for e in journal][-1] == "purged"
    assert Step.CONVENE in {e.step for e in erased.exceptions}


async def _figures(uow_factory: Callable[[], SqlUnitOfWork]) -> object:
    uow = uow_factory()
    async with uow:
        found = await uow.common_times.with_status(list(Status))
    return common_time_figures(found, 2026, BankPolicy().local_date)
