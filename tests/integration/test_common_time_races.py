"""Common times under racing clicks, on SQLite and PostgreSQL: two conveners at once get two
codes, and two invitees answering at once both have their answers kept."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.holidays import finnish_closed_days
from graph.local import LocalCalendar
from mediation.calendar.policy import MeetingPolicy
from mediation.case_types import Step
from mediation.common_time import Answer
from mediation.policy import BankPolicy
from mediation.services import common_time as ct
from storage.calendar import LocalEventStore
from storage.uow import SqlUnitOfWork
from tests.clock import FixedClock
from tests.integration.storage_seed import add_mediators
from tests.unit.factories import mediator

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Words:
    def subject(self, code: str, kind: str) -> str:
        return code

    def body(self, code: str) -> str:
        return code

    def cancel_comment(self, code: str) -> str:
        return code


def deps(sessions: async_sessionmaker[AsyncSession]) -> ct.CommonTimeDeps:
    clock = FixedClock(NOW)
    events = LocalEventStore(sessions, clock)
    mp = MeetingPolicy()
    return ct.CommonTimeDeps(
        clock,
        BankPolicy(),
        LocalCalendar(events, mp.working_hours),
        mp,
        Words(),
        finnish_closed_days,
    )


async def test_two_conveners_at_once_get_two_codes(
    uow_factory: Callable[[], SqlUnitOfWork], sessions: async_sessionmaker[AsyncSession]
) -> None:
    d = deps(sessions)
    a, b = await add_mediators(uow_factory(), mediator("Aino Avustaja"), mediator("Bea Bertta"))
    made = await asyncio.gather(
        *(
            ct.convene(
                ct.Convene(
                    p.aad_object_id, "Kerava", frozenset({"family_work"}), frozenset({Step.CONVENE})
                ),
                uow_factory(),
                d,
            )
            for p in (a, b)
        )
    )
    assert sorted(v.code for v in made) == ["2026-Y001", "2026-Y002"]


async def test_two_invitees_answering_at_once_are_both_kept(
    uow_factory: Callable[[], SqlUnitOfWork], sessions: async_sessionmaker[AsyncSession]
) -> None:
    d = deps(sessions)
    convener, *team = await add_mediators(
        uow_factory(), mediator("Cecilia Kokoon"), mediator("Dan Dahl"), mediator("Eero Esko")
    )
    uow = uow_factory()
    async with uow:
        for person in team:
            assert person.id is not None
            await uow.qualifications.set(person.id, frozenset({"family_work", "psychology"}))
        await uow.commit()
    view = await ct.convene(
        ct.Convene(
            convener.aad_object_id,
            "Kerava",
            frozenset({"family_work", "psychology"}),
            frozenset({Step.CONVENE}),
        ),
        uow_factory(),
        d,
    )
    for person, competence in zip(team, ("family_work", "psychology"), strict=True):
        assert person.id is not None
        await ct.invite(convener.aad_object_id, view.id, person.id, competence, uow_factory(), d)
    answers = await asyncio.gather(
        *(ct.answer(p.aad_object_id, view.id, True, uow_factory(), d) for p in team)
    )
    assert answers == [True, True]
    uow = uow_factory()
    async with uow:
        stored = await uow.common_times.get(view.id)
    assert stored is not None
    assert [i.answer for i in stored.invitations] == [Answer.ACCEPTED, Answer.ACCEPTED]
