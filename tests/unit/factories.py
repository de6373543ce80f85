"""Small builders for domain objects in tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from mediation.model import Case, Intake, Mediator, Role
from mediation.policy import BankPolicy

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def aad() -> str:
    return str(uuid.uuid4())


def mediator(
    name: str = "Maija Mediator",
    *,
    id: int | None = None,
    experienced: bool = True,
    languages: str = "fi",
    role: Role = Role.MEDIATOR,
    active: bool = True,
    completed: int = 0,
) -> Mediator:
    return Mediator(
        aad_object_id=aad(),
        name=name,
        email=f"{name.split()[0].lower()}@example.org",
        employer="Keski-Uusimaa",
        languages=frozenset(languages.split()),
        role=role,
        experienced_mark=experienced,
        active=active,
        completed_cases=completed,
        id=id,
    )


def intake(language: str = "fi", interpreter: bool = False, safety: bool = False) -> Intake:
    return Intake(
        area="Hyvinkää",
        language=language,
        interpreter=interpreter,
        child_birth_years=(2017, 2020),
        topics=("custody", "contact"),
        preferred_times=("tue_afternoon",),
        referral_source="child_welfare_supervisor",
        safety_concern=safety,
    )


def case(
    id: int = 1, language: str = "fi", interpreter: bool = False, safety: bool = False
) -> Case:
    c = Case.new("2026-001", intake(language, interpreter, safety), 99, NOW, BankPolicy())
    c.id = id
    return c


FORM: dict[str, object] = {
    "area": "Järvenpää",
    "language": "fi",
    "interpreter": "false",
    "children": "2017, 2020",
    "topics": "custody,contact",
    "preferred_times": "tue_afternoon,thu_morning",
    "referral_source": "child_welfare_supervisor",
    "safety_concern": "false",
    "parent1_name": "Aino Virtanen",
    "parent1_phone": "040 123 4567",
    "parent1_email": "aino@example.org",
    "parent2_name": "Mikko Virtanen",
    "parent2_phone": "+358 50 765 4321",
    "parent2_email": "",
}
