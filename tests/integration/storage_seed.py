"""Builders that put mediators and cases into a real database for storage tests."""

from __future__ import annotations

from datetime import UTC, datetime

from mediation.model import Case, Child, Family, Mediator, Parent, Role
from mediation.policy import BankPolicy
from storage.uow import SqlUnitOfWork
from tests.unit.factories import intake, mediator

POLICY = BankPolicy()
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FAMILY = Family(
    parents=(
        Parent("Aino Virtanen", "040 123 4567", "aino@example.org", "Järvenpää", "fi"),
        Parent("Mikko Virtanen", "+358 50 765 4321", "", "Järvenpää", "fi"),
    ),
    children=(Child(2017, "Eelis"), Child(2020, "Iida")),
)


async def add_mediators(uow: SqlUnitOfWork, *people: Mediator) -> list[Mediator]:
    async with uow:
        stored = [await uow.mediators.add(m) for m in people]
        await uow.commit()
    return stored


async def add_coordinator(uow: SqlUnitOfWork) -> Mediator:
    (coordinator,) = await add_mediators(
        uow, mediator("Kaisa Koordinaattori", role=Role.COORDINATOR)
    )
    return coordinator


async def add_case(
    uow: SqlUnitOfWork,
    created_by: int,
    *,
    code: str | None = None,
    at: datetime = NOW,
    language: str = "fi",
) -> Case:
    async with uow:
        code = code or await uow.cases.next_code(at.year)
        case = Case.new(code, intake(language), created_by, at, POLICY)
        stored = await uow.cases.add(case, FAMILY)
        await uow.commit()
    return stored
