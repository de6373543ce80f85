"""The organisations of the network: who lends its workers' hours to the bank, and until when.

A mediator's employer in the registry names an organisation. An organisation's agreement
period bounds the new seats its members may take; cases they already hold run on. Where
the network has agreed a yearly hours commitment, its hours given are set against that;
otherwise against the bank's estimate for each active member.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from mediation import errors
from mediation.model import Mediator

# Without an agreed commitment an organisation grants each of its mediators about this many
# hours a year (4 packages and the 3 joint meetings).
HOURS_PER_MEDIATOR = 60
NAME_MAX = 200
HOURS_MAX = 100_000


class OrganisationKind(enum.StrEnum):
    MUNICIPALITY = "municipality"
    WELLBEING_COUNTY = "wellbeing_county"  # hyvinvointialue
    PARISH = "parish"
    NGO = "ngo"
    PRIVATE = "private"


def organisation_key(name: str) -> str:
    """Registry rows name their employer by hand: case and spacing do not make another one."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Organisation:
    name: str
    kind: OrganisationKind | None = None  # unknown until a coordinator says
    agreement_start: date | None = None
    agreement_end: date | None = None  # inclusive: the last day in the network
    yearly_hours: int | None = None  # the hours a year the network agreed with it, if any
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > NAME_MAX:
            raise errors.InvalidInput("organisation", "required")
        if (
            self.agreement_start is not None
            and self.agreement_end is not None
            and self.agreement_end < self.agreement_start
        ):
            raise errors.InvalidInput("agreement", "the period ends before it starts")
        if self.yearly_hours is not None and not 0 <= self.yearly_hours <= HOURS_MAX:
            raise errors.InvalidInput("yearly_hours", "not a number of hours")

    def in_network(self, day: date) -> bool:
        """Within its agreement period (an open end: until further notice)."""
        if self.agreement_start is not None and day < self.agreement_start:
            return False
        return self.agreement_end is None or day <= self.agreement_end


def check_in_network(mediator: Mediator, organisation: Organisation | None, today: date) -> None:
    """A member of an organisation outside its agreement period takes no new seats."""
    if organisation is None or organisation.in_network(today):
        return
    raise errors.OrganisationOutOfNetwork(mediator.name, organisation.name)


@dataclass(frozen=True)
class OrganisationHours:
    """An organisation's year: its members' held hours against what it committed."""

    name: str
    kind: OrganisationKind | None
    members: int  # active mediators in the registry
    packages: int  # seats its members took this year
    hours: float
    committed: int
    agreed: bool  # the commitment was agreed (else the bank's estimate per member)
    in_network: bool


def organisation_hours(
    organisations: Iterable[Organisation],
    active: Sequence[Mediator],
    minutes_by_employer: dict[str, int],
    packages_by_mediator: dict[int, int],
    today: date,
) -> list[OrganisationHours]:
    """Each organisation's hours given and packages taken against its commitment, by name.

    Employers of the registry that have no organisation row yet are counted as ones with no
    agreed commitment, so that nobody's hours go missing.
    """
    known = {organisation_key(o.name): o for o in organisations}
    members = Counter(organisation_key(m.employer) for m in active)
    names: dict[str, str] = {k: o.name for k, o in known.items()}
    for m in active:
        names.setdefault(organisation_key(m.employer), m.employer.strip())
    minutes: Counter[str] = Counter()
    for employer, held in minutes_by_employer.items():
        minutes[organisation_key(employer)] += held
        names.setdefault(organisation_key(employer), employer.strip())
    packages: Counter[str] = Counter()
    for m in active:
        packages[organisation_key(m.employer)] += packages_by_mediator.get(m.id or 0, 0)
    rows = []
    for key, name in names.items():
        org = known.get(key)
        agreed = org is not None and org.yearly_hours is not None
        committed = (
            org.yearly_hours
            if org is not None and org.yearly_hours is not None
            else members[key] * HOURS_PER_MEDIATOR
        )
        rows.append(
            OrganisationHours(
                name=name,
                kind=org.kind if org else None,
                members=members[key],
                packages=packages[key],
                hours=minutes[key] / 60,
                committed=committed,
                agreed=agreed,
                in_network=org.in_network(today) if org else True,
            )
        )
    return sorted(rows, key=lambda r: r.name.casefold())


class OrganisationRepository(Protocol):
    """The network's organisations, inside a unit of work."""

    async def list(self) -> list[Organisation]: ...

    async def by_name(self, name: str) -> Organisation | None:
        """The organisation a registry's employer names (case and spacing aside)."""
        ...

    async def save(self, organisation: Organisation) -> Organisation:
        """Add it, or update the one of the same name; returns it with its id."""
        ...
