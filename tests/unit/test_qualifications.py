"""Qualifications in the registry: read from its file, kept, and asked of a seat's holder."""

from __future__ import annotations

import pytest

from mediation import errors, services
from mediation.case_types import CaseType, SeatSpec
from mediation.model import Case, Family, Parent, Role
from mediation.registry import RegistryFileError, parse_registry
from tests.unit.factories import NOW, intake, mediator
from tests.unit.test_services import Bank, P

HEADER = "aad_object_id,name,email,employer,languages,experienced,role,active"
AINO = "11111111-1111-4111-8111-111111111111,Aino,aino@example.org,Kuopio,fi,yes,mediator,yes"
# A consultation of two psychologists: a type whose seats ask for a qualification.
CONSULTATION = CaseType(
    "consultation",
    (SeatSpec("expert", frozenset({"psychology"})), SeatSpec("expert", frozenset({"psychology"}))),
    min_experienced=0,
)


def test_the_file_may_name_qualifications_and_without_the_column_names_none() -> None:
    (row,) = parse_registry(f"{HEADER}\n{AINO}\n")
    assert row.qualifications is None  # left as they are
    (row,) = parse_registry(f"{HEADER},qualifications\n{AINO},Psychology  family_work\n")
    assert row.qualifications == {"psychology", "family_work"}
    semicolons = f"{HEADER},qualifications\n{AINO},\n".replace(",", ";")
    (row,) = parse_registry(semicolons)
    assert row.qualifications == frozenset()  # named empty: none
    with pytest.raises(RegistryFileError) as exc:
        parse_registry(f"{HEADER},qualifications\n{AINO},astrology\n")
    assert [(p.line, p.column) for p in exc.value.problems] == [(2, "qualifications")]


async def test_the_import_keeps_qualifications_and_journals_their_change() -> None:
    bank = Bank()
    rows = parse_registry(f"{HEADER},qualifications\n{AINO},psychology\n")
    report = await services.import_registry(rows, bank.uow, bank.clock)
    assert report.created == ["Aino"]
    async with bank.uow:
        aino = await bank.uow.mediators.by_aad(rows[0].aad_object_id)
        assert aino is not None and aino.id is not None
        assert await bank.uow.qualifications.of([aino.id]) == {aino.id: {"psychology"}}
    again = await services.import_registry(rows, bank.uow, bank.clock)
    assert again.unchanged == ["Aino"]
    without = parse_registry(f"{HEADER}\n{AINO}\n")
    assert (await services.import_registry(without, bank.uow, bank.clock)).unchanged == ["Aino"]
    changed = parse_registry(f"{HEADER},qualifications\n{AINO},psychology child_welfare\n")
    assert (await services.import_registry(changed, bank.uow, bank.clock)).updated == ["Aino"]
    async with bank.uow:
        held = await bank.uow.qualifications.of([aino.id])
        events = [e.change for e in bank.uow.stage.mediator_events if e.mediator_id == aino.id]
    assert held == {aino.id: {"psychology", "child_welfare"}}
    assert events[-1] == {"qualifications": "child_welfare psychology"}


async def test_a_seat_that_asks_a_qualification_takes_only_those_who_have_it() -> None:
    bank = Bank()
    coord = await bank.add("coord", mediator("Kaisa Koordinaattori", role=Role.COORDINATOR))
    plain = await bank.add("plain", mediator("Olli Kokenut"))
    psych = await bank.add("psych", mediator("Pia Psykologi"))
    assert coord.id and plain.id and psych.id
    family = Family((Parent("Aino Virtanen", "040 123 4567", ""),))
    async with bank.uow:
        await bank.uow.qualifications.set(psych.id, frozenset({"psychology"}))
        case = await bank.uow.cases.add(
            Case.new("2026-050", intake(), coord.id, NOW, P, CONSULTATION), family
        )
        await bank.uow.commit()
    assert case.id is not None
    before = await bank.events(case.id)
    with pytest.raises(errors.NotQualified) as exc:
        await bank.claim("plain", case.id)
    assert exc.value.params == {"name": "Olli Kokenut", "role": "expert", "missing": "psychology"}
    with pytest.raises(errors.NotQualified):
        await services.assign_seat(
            services.AssignSeat(bank.aad("coord"), case.id, plain.id),
            bank.uow,
            bank.notifier,
            bank.clock,
            P,
        )
    assert await bank.events(case.id) == before
    assert (await bank.claim("psych", case.id)).changed
