"""Common times in SQL: every stage kept as the domain left it, and racing saves refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from mediation.case_types import Step
from mediation.common_time import (
    CommonTime,
    JointPlan,
    Place,
    PlanAction,
    Status,
    TeamMember,
)
from mediation.consent import Consent, ConsentException
from mediation.errors import ConcurrentChange
from mediation.model import Role
from mediation.organisations import Organisation, OrganisationKind
from storage.repositories.common_times import SqlCommonTimes
from storage.uow import SqlUnitOfWork
from tests.integration.storage_seed import add_mediators
from tests.unit.factories import mediator

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COUNTY = Organisation("Pohjois-Savon hyvinvointialue", OrganisationKind.WELLBEING_COUNTY)


async def people(uow: SqlUnitOfWork) -> dict[str, TeamMember]:
    stored = await add_mediators(
        uow,
        mediator("Noora Neuvola"),
        mediator("Kalle Kasvatus"),
        mediator("Pia Puhe"),
        mediator("Kaija Kasvatus"),
        mediator("Kaisa Koordinaattori", role=Role.COORDINATOR),
    )
    skills = ["child_health_clinic", "family_counselling", "speech_therapy", "family_counselling"]
    team = {
        m.name.split()[0].lower(): TeamMember(m.id or 0, m.name, frozenset({s}), COUNTY)
        for m, s in zip(stored, skills, strict=False)
    }
    team["kaisa"] = TeamMember(stored[4].id or 0, stored[4].name, frozenset(), COUNTY)
    return team


async def test_a_common_time_is_kept_through_every_stage(
    uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    uow = uow_factory()
    team = await people(uow)
    nurse, kalle, pia, kaija = team["noora"], team["kalle"], team["pia"], team["kaija"]
    async with uow:
        times = SqlCommonTimes(uow.session)
        code = await times.next_code(2026)
        assert code == "2026-Y001"
        ct = CommonTime.convene(
            code, nurse, "Kuopio", ("family_counselling", "speech_therapy"), NOW
        )
        ct.ask_exception(ConsentException(Step.SHARE_PLAN, "The school needs it", nurse.id, NOW))
        ct.record_consent(Consent(frozenset({Step.CONVENE}), nurse.id, NOW))
        ct.invite(kalle, "family_counselling", NOW)
        ct.invite(pia, "speech_therapy", NOW)
        await times.add(ct)
        await uow.commit()
    assert ct.id is not None
    async with uow:
        times = SqlCommonTimes(uow.session)
        assert await times.next_code(2026) == "2026-Y002"
        loaded = await times.get(ct.id)
        assert loaded == ct
        assert loaded is not None
        loaded.answer(kalle.id, False, NOW + timedelta(hours=1))
        loaded.answer(pia.id, True, NOW + timedelta(hours=1))
        loaded.invite(kaija, "family_counselling", NOW + timedelta(hours=2))
        loaded.answer(kaija.id, True, NOW + timedelta(hours=3))
        start = NOW + timedelta(days=7)
        loaded.book(start, "sali@example.org", NOW)
        loaded.record_held(start + timedelta(minutes=1))
        loaded.name_responsible([kaija])
        coordinator = mediator("Kaisa Koordinaattori", id=team["kaisa"].id, role=Role.COORDINATOR)
        loaded.approve_exception(Step.SHARE_PLAN, coordinator, NOW + timedelta(days=1))
        plan = JointPlan(
            "Mornings",
            (
                PlanAction(Place.HOME, "Routine"),
                PlanAction(Place.ELSEWHERE, "Visits", where="Puheterapia"),
            ),
            "A call",
            "Phone",
            date(2026, 4, 15),
            frozenset({pia.id}),
        )
        loaded.record_plan(plan, nurse.id, date(2026, 3, 10))
        loaded.mark_action(kaija.id, 1, True)
        await times.save(loaded)
        await uow.commit()
    async with uow:
        times = SqlCommonTimes(uow.session)
        again = await times.get(ct.id)
        assert again == loaded and again is not None
        assert again.status is Status.FOLLOW_UP and again.version == loaded.version
        assert [i.answer.value for i in again.invitations] == ["declined", "accepted", "accepted"]
        assert again.plan is not None and [a.done for a in again.plan.actions] == [None, True]
        assert again.exceptions[0].approved_by == team["kaisa"].id
        assert [c.code for c in await times.for_person(kaija.id)] == [ct.code]
        assert [c.code for c in await times.for_person(kalle.id)] == [ct.code]  # declined
        assert await times.for_person(team["kaisa"].id) == []
        assert [c.code for c in await times.with_status([Status.FOLLOW_UP])] == [ct.code]
        assert await times.with_status([Status.CONVENING]) == []


async def test_of_two_saves_of_one_reading_the_second_is_refused(
    uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    uow = uow_factory()
    team = await people(uow)
    async with uow:
        ct = CommonTime.convene("2026-Y001", team["noora"], "Kuopio", ("family_counselling",), NOW)
        ct.record_consent(Consent(frozenset({Step.CONVENE}), team["noora"].id, NOW))
        ct.invite(team["kalle"], "family_counselling", NOW)
        await SqlCommonTimes(uow.session).add(ct)
        await uow.commit()
    assert ct.id is not None
    # Two people read the same case; one saves, then the other's copy is stale.
    async with uow:
        one = await SqlCommonTimes(uow.session).get(ct.id)
    async with uow:
        other = await SqlCommonTimes(uow.session).get(ct.id)
    assert one is not None and other is not None
    one.answer(team["kalle"].id, True, NOW)
    other.answer(team["kalle"].id, False, NOW)
    async with uow:
        await SqlCommonTimes(uow.session).save(one)
        await uow.commit()
    async with uow:
        with pytest.raises(ConcurrentChange):
            await SqlCommonTimes(uow.session).save(other)
    async with uow:
        kept = await SqlCommonTimes(uow.session).get(ct.id)
        assert kept is not None and kept.invitations[0].answer.value == "accepted"
        assert kept.version == one.version == ct.version + 1
